# 3D segmentation: fine-tuning of the encoder with the UNETR decoder,
# with the UniMedI ViT-B/16 encoder, on BCV (background + 13 abdominal organs),
# 100 % of the training labels. Naming: configs/segmentation/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_b_segmentor3d.py',
    '../../_base_/datasets/seg_bcv.py',
    '../../_base_/schedules/seg3d_finetune_25k.py',
    '../../_base_/seg3d_runtime.py',
]
model = dict(frozen=False, decode_head=dict(num_classes=14),
             infer_cfg=dict(roi_size={{_base_.roi}}, sw_batch_size=4, overlap=0.5))
# a checkpoint at every validation
default_hooks = dict(checkpoint=dict(interval=500))
