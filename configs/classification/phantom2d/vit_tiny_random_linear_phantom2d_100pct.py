# Baseline: linear probe on the chest phantom radiographs (7 findings),
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_linear_phantom2d_100pct.py']
model = dict(pretrained=None)
