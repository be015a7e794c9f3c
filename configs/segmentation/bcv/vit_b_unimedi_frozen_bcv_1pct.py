# 3D segmentation, frozen encoder (only the UNETR decoder learns), on
# BCV (background + 13 abdominal organs),
# 1 % of the training labels (a seeded draw; the list is written to
# <work_dir>/sample_lists/train.txt).
_base_ = ['./vit_b_unimedi_frozen_bcv_100pct.py']
train_dataloader = dict(dataset=dict(data_fraction=0.01))
