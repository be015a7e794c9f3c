# 3D segmentation: frozen encoder (only the UNETR decoder learns),
# with the demo's tiny UniMedI encoder, on
# the one real CT of data/ct (6 organs; fitted and tested on that volume),
# 100 % of the training labels. Naming: configs/segmentation/README.md.
_base_ = [
    '../../_base_/models/unimedi_vit_tiny_segmentor3d.py',
    '../../_base_/datasets/seg_ct_organs.py',
    '../../_base_/schedules/seg3d_frozen_1500.py',
    '../../_base_/seg3d_runtime.py',
]
model = dict(frozen=True, decode_head=dict(num_classes=7),
             infer_cfg=dict(roi_size={{_base_.roi}}, sw_batch_size=4, overlap=0.25))
# a checkpoint at every validation
default_hooks = dict(checkpoint=dict(interval=250))
# the prediction as NIfTI on the input file's grid (work dir of tools/train.py's default)
test_evaluator = dict(type='SegDiceMetric',
                      output_dir='work_dirs/{{fileBasenameNoExtension}}/predictions')
