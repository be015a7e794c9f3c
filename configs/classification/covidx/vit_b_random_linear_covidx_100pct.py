# Baseline: linear probe on COVIDx (3 classes),
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_b_unimedi_linear_covidx_100pct.py']
model = dict(pretrained=None)
