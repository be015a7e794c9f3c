# ImageClassifier: the UniMedI ViT-B/16 vision encoder + a linear head. The encoder comes
# from a UniMedI pre-training checkpoint (key prefix ``vision_encoder.``; use
# ``teacher.encoder.`` for the EMA teacher) or from a file written by
# tools/misc/export_encoder.py. Point ``model.pretrained.checkpoint`` at your local file:
#   --cfg-options model.pretrained.checkpoint=work_dirs/vit_b_pretrain/iter_100000.pth
# The tokenizers keep the pre-training img_size, so the position tables load as they are
# (they are interpolated at run time for other input sizes).
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='UnifiedViT',
        arch='base',
        drop_path_rate=0.1,
        tokenizers={
            '2d': dict(type='PatchEmbed2D', in_channels=1, patch_size=16, img_size=224),
            '3d': dict(type='PatchEmbed3D', in_channels=1, patch_size=(4, 16, 16),
                       img_size=(32, 128, 128)),
        }),
    head=dict(type='LinearClsHead', num_classes=2, multi_label=False),
    pretrained=dict(checkpoint='checkpoints/unimedi_vit_b_pretrain.pth',
                    prefix='vision_encoder.'),
    frozen=True,
    pooling='cls',
    # the pre-training normalisation: images in [0, 1] (radiographs scaled, CTs windowed)
    data_preprocessor=dict(type='MedDataPreprocessor', mean=0.5, std=0.25),
)
