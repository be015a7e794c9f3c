# Baseline on RSNA pneumonia (boxes as masks): a randomly initialised, frozen encoder (what
# the head gets from random features), 100 % of the training labels.
_base_ = ['./vit_b_unimedi_frozen_rsna_100pct.py']
model = dict(backbone=dict(pretrained=None))
