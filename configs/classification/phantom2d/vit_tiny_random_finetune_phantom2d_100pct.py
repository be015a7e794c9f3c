# Baseline: fine-tuning on the chest phantom radiographs (7 findings),
# with no pre-training (trained from a random init), 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_finetune_phantom2d_100pct.py']
model = dict(pretrained=None)
