# Baseline on SIIM-ACR pneumothorax: fine-tuning from a random initialisation (no pre-
# training), 100 % of the training labels.
_base_ = ['./vit_b_unimedi_finetune_siim_100pct.py']
model = dict(backbone=dict(pretrained=None))
