# Baseline: 3D segmentation, fine-tuning of the encoder with the UNETR decoder, on
# the one real CT of data/ct (6 organs; fitted and tested on that volume),
# with no pre-training (trained from a random init), 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_finetune_ctorgans_100pct.py']
model = dict(pretrained=None)
# the prediction as NIfTI on the input file's grid (work dir of tools/train.py's default)
test_evaluator = dict(type='SegDiceMetric',
                      output_dir='work_dirs/{{fileBasenameNoExtension}}/predictions')
