"""``UniMedI(compile_encoder=True)``: ``torch.compile`` of the student and teacher encoders
gives the eager loss and keeps the state dict's names."""
from __future__ import annotations

import pytest
import torch

from unimedi.registry import MODELS
from unimedi.structures import MedDataSample
from fakes.tiny_unimedi import tiny_unimedi_cfg

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out


def _model(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(tiny_unimedi_cfg(
        text_dropout=False,
        token_masker=dict(type='AttentiveRegionSelector', mask_ratio=0.5),
        slice_selector=dict(type='AttentiveSliceSelector', topk=2), **kwargs))
    model.init_weights()
    return model.train()


def _loss(model):
    generator = torch.Generator().manual_seed(1)
    # radiographs only: each new input shape compiles new graphs (a minute on 2 cores)
    inputs = {'2d': torch.randn(4, 1, 32, 32, generator=generator), '3d': None,
              'text': dict(input_ids=torch.randint(0, 100, (4, 6), generator=generator),
                           attention_mask=torch.ones(4, 6, dtype=torch.long))}
    samples = [MedDataSample().set_modality('2d') for _ in range(4)]
    losses = model.loss(inputs, samples)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    grad = model.vision_encoder.blocks[0].attn.qkv.weight.grad.clone()
    return {k: v.detach() for k, v in losses.items() if k.startswith('loss')}, grad


def test_compiled_encoders_match_eager():
    eager = _model()
    expected, expected_grad = _loss(eager)
    compiled = _model(compile_encoder=dict(dynamic=False))
    assert compiled.state_dict().keys() == eager.state_dict().keys()  # no '_orig_mod.'
    try:
        losses, grad = _loss(compiled)
    except Exception as error:  # no working C++ compiler / inductor on this machine
        pytest.skip(f'torch.compile does not work here: {type(error).__name__}: '
                    f'{str(error).splitlines()[0][:200]}')
    for key, value in expected.items():
        torch.testing.assert_close(losses[key], value, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grad, expected_grad, atol=1e-5, rtol=1e-4)
    # compiled in place: the module's own forward is the compiled one
    assert compiled.vision_encoder._compiled_call_impl is not None
    assert compiled.teacher['encoder']._compiled_call_impl is not None
