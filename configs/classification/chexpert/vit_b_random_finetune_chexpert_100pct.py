# Baseline: fine-tuning on CheXpert (5 competition labels, frontal views),
# with no pre-training (trained from a random init), 100 % of the training labels.
_base_ = ['./vit_b_unimedi_finetune_chexpert_100pct.py']
model = dict(pretrained=None)
