"""NoWeightDecayOptimWrapperConstructor: the encoder's no_weight_decay() names get no decay."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from unimedi.engine.optimizers import NoWeightDecayOptimWrapperConstructor, no_weight_decay_names
from unimedi.registry import MODELS

LR, WD = 1e-3, 0.05
OPTIM = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=LR, weight_decay=WD))


class _Model(nn.Module):
    """A ViT with registers beside a plain linear layer and a scalar parameter."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = MODELS.build(dict(
            type='UnifiedViT', arch=dict(embed_dim=32, depth=1, num_heads=2), num_registers=2,
            tokenizers={'2d': dict(type='PatchEmbed2D', img_size=32),
                        '3d': dict(type='PatchEmbed3D', img_size=(8, 32, 32))}))
        self.text_proj = nn.Linear(32, 8)
        self.log_logit_scale = nn.Parameter(torch.zeros(()))


def _weight_decay_by_name(model, paramwise_cfg):
    wrapper = NoWeightDecayOptimWrapperConstructor(OPTIM, paramwise_cfg)(model)
    by_id = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            by_id[id(param)] = (group['lr'], group.get('weight_decay', WD))
    return {name: by_id[id(p)] for name, p in model.named_parameters()}


def test_names_come_from_the_encoder_with_their_path():
    model = _Model()
    expected = {f'encoder.{name}' for name in model.encoder.no_weight_decay()}
    assert set(no_weight_decay_names(model)) == expected
    assert 'encoder.register_tokens' in expected and 'encoder.tokenizers.3d.pos_embed' in expected


def test_encoder_exclusions_and_configured_keys():
    model = _Model()
    paramwise = dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                     custom_keys={'log_logit_scale': dict(decay_mult=0.0),
                                  'text_proj': dict(lr_mult=0.5)})
    groups = _weight_decay_by_name(model, paramwise)
    for name in no_weight_decay_names(model) + ['log_logit_scale']:
        assert groups[name] == (pytest.approx(LR), 0.0), name
    # matrices are decayed; norms and biases are not
    assert groups['encoder.blocks.0.attn.qkv.weight'] == (pytest.approx(LR), pytest.approx(WD))
    assert groups['encoder.blocks.0.norm1.weight'][1] == 0.0
    assert groups['encoder.blocks.0.attn.qkv.bias'][1] == 0.0
    # a configured key keeps its meaning
    assert groups['text_proj.weight'] == (pytest.approx(LR * 0.5), pytest.approx(WD))
    # the constructor's own config is left as it was given
    model2 = _Model()
    constructor = NoWeightDecayOptimWrapperConstructor(OPTIM, paramwise)
    constructor(model2)
    assert set(constructor.paramwise_cfg['custom_keys']) == {'log_logit_scale', 'text_proj'}


def test_a_configured_key_wins_over_the_encoder_name():
    model = _Model()
    groups = _weight_decay_by_name(
        model, dict(custom_keys={'encoder.cls_token': dict(decay_mult=1.0, lr_mult=0.1)}))
    assert groups['encoder.cls_token'] == (pytest.approx(LR * 0.1), pytest.approx(WD))
    assert groups['encoder.cls_pos'] == (pytest.approx(LR), 0.0)


class _Wrapped(nn.Module):
    """A model wrapper as DDP and FSDP are: the model under ``.module``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.module = model


def test_a_wrapped_model_keeps_its_exclusions():
    model = _Model()
    wrapper = NoWeightDecayOptimWrapperConstructor(OPTIM, dict(norm_decay_mult=0.0))(
        _Wrapped(model))
    decay = {id(p): group.get('weight_decay', WD) for group in wrapper.optimizer.param_groups
             for p in group['params']}
    names = dict(model.named_parameters())
    for name in no_weight_decay_names(model):
        assert decay[id(names[name])] == 0.0, name
    assert decay[id(names['encoder.blocks.0.attn.qkv.weight'])] == pytest.approx(WD)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_frozen_submodules_never_reach_the_optimiser():
    model = _Model()
    model.teacher = nn.Sequential(nn.Linear(32, 32), nn.LayerNorm(32)).requires_grad_(False)
    model.text_proj.bias.requires_grad_(False)  # one frozen parameter in a trained module
    logger, records = MMLogger.get_current_instance(), _Records()
    logger.addHandler(records)
    try:
        wrapper = NoWeightDecayOptimWrapperConstructor(OPTIM, dict(norm_decay_mult=0.0))(model)
    finally:
        logger.removeHandler(records)
    optimised = {id(p) for group in wrapper.optimizer.param_groups for p in group['params']}
    assert not any(id(p) in optimised for p in model.teacher.parameters())
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert all(id(p) in optimised for p in trainable)
    assert not [m for m in records.messages if 'requires_grad' in m]
    assert '5 frozen parameter tensors (1,128 values) are not optimised' in records.messages
