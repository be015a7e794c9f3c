# Baseline: fine-tuning on COVIDx (3 classes),
# with no pre-training (trained from a random init), 100 % of the training labels.
_base_ = ['./vit_b_unimedi_finetune_covidx_100pct.py']
model = dict(pretrained=None)
