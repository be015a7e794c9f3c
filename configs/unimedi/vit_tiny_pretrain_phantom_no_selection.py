# Ablation: joint 2D + 3D pre-training without slice selection (no 2D tokens of CT slices).
_base_ = ['./vit_tiny_pretrain_phantom.py']
model = dict(slice_selector=None)
