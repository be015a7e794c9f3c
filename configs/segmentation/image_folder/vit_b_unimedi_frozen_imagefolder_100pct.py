# Frozen encoder (neck and UPerHead trained) with the UniMedI ViT-B/16 encoder on your own
# image + mask folders (configs/_base_/datasets/seg_image_folder.py), 100 % of the
# training labels.
_base_ = [
    '../../_base_/models/seg2d_vit_b_upernet.py',
    '../../_base_/datasets/seg_image_folder.py',
    '../../_base_/schedules/seg2d_frozen_20k.py',
    '../../_base_/seg2d_runtime.py',
]
model = dict(backbone=dict(frozen=True), decode_head=dict(num_classes=2))
