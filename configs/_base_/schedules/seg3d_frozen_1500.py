# One volume (the real-CT check, configs/segmentation/ct_organs): the frozen-encoder schedule
# shortened to 1500 iterations on random crops, 50 warm-up iterations, validation every 250
# (the leaf sets the checkpoint interval to match).
_base_ = ['./seg3d_frozen.py']
max_iters = 1500
val_interval = 250
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
