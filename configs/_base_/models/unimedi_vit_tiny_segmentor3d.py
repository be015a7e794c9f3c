# VolumeSegmentor on the tiny ViT of the CPU demo (vit_tiny_encoder.py): the ViT-B model with
# the sizes changed, 128 wide, 4 blocks, 3D patches 4 x 16 x 16 with positions laid out for
# 32 x 64 x 64, and a UNETR decoder (feature size 8, CPU-sized; UNETR uses 16) fed by all 4
# blocks. The encoder is the one `bash tools/demo.sh` pre-trains (its default work dir);
# override with
#   --cfg-options model.pretrained.checkpoint=PATH
# Inference tiles volumes with 32 x 64 x 64 windows (sliding_window_inference).
_base_ = ['./unimedi_vit_b_segmentor3d.py', './vit_tiny_encoder.py']
model = dict(
    backbone=dict(
        arch={{_base_.tiny_arch}},
        drop_path_rate=0.0,
        tokenizers=dict(_delete_=True, **{'3d': {{_base_.tiny_tokenizer_3d}}})),
    decode_head=dict(feature_size=8),
    out_indices=(0, 1, 2, 3),
    pretrained=dict(checkpoint={{_base_.tiny_checkpoint}}),
    infer_cfg=dict(roi_size=(32, 64, 64), overlap=0.25),
)
