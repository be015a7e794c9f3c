# AdamW, wd 0.05, linear warm-up then cosine; lr 1e-4 for vision, 2e-5 for the text model.
# No weight decay for norms, biases, the logit scale and the encoder's own
# ``no_weight_decay()`` names ([CLS], position embeddings, mask and register tokens), which
# the constructor reads from the model. (MMEngine: a parameter matching a custom key ignores
# norm/bias_decay_mult, so the text encoder's norms and biases are decayed too.)
max_iters = 100000
warmup_iters = 5000

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='NoWeightDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=3.0),
    paramwise_cfg=dict(
        custom_keys={
            'text_encoder': dict(lr_mult=0.2),
            'log_logit_scale': dict(decay_mult=0.0),
        },
        norm_decay_mult=0.0,
        bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-6),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
custom_hooks = [dict(type='TeacherEMAHook', momentum=0.996, end_momentum=1.0)]
# A batch without CTs leaves the 3D tokenizer unused (and one without radiographs may leave
# parts of the 2D path unused): let DDP allow parameters without gradients.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
