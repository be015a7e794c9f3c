# The quality recipe with 8 x 8 radiograph patches: 196 tokens a radiograph instead of 49
# (row A3 of docs/pretraining_quality.md: the finer 2D tokens lift the 2D and the 3D probes,
# zero-shot and retrieval), stopped at 4,000 iterations (128,000 samples) to stay within
# the 60-minute budget on 2 cores (a 2D step costs about 1.7x the 16-px one).
_base_ = ['./vit_tiny_pretrain_phantom_quality.py']
max_iters = 4000
warmup_iters = 500

model = dict(vision_encoder=dict(tokenizers={'2d': dict(patch_size=8)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
