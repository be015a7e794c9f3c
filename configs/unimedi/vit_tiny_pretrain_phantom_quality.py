# Row Q1 of docs/pretraining_quality.md (41 minutes measured on 2 cores, plus 10 minutes to
# write its data once): the demo's tiny UniMedI pre-trained on a larger phantom set, apart
# from the evaluation phantoms (seed 1; see configs/_base_/datasets/phantom_pretrain_large.py),
# in batches of 32 with 12 CTs each, for 5,000 iterations (160,000 samples). The parent of
# the quality recipe, vit_tiny_pretrain_phantom_quality_mim.py, which adds the masked-patch
# reconstruction. What each change does and what it buys: docs/pretraining_quality.md.
_base_ = [
    '../_base_/models/unimedi_vit_tiny.py',
    '../_base_/datasets/phantom_pretrain_large.py',
    '../_base_/schedules/pretrain_adamw_cosine.py',
    '../_base_/default_runtime.py',
]
max_iters = 5000
warmup_iters = 500

model = dict(
    selection_attention_layers=1,
    loss_weights=dict(vl=1.0, icl=0.5, pcl=0.5),
)
# CTs are a fifth of the data but carry the 3D learning (and the slice selection): a fixed
# 20 radiographs + 12 CTs per batch (a fraction, so that a batch size given on the command
# line keeps the ratio).
train_dataloader = dict(batch_size=32,
                        batch_sampler=dict(type='ModalityRatioBatchSampler', fraction_3d=0.375))

optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
custom_hooks = [
    dict(type='TeacherEMAHook', momentum=0.996, end_momentum=1.0),
    dict(type='FeatureQualityHook', dataset={{_base_.monitor_dataset}}, interval=1000,
         max_per_modality=300),
]
# a checkpoint every 1,000 iterations, all kept: the points of the scaling figure
default_hooks = dict(logger=dict(interval=10, log_metric_by_epoch=False),
                     checkpoint=dict(interval=1000, by_epoch=False, max_keep_ckpts=10))
