# Baseline: 3D segmentation, frozen encoder (only the UNETR decoder learns), on
# BCV (background + 13 abdominal organs),
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_b_unimedi_frozen_bcv_100pct.py']
model = dict(pretrained=None)
