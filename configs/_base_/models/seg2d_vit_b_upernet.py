# mmseg EncoderDecoder on the UniMedI ViT-B/16 at 224 x 224 (the paper's scale): the
# outputs of blocks 3, 6, 9 and 12 (14 x 14 maps), made multi-scale (56, 28, 14, 7) by
# Feature2Pyramid, decoded by UPerHead. The encoder comes from a UniMedI pre-training
# checkpoint (key prefix `vision_encoder.`; `teacher.encoder.` for the EMA teacher) or a
# file of tools/misc/export_encoder.py; point it at your local file:
#   --cfg-options model.backbone.pretrained.checkpoint=work_dirs/vit_b_pretrain/iter_100000.pth
# mmseg types carry the `mmseg.` prefix (default_scope is unimedi); so do the losses.
norm_cfg = dict(type='BN', requires_grad=True)  # SyncBN for multi-GPU runs
embed_dim = 768
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
            arch='base',
            drop_path_rate=0.1,
            tokenizers={'2d': dict(type='PatchEmbed2D', in_channels=1, patch_size=16,
                                   img_size=224)}),
        out_indices=None,  # 4 evenly spaced blocks: 2, 5, 8, 11 (0-based)
        modality='2d',
        pretrained=dict(checkpoint='checkpoints/unimedi_vit_b_pretrain.pth',
                        prefix='vision_encoder.'),
        frozen=False),
    neck=dict(type='mmseg.Feature2Pyramid', embed_dim=embed_dim, rescales=[4, 2, 1, 0.5],
              norm_cfg=norm_cfg),
    decode_head=dict(
        type='mmseg.UPerHead',
        in_channels=[embed_dim] * 4,
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                         avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
