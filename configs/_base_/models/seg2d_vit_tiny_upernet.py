# mmseg EncoderDecoder on the tiny ViT of the CPU demo (configs/unimedi/
# vit_tiny_pretrain_phantom.py: 128 wide, 4 blocks, radiographs at 112 x 112): the outputs
# of 4 evenly spaced blocks (7 x 7 maps), made multi-scale (28, 14, 7, 3) by
# Feature2Pyramid, decoded by UPerHead. The encoder is the one `bash tools/demo.sh`
# pre-trains (its default work dir); override with
#   --cfg-options model.backbone.pretrained.checkpoint=PATH
# mmseg types carry the `mmseg.` prefix (default_scope is unimedi); so do the losses, which
# mmseg heads would otherwise look up without it.
_base_ = ['./vit_tiny_encoder.py']
norm_cfg = dict(type='BN', requires_grad=True)  # BN, not SyncBN: runs on one CPU / GPU
embed_dim = 128
model = dict(
    type='mmseg.EncoderDecoder',
    # the pre-training normalisation (images in [0, 1]); 1 channel, no BGR -> RGB
    data_preprocessor=dict(type='mmseg.SegDataPreProcessor', mean=[0.5], std=[0.25],
                           size_divisor=16, pad_val=0, seg_pad_val=255,
                           test_cfg=dict(size_divisor=16)),
    backbone=dict(
        type='ViTSegBackbone',
        encoder=dict(
            type='UnifiedViT',
            arch={{_base_.tiny_arch}},
            drop_path_rate=0.0,
            tokenizers={'2d': {{_base_.tiny_tokenizer_2d}}}),
        out_indices=None,  # 4 evenly spaced blocks, the last included
        modality='2d',
        pretrained=dict(checkpoint={{_base_.tiny_checkpoint}}, prefix='vision_encoder.'),
        frozen=False),
    neck=dict(type='mmseg.Feature2Pyramid', embed_dim=embed_dim, rescales=[4, 2, 1, 0.5],
              norm_cfg=norm_cfg),
    decode_head=dict(
        type='mmseg.UPerHead',
        in_channels=[embed_dim] * 4,
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=64,  # CPU-sized (ViT-B: 512)
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                         avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
