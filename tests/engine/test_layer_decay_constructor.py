"""LayerDecayOptimWrapperConstructor: per-layer learning rates and weight-decay groups."""
import pytest
import torch
from mmengine.registry import DefaultScope
from torch import nn

from unimedi.engine.optimizers.layer_decay_constructor import (LayerDecayOptimWrapperConstructor,
                                                               vit_layer_id)
from unimedi.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

ARCH = dict(embed_dim=32, depth=2, num_heads=2)
LR, WD = 1e-3, 0.05
OPTIM = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=LR, weight_decay=WD))


def _model(frozen=False, input_norm=None):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='ImageClassifier', frozen=frozen,
        backbone=dict(type='UnifiedViT', arch=ARCH,
                      tokenizers={'2d': dict(type='PatchEmbed2D', img_size=32),
                                  '3d': dict(type='PatchEmbed3D', img_size=(8, 32, 32))}),
        head=dict(type='LinearClsHead', num_classes=3, input_norm=input_norm)))


def _groups_by_param(model, rate=0.5):
    constructor = LayerDecayOptimWrapperConstructor(OPTIM, dict(layer_decay_rate=rate))
    wrapper = constructor(model)
    by_id = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            assert id(param) not in by_id, 'a parameter is in two groups'
            by_id[id(param)] = group
    return {name: by_id.get(id(p)) for name, p in model.named_parameters()}, wrapper


def test_learning_rates_per_layer():
    model = _model(input_norm='layer')
    groups, wrapper = _groups_by_param(model)
    assert isinstance(wrapper.optimizer, torch.optim.AdamW)
    assert all(g is not None for g in groups.values()), 'every trainable param is in a group'
    expected = {
        'head.fc.weight': LR, 'head.fc.bias': LR, 'head.input_norm.weight': LR,
        'backbone.norm.weight': LR, 'backbone.norm.bias': LR,
        'backbone.blocks.1.attn.qkv.weight': LR * 0.5, 'backbone.blocks.1.mlp.fc2.bias': LR * 0.5,
        'backbone.blocks.0.attn.qkv.weight': LR * 0.25, 'backbone.blocks.0.norm1.weight': LR * 0.25,
        'backbone.tokenizers.2d.proj.weight': LR * 0.125,
        'backbone.tokenizers.3d.proj.bias': LR * 0.125,
        'backbone.tokenizers.2d.pos_embed': LR * 0.125,
        'backbone.cls_token': LR * 0.125, 'backbone.cls_pos': LR * 0.125,
        'backbone.mask_token': LR * 0.125, 'backbone.extra_embed': LR * 0.125,
    }
    for name, lr in expected.items():
        assert groups[name]['lr'] == pytest.approx(lr), name
    for name, group in groups.items():
        if name.startswith('backbone.blocks.1.'):
            assert group['lr'] == pytest.approx(LR * 0.5) and group['layer_id'] == 2, name
        elif name.startswith('backbone.blocks.0.'):
            assert group['lr'] == pytest.approx(LR * 0.25) and group['layer_id'] == 1, name
        elif name.startswith('backbone.tokenizers.'):
            assert group['lr'] == pytest.approx(LR * 0.125) and group['layer_id'] == 0, name


def test_weight_decay_groups():
    groups, _ = _groups_by_param(_model(input_norm='layer'))
    no_decay = ['head.fc.bias', 'head.input_norm.weight', 'head.input_norm.bias',
                'backbone.norm.weight', 'backbone.blocks.0.norm1.weight',
                'backbone.blocks.0.attn.qkv.bias', 'backbone.tokenizers.2d.proj.bias',
                'backbone.tokenizers.2d.pos_embed', 'backbone.tokenizers.3d.pos_embed',
                'backbone.cls_token', 'backbone.cls_pos', 'backbone.mask_token',
                'backbone.extra_embed']
    decay = ['head.fc.weight', 'backbone.blocks.0.attn.qkv.weight',
             'backbone.blocks.1.mlp.fc1.weight', 'backbone.tokenizers.2d.proj.weight',
             'backbone.tokenizers.3d.proj.weight']
    for name in no_decay:
        assert groups[name]['weight_decay'] == 0.0, name
    for name in decay:
        assert groups[name]['weight_decay'] == pytest.approx(WD), name


def test_rate_one_gives_base_lr_everywhere():
    groups, _ = _groups_by_param(_model(), rate=1.0)
    assert [g['lr'] for g in groups.values()] == pytest.approx([LR] * len(groups))


def test_frozen_parameters_are_left_out():
    model = _model(frozen=True)
    groups, wrapper = _groups_by_param(model)
    in_optimizer = [p for g in wrapper.optimizer.param_groups for p in g['params']]
    assert len(in_optimizer) == 2  # head.fc weight and bias
    assert all(groups[n] is None for n in groups if n.startswith('backbone.'))
    assert groups['head.fc.weight']['lr'] == pytest.approx(LR)


def test_built_from_registry_and_steps():
    model = _model()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='LayerDecayOptimWrapperConstructor', optim_wrapper_cfg=OPTIM,
        paramwise_cfg=dict(layer_decay_rate=0.5)))
    wrapper = constructor(model)
    logits = model({'2d': torch.randn(2, 1, 32, 32)}, mode='tensor')
    wrapper.update_params(logits.square().mean())  # a step with the extra group keys works


@pytest.mark.parametrize('name,layer', [
    ('tokenizers.2d.proj.weight', 0), ('tokenizers.3d.pos_embed', 0), ('cls_token', 0),
    ('cls_pos', 0), ('mask_token', 0), ('extra_embed', 0), ('register_tokens', 0),
    ('blocks.0.attn.qkv.weight', 1), ('blocks.1.norm2.bias', 2), ('blocks.11.mlp.fc1.weight', 12),
    ('norm.weight', 13), ('norm.bias', 13),
])
def test_vit_layer_id(name, layer):
    assert vit_layer_id(name, depth=12) == layer


def test_model_without_backbone_raises():
    constructor = LayerDecayOptimWrapperConstructor(OPTIM, dict(layer_decay_rate=0.5))
    with pytest.raises(ValueError, match=r'no ViT encoder at \.backbone'):
        constructor(nn.Sequential(nn.Linear(2, 2)))
    # another attribute name: configurable, but it must have a depth
    model = nn.Module()
    model.encoder = nn.Linear(2, 2)
    constructor = LayerDecayOptimWrapperConstructor(
        OPTIM, dict(layer_decay_rate=0.5, encoder='encoder'))
    with pytest.raises(ValueError, match=r'\.encoder \(with a depth attribute\)'):
        constructor(model)


def _segmentor():
    return MODELS.build(dict(
        type='mmseg.EncoderDecoder',
        data_preprocessor=dict(type='mmseg.SegDataPreProcessor', mean=[0.0], std=[1.0]),
        backbone=dict(type='ViTSegBackbone', out_indices=(0, 1),
                      encoder=dict(type='UnifiedViT', arch=ARCH,
                                   tokenizers={'2d': dict(type='PatchEmbed2D', img_size=32)})),
        decode_head=dict(type='mmseg.FCNHead', in_channels=32, in_index=1, channels=8,
                         num_convs=1, num_classes=2,
                         loss_decode=dict(type='mmseg.CrossEntropyLoss'))))


def test_encoder_found_by_dotted_path_as_in_the_2d_segmentation_backbone():
    """``backbone.encoder``: the ViT inside ``ViTSegBackbone`` gets the per-layer rates."""
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('unimedi'):  # as under a runner
        model = _segmentor()
    constructor = LayerDecayOptimWrapperConstructor(
        OPTIM, dict(layer_decay_rate=0.5, encoder='backbone.encoder'))
    wrapper = constructor(model)
    by_id = {id(p): g for g in wrapper.optimizer.param_groups for p in g['params']}
    lr = {name: by_id[id(p)]['lr'] for name, p in model.named_parameters()}
    assert lr['decode_head.conv_seg.weight'] == pytest.approx(LR)
    assert lr['backbone.encoder.norm.weight'] == pytest.approx(LR)
    assert lr['backbone.encoder.blocks.1.attn.qkv.weight'] == pytest.approx(LR * 0.5)
    assert lr['backbone.encoder.blocks.0.attn.qkv.weight'] == pytest.approx(LR * 0.25)
    assert lr['backbone.encoder.cls_token'] == pytest.approx(LR * 0.125)
    assert by_id[id(model.backbone.encoder.cls_token)]['weight_decay'] == 0.0
    with pytest.raises(ValueError, match=r'no ViT encoder at \.backbone\.missing'):
        LayerDecayOptimWrapperConstructor(
            OPTIM, dict(layer_decay_rate=0.5, encoder='backbone.missing'))(model)
