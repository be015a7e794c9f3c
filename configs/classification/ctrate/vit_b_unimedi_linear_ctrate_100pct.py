# Linear probe of the UniMedI ViT-B/16 encoder on CT-RATE (18 predicted abnormalities, 3D),
# 100 % of the training labels. Naming: configs/classification/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_b_classifier.py',
    '../../_base_/datasets/cls_ct_rate.py',
    '../../_base_/schedules/cls_linear_probe.py',
    '../../_base_/cls_runtime.py',
]
model = dict(frozen=True, head=dict(num_classes=18, multi_label=True))
