# Fine-tuning of the demo's tiny UniMedI encoder on the pneumonia X-ray folder,
# 100 % of the training labels. Naming: configs/classification/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_tiny_classifier.py',
    '../../_base_/datasets/cls_cxr_pneumonia.py',
    '../../_base_/schedules/cls_finetune.py',
    '../../_base_/cls_runtime.py',
]
model = dict(frozen=False, head=dict(num_classes=2, multi_label=False))
# No third split: nothing is selected on the test part. Train 20 epochs, test the
# last one (no early stopping, no best checkpoint).
train_cfg = dict(max_epochs=20)
default_hooks = dict(checkpoint=dict(save_best=None))
custom_hooks = [dict(type='SaveSampleListsHook')]
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=2, end=20, eta_min=1e-6,
         convert_to_iter_based=True),
]
