# VolumeSegmentor on the tiny ViT of the CPU demo (vit_tiny_encoder.py: 128 wide, 4 blocks,
# 3D patches 4 x 16 x 16 with positions laid out for 32 x 64 x 64) and a
# UNETR decoder (feature size 8, CPU-sized; UNETR uses 16) fed by all 4 blocks. The encoder
# is the one `bash tools/demo.sh` pre-trains (its default work dir); override with
#   --cfg-options model.pretrained.checkpoint=PATH
# Inference tiles volumes with 32 x 64 x 64 windows (sliding_window_inference).
_base_ = ['./vit_tiny_encoder.py']
model = dict(
    type='VolumeSegmentor',
    backbone=dict(
        type='UnifiedViT',
        arch={{_base_.tiny_arch}},
        drop_path_rate=0.0,
        tokenizers={'3d': {{_base_.tiny_tokenizer_3d}}}),
    decode_head=dict(type='UNETRDecoder', num_classes=2, feature_size=8,
                     norm_name='instance', res_block=True),
    out_indices=(0, 1, 2, 3),
    loss=dict(type='DiceCELoss', include_background=True),
    pretrained=dict(checkpoint={{_base_.tiny_checkpoint}}, prefix='vision_encoder.'),
    frozen=True,
    infer_cfg=dict(roi_size=(32, 64, 64), sw_batch_size=4, overlap=0.25, mode='gaussian'),
    # the pre-training normalisation: CT windowed to [0, 1]
    data_preprocessor=dict(type='MedDataPreprocessor', mean=0.5, std=0.25),
)
