# Linear probe of the demo's tiny UniMedI encoder (bash tools/demo.sh) on CheXpert (5
# competition labels, frontal views), 100 % of the training labels: the ViT-B dataset base
# with the tiny model base (its position tables are interpolated to the 224-px input).
# Naming: configs/classification/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_tiny_classifier.py',
    '../../_base_/datasets/cls_chexpert.py',
    '../../_base_/schedules/cls_linear_probe.py',
    '../../_base_/cls_runtime.py',
]
model = dict(frozen=True, head=dict(num_classes=5, multi_label=True))
