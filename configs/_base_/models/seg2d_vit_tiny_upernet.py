# mmseg EncoderDecoder on the tiny ViT of the CPU demo (vit_tiny_encoder.py): the ViT-B model
# with the sizes changed, 128 wide, 4 blocks, radiographs at 112 x 112; the outputs of 4
# evenly spaced blocks (7 x 7 maps), made multi-scale (28, 14, 7, 3) by Feature2Pyramid,
# decoded by a CPU-sized UPerHead. The encoder is the one `bash tools/demo.sh` pre-trains
# (its default work dir); override with
#   --cfg-options model.backbone.pretrained.checkpoint=PATH
_base_ = ['./seg2d_vit_b_upernet.py', './vit_tiny_encoder.py']
embed_dim = 128
model = dict(
    backbone=dict(
        encoder=dict(
            arch={{_base_.tiny_arch}},
            drop_path_rate=0.0,
            tokenizers=dict(_delete_=True, **{'2d': {{_base_.tiny_tokenizer_2d}}})),
        pretrained=dict(checkpoint={{_base_.tiny_checkpoint}})),
    neck=dict(embed_dim=embed_dim),
    decode_head=dict(in_channels=[embed_dim] * 4, channels=64),  # ViT-B: 512 channels
)
