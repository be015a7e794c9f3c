# Frozen encoder (the model config sets model.frozen=True): only the UNETR decoder learns,
# AdamW 1e-3, 50 warm-up iterations then cosine to 2000 iterations, validation every 200
# (the checkpoint interval of configs/_base_/seg3d_runtime.py). A config that changes
# max_iters re-assigns train_cfg and param_scheduler.
max_iters = 2000
val_interval = 200
warmup_iters = 50
optim_wrapper = dict(
    type='OptimWrapper',
    # keeps the frozen encoder out of the optimiser (and out of the log)
    constructor='NoWeightDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-5),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-6),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
