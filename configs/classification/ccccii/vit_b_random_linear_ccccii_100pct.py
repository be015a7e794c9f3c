# Baseline: linear probe on CC-CCII CT volumes (3 classes, 3D),
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_b_unimedi_linear_ccccii_100pct.py']
model = dict(pretrained=None)
