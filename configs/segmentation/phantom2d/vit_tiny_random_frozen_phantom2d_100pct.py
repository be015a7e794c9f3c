# Baseline on the chest phantom radiographs (7 findings + background): a randomly
# initialised, frozen encoder (what the head gets from random features), 100 % of the
# training labels.
_base_ = ['./vit_tiny_unimedi_frozen_phantom2d_100pct.py']
model = dict(backbone=dict(pretrained=None))
