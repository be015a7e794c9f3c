# Fine-tuning the encoder with the decode head, 20000 iterations: AdamW with layer-wise lr
# decay 0.65 (mmseg's BEiT / MAE UperNet recipe: the neck and head at the base lr, block i of
# the ViT at 0.65 ** (depth - i) of it, the embeddings lowest); the ViT is found by its dotted
# path, model.backbone.encoder. Biases, norms and the encoder's no_weight_decay() names get
# no weight decay. 1000 warm-up iterations then cosine; validation every 1000 iterations
# (best checkpoint and early stopping: configs/_base_/seg2d_runtime.py).
# Iterations, not epochs (mmseg's convention): the infinite sampler keeps every batch full,
# whatever the label fraction, so BatchNorm never sees a batch of one.
max_iters = 20000
warmup_iters = 1000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, encoder='backbone.encoder'),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-6),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
