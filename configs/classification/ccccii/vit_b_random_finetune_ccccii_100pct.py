# Baseline: fine-tuning on CC-CCII CT volumes (3 classes, 3D),
# with no pre-training (trained from a random init), 100 % of the training labels.
_base_ = ['./vit_b_unimedi_finetune_ccccii_100pct.py']
model = dict(pretrained=None)
