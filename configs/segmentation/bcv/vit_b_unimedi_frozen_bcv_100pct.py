# 3D segmentation: frozen encoder (only the UNETR decoder learns),
# with the UniMedI ViT-B/16 encoder, on BCV (background + 13 abdominal organs),
# 100 % of the training labels. Naming: configs/segmentation/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_b_segmentor3d.py',
    '../../_base_/datasets/seg_bcv.py',
    '../../_base_/schedules/seg3d_frozen.py',
    '../../_base_/seg3d_runtime.py',
]
model = dict(frozen=True, decode_head=dict(num_classes=14),
             infer_cfg=dict(roi_size={{_base_.roi}}, sw_batch_size=4, overlap=0.5))
# UNETR's schedule on BCV: AdamW 1e-4, 25k iterations, validation every 500
max_iters = 25000
val_interval = 500
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=500, end=max_iters, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(checkpoint=dict(interval=val_interval))
