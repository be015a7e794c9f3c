# Fine-tuning the encoder with the decode head, 2000 iterations: AdamW, the encoder at
# 0.1x the head's learning rate (mmengine's custom_keys: the layer-decay constructor of the
# classifiers expects the ViT at model.backbone, here it is model.backbone.encoder); 100
# warm-up iterations then cosine; validation every 200 iterations (best checkpoint and early
# stopping: configs/_base_/seg2d_runtime.py). The head's norms and biases get no weight
# decay (a custom key replaces these multipliers, so all encoder parameters decay).
# Iterations, not epochs (mmseg's convention): the infinite sampler keeps every batch full,
# whatever the label fraction, so BatchNorm never sees a batch of one.
max_iters = 2000
warmup_iters = 100
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'backbone.encoder': dict(lr_mult=0.1)}),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-6),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=200)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
