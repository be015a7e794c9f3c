# The frozen demo encoder on the chest phantom radiographs with SETR's progressive
# up-sampling head (SETRUPHead: 4 x (conv + 2x up-sampling) from the last block's 7 x 7
# map to 112 x 112) instead of Feature2Pyramid + UPerHead, 100 % of the training labels.
_base_ = ['./vit_tiny_unimedi_frozen_phantom2d_100pct.py']
model = dict(
    neck=None,
    decode_head=dict(
        _delete_=True,
        type='mmseg.SETRUPHead',
        in_channels={{_base_.embed_dim}},
        channels=64,
        in_index=-1,
        num_classes=8,
        dropout_ratio=0.0,
        norm_cfg={{_base_.norm_cfg}},
        num_convs=4,
        up_scale=2,
        kernel_size=3,
        align_corners=False,
        loss_decode=dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                         avg_non_ignore=True)))
