# Linear probe of the UniMedI ViT-B/16 encoder on RSNA Pneumonia (binary),
# 100 % of the training labels. Naming: configs/classification/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_b_classifier.py',
    '../../_base_/datasets/cls_rsna.py',
    '../../_base_/schedules/cls_linear_probe.py',
    '../../_base_/cls_runtime.py',
]
model = dict(frozen=True, head=dict(num_classes=1, multi_label=True))
