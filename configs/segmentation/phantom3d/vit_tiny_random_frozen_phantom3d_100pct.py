# Baseline: 3D segmentation, frozen encoder (only the UNETR decoder learns), on
# the chest phantom CTs (background + 7 findings, 3D),
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_frozen_phantom3d_100pct.py']
model = dict(pretrained=None)
