# Baseline: fine-tuning on the pneumonia X-ray folder,
# with no pre-training (trained from a random init), 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_finetune_cxrpneumonia_100pct.py']
model = dict(pretrained=None)
