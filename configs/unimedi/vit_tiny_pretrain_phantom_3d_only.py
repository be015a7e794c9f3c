# Ablation: pre-train on CTs only (evaluated on the same 2D + 3D test split).
_base_ = ['./vit_tiny_pretrain_phantom.py']
train_dataloader = dict(dataset=dict(modalities=('3d', )))
