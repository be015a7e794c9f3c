# Linear probe of the demo's tiny UniMedI encoder on the chest phantom radiographs (7 findings),
# 100 % of the training labels. Naming: configs/classification/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_tiny_classifier.py',
    '../../_base_/datasets/cls_phantom2d.py',
    '../../_base_/schedules/cls_linear_probe.py',
    '../../_base_/cls_runtime.py',
]
model = dict(frozen=True, head=dict(num_classes=7, multi_label=True))
