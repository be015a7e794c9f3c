"""ViTSegBackbone: the shared ViT as an mmseg backbone, alone and inside EncoderDecoder."""
from __future__ import annotations

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData

from unimedi.models.encoders.vit_seg_backbone import ViTSegBackbone, evenly_spaced_blocks
from unimedi.registry import MODELS

DIM = 32


def encoder_cfg(depth: int = 4, img_size: int = 32) -> dict:
    return dict(type='UnifiedViT', arch=dict(embed_dim=DIM, depth=depth, num_heads=2),
                tokenizers={'2d': dict(type='PatchEmbed2D', img_size=img_size)})


@pytest.fixture(autouse=True)
def unimedi_scope():
    init_default_scope('unimedi')


@pytest.mark.parametrize('depth,expected', [(12, (2, 5, 8, 11)), (4, (0, 1, 2, 3)),
                                            (2, (0, 0, 1, 1)), (1, (0, 0, 0, 0))])
def test_evenly_spaced_blocks_end_with_the_last(depth, expected):
    assert evenly_spaced_blocks(depth) == expected


@pytest.mark.parametrize('out_indices,expected', [
    (None, (0, 1, 2, 3)), ((3, ), (3, )), ((-1, 1), (3, 1)), ((0, 0, 2), (0, 0, 2))])
@pytest.mark.parametrize('size', [(32, 32), (64, 48), (16, 80)])
def test_feature_maps_per_block_and_input_size(out_indices, expected, size):
    backbone = ViTSegBackbone(encoder_cfg(), out_indices=out_indices)
    assert backbone.out_indices == expected
    x = torch.rand(2, 1, *size)
    maps = backbone(x)
    assert isinstance(maps, tuple) and len(maps) == len(expected)
    for feature in maps:
        assert feature.shape == (2, DIM, size[0] // 16, size[1] // 16)
    # each map is the output of the named block, in the requested order
    reference = backbone.encoder.get_intermediate_layers(x, '2d', range(4))
    for feature, block in zip(maps, expected):
        torch.testing.assert_close(feature, reference[block])


def test_three_channel_input_is_averaged_to_one():
    backbone = ViTSegBackbone(encoder_cfg(depth=2)).eval()
    rgb = torch.rand(1, 3, 32, 32)
    for got, want in zip(backbone(rgb), backbone(rgb.mean(dim=1, keepdim=True))):
        torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match='expects 1 input channels'):
        backbone(torch.rand(1, 2, 32, 32))


@pytest.mark.parametrize('kwargs,match', [
    (dict(out_indices=(4, )), 'out_indices'), (dict(out_indices=(-5, )), 'out_indices'),
    (dict(out_indices=()), 'out_indices'), (dict(modality='3d'), 'modality'),
    (dict(pretrained=dict(prefix='vision_encoder.')), 'checkpoint')])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ViTSegBackbone(encoder_cfg(), **kwargs)


def test_frozen_encoder_gets_no_gradient_and_stays_in_eval_mode():
    backbone = ViTSegBackbone(dict(encoder_cfg(depth=2), drop_path_rate=0.5), frozen=True)
    backbone.train()
    assert backbone.training and not backbone.encoder.training
    assert not any(p.requires_grad for p in backbone.encoder.parameters())
    x = torch.rand(2, 1, 32, 32)
    maps = backbone(x)
    assert not maps[0].requires_grad  # no graph is kept through the frozen encoder
    # eval mode inside train(): drop path is off, the features are deterministic
    torch.testing.assert_close(backbone(x)[-1], maps[-1])
    unfrozen = ViTSegBackbone(dict(encoder_cfg(depth=2), drop_path_rate=0.5)).train()
    assert unfrozen.encoder.training and unfrozen(x)[-1].requires_grad


def test_pretrained_weights_are_loaded_by_init_weights(tmp_path):
    source = MODELS.build(encoder_cfg(depth=2))
    path = tmp_path / 'unimedi.pth'
    state = {f'vision_encoder.{k}': v.clone() for k, v in source.state_dict().items()}
    state['text_encoder.weight'] = torch.zeros(1)  # other parts of the checkpoint
    torch.save({'state_dict': state}, path)
    backbone = ViTSegBackbone(encoder_cfg(depth=2), pretrained=str(path))
    assert backbone.pretrained == dict(checkpoint=str(path))
    assert not torch.equal(backbone.encoder.cls_token, source.cls_token)
    backbone.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(backbone.encoder.state_dict()[key], value, msg=key)


def _segmentor_cfg(head: str) -> ConfigDict:
    ce = dict(type='mmseg.CrossEntropyLoss', avg_non_ignore=True)
    bn = dict(type='BN')
    heads = {
        'uper': dict(
            neck=dict(type='mmseg.Feature2Pyramid', embed_dim=DIM, rescales=[4, 2, 1, 0.5],
                      norm_cfg=bn),
            decode_head=dict(type='mmseg.UPerHead', in_channels=[DIM] * 4,
                             in_index=[0, 1, 2, 3], pool_scales=(1, 2, 3, 6), channels=8,
                             num_classes=3, norm_cfg=bn, loss_decode=ce)),
        'setr_pup': dict(
            decode_head=dict(type='mmseg.SETRUPHead', in_channels=DIM, channels=8,
                             in_index=-1, num_classes=3, norm_cfg=bn, num_convs=2,
                             up_scale=2, kernel_size=3, loss_decode=ce)),
        'setr_mla': dict(
            neck=dict(type='mmseg.MLANeck', in_channels=[DIM] * 4, out_channels=8,
                      norm_cfg=bn, act_cfg=dict(type='ReLU')),
            decode_head=dict(type='mmseg.SETRMLAHead', in_channels=(8, ) * 4, channels=32,
                             mla_channels=8, in_index=(0, 1, 2, 3), up_scale=4,
                             num_classes=3, norm_cfg=bn, loss_decode=ce)),
    }
    return ConfigDict(
        type='mmseg.EncoderDecoder',
        data_preprocessor=dict(type='mmseg.SegDataPreProcessor', mean=[0.5], std=[0.25],
                               size_divisor=16, test_cfg=dict(size_divisor=16)),
        backbone=dict(type='ViTSegBackbone', encoder=encoder_cfg(img_size=64)),
        test_cfg=dict(mode='whole'), **heads[head])


def _batch(ori_shapes):
    from mmseg.structures import SegDataSample

    samples = []
    for i, ori_shape in enumerate(ori_shapes):
        sample = SegDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=ori_shape))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, 64, 64)))
        samples.append(sample)
    return dict(inputs=[torch.rand(1, 64, 64) for _ in ori_shapes], data_samples=samples)


@pytest.mark.parametrize('head', ['uper', 'setr_pup', 'setr_mla'])
def test_mmseg_encoder_decoder_trains_and_predicts_at_the_original_size(head):
    model = MODELS.build(_segmentor_cfg(head))
    assert type(model).__name__ == 'EncoderDecoder'
    assert isinstance(model.backbone, ViTSegBackbone)
    model.init_weights()
    data = model.data_preprocessor(_batch([(80, 72), (50, 90)]), True)
    losses = model(**data, mode='loss')
    loss = losses['decode.loss_ce']
    assert loss.ndim == 0 and torch.isfinite(loss) and loss > 0
    loss.backward()
    assert model.backbone.encoder.blocks[0].attn.qkv.weight.grad is not None
    model.eval()
    with torch.no_grad():
        outputs = model(**model.data_preprocessor(_batch([(80, 72), (50, 90)]), False),
                        mode='predict')
    assert [tuple(o.pred_sem_seg.shape) for o in outputs] == [(80, 72), (50, 90)]
    assert outputs[0].seg_logits.data.shape == (3, 80, 72)
    assert set(outputs[0].pred_sem_seg.data.unique().tolist()) <= {0, 1, 2}
