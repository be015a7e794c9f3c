# Baseline: linear probe on the chest phantom CTs (7 findings, 3D),
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_linear_phantom3d_100pct.py']
model = dict(pretrained=None)
