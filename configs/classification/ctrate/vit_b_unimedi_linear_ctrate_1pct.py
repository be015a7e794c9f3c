# Linear probe on CT-RATE (18 predicted abnormalities, 3D),
# 1 % of the training labels (a stratified draw with a fixed seed; the
# list is written to <work_dir>/sample_lists/train.txt).
_base_ = ['./vit_b_unimedi_linear_ctrate_100pct.py']
train_dataloader = dict(dataset=dict(data_fraction=0.01))
