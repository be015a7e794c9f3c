# The frozen demo encoder on the chest phantom radiographs with SETR's multi-level
# aggregation (MLANeck on the 4 block outputs + SETRMLAHead, 4x up-sampling per level)
# instead of Feature2Pyramid + UPerHead, 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_frozen_phantom2d_100pct.py']
mla_channels = 64
model = dict(
    neck=dict(_delete_=True, type='mmseg.MLANeck', in_channels=[{{_base_.embed_dim}}] * 4,
              out_channels=mla_channels, norm_cfg={{_base_.norm_cfg}},
              act_cfg=dict(type='ReLU')),
    decode_head=dict(
        _delete_=True,
        type='mmseg.SETRMLAHead',
        in_channels=(mla_channels, ) * 4,
        channels=4 * mla_channels,  # the concatenated levels
        mla_channels=mla_channels,
        in_index=(0, 1, 2, 3),
        up_scale=4,
        num_classes=8,
        dropout_ratio=0.0,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode=dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                         avg_non_ignore=True)))
