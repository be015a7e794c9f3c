# Baseline: 3D segmentation, frozen encoder (only the UNETR decoder learns), on
# the one real CT of data/ct (6 organs; fitted and tested on that volume),
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_frozen_ctorgans_100pct.py']
model = dict(pretrained=None)
# the prediction as NIfTI on the input file's grid (work dir of tools/train.py's default)
test_evaluator = dict(type='SegDiceMetric',
                      output_dir='work_dirs/{{fileBasenameNoExtension}}/predictions')
