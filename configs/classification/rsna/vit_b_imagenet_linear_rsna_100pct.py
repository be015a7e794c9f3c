# Baseline (the paper's Table 1 "ImageNet" row): linear probe on RSNA Pneumonia
# of the frozen ViT-B/16 with ImageNet weights (configs/_base_/models/imagenet_vit_b.py),
# 100 % of the training labels. Naming: configs/classification/README.md.
_base_ = ['./vit_b_unimedi_linear_rsna_100pct.py', '../../_base_/models/imagenet_vit_b.py']
model = dict(pretrained={{_base_.imagenet_pretrained}},
             data_preprocessor={{_base_.imagenet_normalisation}})
