# Baseline: linear probe on RSNA Pneumonia (binary),
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_b_unimedi_linear_rsna_100pct.py']
model = dict(pretrained=None)
