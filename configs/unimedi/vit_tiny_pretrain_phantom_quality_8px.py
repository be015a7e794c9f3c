# The quality recipe with 8 x 8 radiograph patches: 196 tokens a radiograph instead of 49,
# stopped at 4,000 iterations (128,000 samples): rows A3 / A4 of docs/pretraining_quality.md
# (5,000 iterations of 8-px patches lifted the probes, zero-shot and retrieval; this
# 4,000-iteration schedule selects lesion slices at 1.8x chance, its probes between Q1's and
# A3's). A step costs about 1.6x the 16-px one: 48-70 min on 2 cores, at or over the
# 60-minute budget; the quality recipe is vit_tiny_pretrain_phantom_quality_mim.py.
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
