# Fine-tuning (encoder, neck and UPerHead) on the chest phantom radiographs (7 findings +
# background), 10 % of the training labels (a stratified draw with a fixed seed; the list is
# written to <work_dir>/sample_lists/train.txt).
_base_ = ['./vit_tiny_unimedi_finetune_phantom2d_100pct.py']
train_dataloader = dict(dataset=dict(data_fraction=0.1))
