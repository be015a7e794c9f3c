# UNETR's schedule on BCV with a frozen encoder: the 2000-iteration frozen schedule at AdamW
# 1e-4 for 25k iterations, 500 warm-up iterations then cosine, validation every 500 (the
# leaf sets the checkpoint interval to match).
_base_ = ['./seg3d_frozen.py']
max_iters = 25000
val_interval = 500
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=500),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=500, end=max_iters, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
