# Frozen encoder, 20000 iterations (the segmentation counterpart of the linear probe; the
# config using this schedule sets model.backbone.frozen=True): the neck and decode head
# learn with AdamW, 1000 warm-up iterations, then a linear (poly, power 1) decay; validation
# every 1000 iterations (best checkpoint and early stopping: configs/_base_/seg2d_runtime.py).
# Iterations, not epochs (mmseg's convention): the infinite sampler keeps every batch full,
# whatever the label fraction, so BatchNorm never sees a batch of one.
max_iters = 20000
warmup_iters = 1000
optim_wrapper = dict(
    type='OptimWrapper',
    # keeps the frozen encoder out of the optimiser (and out of the log)
    constructor='NoWeightDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
