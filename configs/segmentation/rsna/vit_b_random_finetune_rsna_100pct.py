# Baseline on RSNA pneumonia (boxes as masks): fine-tuning from a random initialisation (no
# pre-training), 100 % of the training labels.
_base_ = ['./vit_b_unimedi_finetune_rsna_100pct.py']
model = dict(backbone=dict(pretrained=None))
