# VolumeSegmentor: the UniMedI ViT-B/16 vision encoder (3D patches 4 x 16 x 16) and the UNETR
# decoder on blocks 3/6/9/12 (UNETR's choice), feature size 16. The encoder comes from a
# UniMedI pre-training checkpoint (key prefix ``vision_encoder.``; ``teacher.encoder.`` for
# the EMA teacher) or a file of tools/misc/export_encoder.py:
#   --cfg-options model.pretrained.checkpoint=work_dirs/vit_b_pretrain/iter_100000.pth
# The 3D tokenizer keeps the pre-training img_size (32 x 128 x 128), so the position table
# loads as it is; it is interpolated at run time for the 96^3 crops.
model = dict(
    type='VolumeSegmentor',
    backbone=dict(
        type='UnifiedViT',
        arch='base',
        drop_path_rate=0.1,
        tokenizers={
            '3d': dict(type='PatchEmbed3D', in_channels=1, patch_size=(4, 16, 16),
                       img_size=(32, 128, 128)),
        }),
    decode_head=dict(type='UNETRDecoder', num_classes=2, feature_size=16,
                     norm_name='instance', res_block=True),
    out_indices=(2, 5, 8, 11),
    loss=dict(type='DiceCELoss', include_background=True),
    pretrained=dict(checkpoint='checkpoints/unimedi_vit_b_pretrain.pth',
                    prefix='vision_encoder.'),
    frozen=True,
    infer_cfg=dict(roi_size=(96, 96, 96), sw_batch_size=4, overlap=0.5, mode='gaussian'),
    data_preprocessor=dict(type='MedDataPreprocessor', mean=0.5, std=0.25),
)
