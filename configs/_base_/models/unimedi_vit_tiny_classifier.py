# ImageClassifier on the tiny ViT of the CPU demo (configs/unimedi/vit_tiny_pretrain_phantom.py):
# 128 wide, 4 blocks; radiographs at 112 x 112, CTs at 32 x 64 x 64. The encoder is the one
# `bash tools/demo.sh` pre-trains (its default work dir); override with
#   --cfg-options model.pretrained.checkpoint=PATH
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='UnifiedViT',
        arch=dict(embed_dim=128, depth=4, num_heads=4, mlp_ratio=4.0),
        drop_path_rate=0.0,
        tokenizers={
            '2d': dict(type='PatchEmbed2D', in_channels=1, patch_size=16, img_size=(112, 112)),
            '3d': dict(type='PatchEmbed3D', in_channels=1, patch_size=(4, 16, 16),
                       img_size=(32, 64, 64)),
        }),
    head=dict(type='LinearClsHead', num_classes=2, multi_label=False),
    pretrained=dict(checkpoint='work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth',
                    prefix='vision_encoder.'),
    frozen=True,
    pooling='cls',
    data_preprocessor=dict(type='MedDataPreprocessor', mean=0.5, std=0.25),
)
