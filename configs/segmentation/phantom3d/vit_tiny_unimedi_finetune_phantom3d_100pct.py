# 3D segmentation: fine-tuning of the encoder with the UNETR decoder,
# with the demo's tiny UniMedI encoder, on the chest phantom CTs (background + 7 findings, 3D),
# 100 % of the training labels. Naming: configs/segmentation/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_tiny_segmentor3d.py',
    '../../_base_/datasets/seg_phantom3d.py',
    '../../_base_/schedules/seg3d_finetune.py',
    '../../_base_/seg3d_runtime.py',
]
model = dict(frozen=False, decode_head=dict(num_classes=8),
             infer_cfg=dict(roi_size={{_base_.size}}))
