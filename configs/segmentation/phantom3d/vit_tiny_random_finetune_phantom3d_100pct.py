# Baseline: 3D segmentation, fine-tuning of the encoder with the UNETR decoder, on
# the chest phantom CTs (background + 7 findings, 3D),
# with no pre-training (trained from a random init), 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_finetune_phantom3d_100pct.py']
model = dict(pretrained=None)
