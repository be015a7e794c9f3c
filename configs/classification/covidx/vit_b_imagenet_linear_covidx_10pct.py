# Baseline (the paper's Table 1 "ImageNet" row): linear probe on COVIDx
# of the frozen ImageNet ViT-B/16, 10 % of the training labels (a stratified draw with a
# fixed seed).
_base_ = ['./vit_b_imagenet_linear_covidx_100pct.py']
train_dataloader = dict(dataset=dict(data_fraction=0.1))
