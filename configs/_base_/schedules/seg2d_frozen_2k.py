# The 20000-iteration frozen-encoder schedule shortened to 2000 iterations: 100 warm-up
# iterations, validation every 200.
_base_ = ['./seg2d_frozen_20k.py']
max_iters = 2000
warmup_iters = 100
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=200)
