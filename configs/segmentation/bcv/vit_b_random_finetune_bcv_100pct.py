# Baseline: 3D segmentation, fine-tuning of the encoder with the UNETR decoder, on
# BCV (background + 13 abdominal organs),
# with no pre-training (trained from a random init), 100 % of the training labels.
_base_ = ['./vit_b_unimedi_finetune_bcv_100pct.py']
model = dict(pretrained=None)
