# Frozen encoder (neck and UPerHead trained) on RSNA pneumonia (boxes as masks), 10 % of the
# training labels (a stratified draw with a fixed seed; the list is written to
# <work_dir>/sample_lists/train.txt).
_base_ = ['./vit_b_unimedi_frozen_rsna_100pct.py']
train_dataloader = dict(dataset=dict(data_fraction=0.1))
