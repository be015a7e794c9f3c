# Linear probe of the demo's tiny UniMedI encoder on the pneumonia X-ray folder,
# 100 % of the training labels. Naming: configs/classification/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_tiny_classifier.py',
    '../../_base_/datasets/cls_cxr_pneumonia.py',
    '../../_base_/schedules/cls_linear_probe.py',
    '../../_base_/cls_runtime.py',
]
model = dict(frozen=True, head=dict(num_classes=2, multi_label=False))
# No third split: nothing is selected on the test part. Train 20 epochs, test the
# last one (no early stopping, no best checkpoint).
train_cfg = dict(max_epochs=20)
default_hooks = dict(checkpoint=dict(save_best=None))
custom_hooks = [dict(type='SaveSampleListsHook')]
