# Baseline: linear probe on the pneumonia X-ray folder,
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_linear_cxrpneumonia_100pct.py']
model = dict(pretrained=None)
