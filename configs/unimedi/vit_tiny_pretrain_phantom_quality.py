# The CPU quality recipe: the demo's tiny UniMedI, pre-trained for longer on a larger
# phantom set (written once, seed 1; see configs/_base_/datasets/phantom_pretrain_large.py)
# in larger batches. What each change does: docs/pretraining_quality.md.
_base_ = [
    '../_base_/models/unimedi_vit_tiny.py',
    '../_base_/datasets/phantom_pretrain_large.py',
    '../_base_/schedules/pretrain_adamw_cosine.py',
    '../_base_/default_runtime.py',
]
max_iters = 4000
warmup_iters = 200

model = dict(
    selection_attention_layers=1,
    loss_weights=dict(vl=1.0, icl=0.5, pcl=0.5),
)
train_dataloader = dict(batch_size=32)

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
custom_hooks = [
    dict(type='TeacherEMAHook', momentum=0.996, end_momentum=1.0),
    dict(type='FeatureQualityHook', dataset={{_base_.monitor_dataset}}, interval=500,
         max_per_modality=300),
]
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=1000, by_epoch=False, max_keep_ckpts=5))
