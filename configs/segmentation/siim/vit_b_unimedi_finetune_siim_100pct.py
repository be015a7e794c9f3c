# Fine-tuning (encoder, neck and UPerHead) with the UniMedI ViT-B/16 encoder on SIIM-ACR
# pneumothorax, 100 % of the training labels. Naming: configs/segmentation/README.md.
_base_ = [
    '../../_base_/models/seg2d_vit_b_upernet.py',
    '../../_base_/datasets/seg_siim.py',
    '../../_base_/schedules/seg2d_finetune_20k.py',
    '../../_base_/seg2d_runtime.py',
]
model = dict(backbone=dict(frozen=False), decode_head=dict(num_classes=2))
