# The 20000-iteration fine-tuning schedule shortened to 2000 iterations: 100 warm-up
# iterations, validation every 200.
_base_ = ['./seg2d_finetune_20k.py']
max_iters = 2000
warmup_iters = 100
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=200)
