# Fine-tuning (encoder, neck and UPerHead) on SIIM-ACR pneumothorax, 1 % of the training
# labels (a stratified draw with a fixed seed; the list is written to
# <work_dir>/sample_lists/train.txt).
_base_ = ['./vit_b_unimedi_finetune_siim_100pct.py']
train_dataloader = dict(dataset=dict(data_fraction=0.01))
