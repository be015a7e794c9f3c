"""AutocastOptimWrapper: bf16 autocast on the CPU around a UniMedI training step."""
from __future__ import annotations

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch import nn

from unimedi.engine.optimizers import AutocastOptimWrapper
from unimedi.registry import MODELS


class _Recorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        self.dtypes = []

    def forward(self, x):
        out = self.linear(x)
        self.dtypes.append(out.dtype)
        return out


def test_forward_in_bf16_parameters_and_gradients_in_fp32():
    init_default_scope('unimedi')
    model = _Recorder()
    wrapper = build_optim_wrapper(model, dict(type='AutocastOptimWrapper',
                                              optimizer=dict(type='SGD', lr=0.1)))
    assert isinstance(wrapper, AutocastOptimWrapper)
    before = model.linear.weight.detach().clone()
    with wrapper.optim_context(model):
        loss = model(torch.randn(5, 4)).float().pow(2).mean()
    wrapper.update_params(loss)
    assert model.dtypes == [torch.bfloat16]
    assert model.linear.weight.dtype == torch.float32
    assert not torch.equal(model.linear.weight, before)
    with wrapper.optim_context(model):  # autocast ends with the context
        pass
    model(torch.randn(2, 4))
    assert model.dtypes[-1] == torch.float32


def test_disabled_is_a_plain_wrapper_and_bad_dtype_raises():
    model = _Recorder()
    wrapper = AutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                   enabled=False)
    with wrapper.optim_context(model):
        model(torch.randn(2, 4))
    assert model.dtypes == [torch.float32]
    with pytest.raises(ValueError, match='bfloat16'):
        AutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                             dtype='int8')


def test_unimedi_train_step_under_bf16_autocast():
    init_default_scope('unimedi')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='UniMedI',
        vision_encoder=dict(type='UnifiedViT', arch='tiny',
                            tokenizers={'2d': dict(type='PatchEmbed2D', img_size=32),
                                        '3d': dict(type='PatchEmbed3D', img_size=(8, 32, 32))}),
        text_encoder=dict(type='HFTextEncoder', freeze_layers=-1, cache_size=100,
                          config=dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1,
                                      num_attention_heads=2, intermediate_size=64)),
        embed_dim=16, dino_head=dict(type='DINOHead', out_dim=32, hidden_dim=16,
                                     bottleneck_dim=8),
        slice_selector=dict(type='AttentiveSliceSelector', ratio=0.25),
        token_masker=dict(type='RandomRegionSelector', mask_ratio=0.5),
        data_preprocessor=dict(type='MedDataPreprocessor',
                               text_tokenizer=dict(type='HFTextTokenizer', max_length=16))))
    from unimedi.structures import MedDataSample
    inputs, samples = [], []
    for i, modality in enumerate(('2d', '3d', '2d', '3d')):
        inputs.append(torch.randn((1, 32, 32) if modality == '2d' else (1, 8, 32, 32)))
        samples.append(MedDataSample().set_modality(modality).set_report(f'report {i}'))
    wrapper = build_optim_wrapper(model, dict(type='AutocastOptimWrapper',
                                              optimizer=dict(type='AdamW', lr=1e-3)))
    model.train()
    for _ in range(2):  # the second step reads cached (float32) report embeddings
        log = model.train_step(dict(inputs=list(inputs), data_samples=list(samples)), wrapper)
        assert all(torch.isfinite(v) for k, v in log.items() if k.startswith('loss'))
    model.eval()  # evaluation outside autocast mixes cached and fresh embeddings
    data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=list(samples)))
    out = model(**data, mode='tensor')
    assert out['text'].dtype == torch.float32 and out['image'].dtype == torch.float32
