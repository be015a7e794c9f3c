"""FSDP: the wrap policy's units, and configs/unimedi/vit_l_pretrain_fsdp.py builds.

The 2-process FSDP training step (equal to one process) is in
tests/models/test_unimedi_step_distributed.py.
"""
from __future__ import annotations

from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import DefaultScope

from unimedi.engine.fsdp import transformer_layer_wrap_policy
from unimedi.models.encoders.unified_vit import ARCH_SETTINGS, Block
from unimedi.models.heads.dino_head import DINOHead
from unimedi.registry import MODELS, STRATEGIES
from fakes.tiny_unimedi import tiny_unimedi_cfg

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / 'configs' / 'unimedi' / 'vit_l_pretrain_fsdp.py'
TINY_MODEL = tiny_unimedi_cfg(text_layers=2)


def _units(model) -> list:
    return [name for name, module in model.named_modules()
            if transformer_layer_wrap_policy(module, recurse=False)]


def test_policy_makes_blocks_text_layers_and_dino_heads_units():
    with DefaultScope.overwrite_default_scope('unimedi'):
        model = MODELS.build(TINY_MODEL)
    units = _units(model)
    depth = ARCH_SETTINGS['tiny']['depth']
    expected = ([f'vision_encoder.blocks.{i}' for i in range(depth)]
                + [f'text_encoder.model.encoder.layer.{i}' for i in range(2)]
                + ['dino_head', 'teacher.encoder.blocks.0', 'teacher.encoder.blocks.1',
                   'teacher.head'])
    assert sorted(units) == sorted(expected)
    assert all(isinstance(model.get_submodule(u), (Block, DINOHead)) for u in units
               if not u.startswith('text_encoder'))
    # FSDP descends everywhere; the tokenizers and the ViT itself stay in the root unit
    assert transformer_layer_wrap_policy(model.vision_encoder, recurse=True)
    assert not transformer_layer_wrap_policy(model.vision_encoder, recurse=False)
    assert not transformer_layer_wrap_policy(model.vision_encoder.tokenizers['3d'],
                                             recurse=False)


def test_fsdp_config_builds_its_strategy_policy_and_fused_optimizer():
    cfg = Config.fromfile(str(CONFIG))
    assert cfg.runner_type == 'FlexibleRunner'
    assert cfg.model.vision_encoder.arch == 'large' and cfg.model.vision_encoder.grad_checkpointing
    assert cfg.train_dataloader.batch_sampler.type == 'ModalityRatioBatchSampler'
    with DefaultScope.overwrite_default_scope('unimedi'):
        strategy = STRATEGIES.build(cfg.strategy)
        assert type(strategy).__name__ == 'FSDPStrategy'
        policy = cfg.strategy.model_wrapper.auto_wrap_policy.type  # what the wrapper looks up
        assert MMENGINE_FUNCTIONS.get(policy) is transformer_layer_wrap_policy
        # the config's optimizer (fused AdamW, bf16 autocast) on a tiny model
        model = MODELS.build(TINY_MODEL)
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert type(wrapper).__name__ == 'AutocastOptimWrapper'
    assert wrapper.cast_dtype == torch.bfloat16
    assert wrapper.sharded_grads  # clip_grad's norm over all shards
    optimizer = wrapper.optimizer
    assert isinstance(optimizer, torch.optim.AdamW) and optimizer.defaults['fused'] is True
    loss = model.vision_encoder(torch.randn(2, 1, 32, 32), '2d')['cls'].square().mean()
    wrapper.update_params(loss)  # fused AdamW steps on the CPU too (torch >= 2.4)
    assert ARCH_SETTINGS['large'] == dict(embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4.0)
