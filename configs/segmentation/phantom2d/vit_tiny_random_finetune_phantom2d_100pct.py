# Baseline on the chest phantom radiographs (7 findings + background): fine-tuning from a
# random initialisation (no pre-training), 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_finetune_phantom2d_100pct.py']
model = dict(backbone=dict(pretrained=None))
