# Baseline on SIIM-ACR pneumothorax: a randomly initialised, frozen encoder (what the head
# gets from random features), 100 % of the training labels.
_base_ = ['./vit_b_unimedi_frozen_siim_100pct.py']
model = dict(backbone=dict(pretrained=None))
