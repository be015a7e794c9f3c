# Baseline: linear probe on CheXpert (5 competition labels, frontal views),
# with a randomly initialised, frozen encoder, 100 % of the training labels.
_base_ = ['./vit_b_unimedi_linear_chexpert_100pct.py']
model = dict(pretrained=None)
