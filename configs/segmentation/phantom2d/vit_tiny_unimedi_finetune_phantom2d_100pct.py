# Fine-tuning (encoder, neck and UPerHead) with the demo's tiny UniMedI encoder on the chest
# phantom radiographs (7 findings + background), 100 % of the training labels. Naming:
# configs/segmentation/README.md.
_base_ = [
    '../../_base_/models/seg2d_vit_tiny_upernet.py',
    '../../_base_/datasets/seg_phantom2d.py',
    '../../_base_/schedules/seg2d_finetune_2k.py',
    '../../_base_/seg2d_runtime.py',
]
model = dict(backbone=dict(frozen=False), decode_head=dict(num_classes=8))
