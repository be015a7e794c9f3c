# 3D segmentation, fine-tuning of the encoder with the UNETR decoder, on
# the chest phantom CTs (background + 7 findings, 3D),
# 1 % of the training labels (a seeded draw; the list is written to
# <work_dir>/sample_lists/train.txt).
_base_ = ['./vit_tiny_unimedi_finetune_phantom3d_100pct.py']
train_dataloader = dict(dataset=dict(data_fraction=0.01))
