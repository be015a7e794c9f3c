# Baseline: linear probe on the pneumonia X-ray folder,
# with a randomly initialised, frozen encoder, 10 % of the training labels.
_base_ = ['./vit_tiny_unimedi_linear_cxrpneumonia_10pct.py']
model = dict(pretrained=None)
