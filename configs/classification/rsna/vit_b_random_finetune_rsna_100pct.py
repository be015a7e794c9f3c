# Baseline: fine-tuning on RSNA Pneumonia (binary),
# with no pre-training (trained from a random init), 100 % of the training labels.
_base_ = ['./vit_b_unimedi_finetune_rsna_100pct.py']
model = dict(pretrained=None)
