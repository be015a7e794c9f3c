"""The losses and the selection scores stay float32 inside a bf16 autocast region."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from unimedi.models.encoders.unified_vit import Attention
from unimedi.models.losses import (DINOLoss, InfoNCELoss, KoLeoLoss, MaskedPixelLoss,
                                   PatchDistillationLoss)
from unimedi.models.losses.full_precision import float32_forward


def _unit_rows(rows: int, width: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(rows, width, generator=generator), dim=-1)


def _autocast():
    return torch.autocast('cpu', dtype=torch.bfloat16)


def test_info_nce_under_autocast_equals_float32():
    loss = InfoNCELoss(init_temperature=0.02)
    image, text = _unit_rows(16, 64, 0), _unit_rows(16, 64, 1)
    reference = loss(image, text)
    with _autocast():
        value = loss(image, text)
        bf16_products = InfoNCELoss.forward.__wrapped__(loss, image, text)  # the old way
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, reference, atol=1e-6, rtol=0)
    # what the decorator prevents: bf16 similarities move the loss by far more than that
    assert (bf16_products - reference).abs() > 1e-4


def test_distillation_losses_upcast_bf16_logits_and_keep_their_gradient():
    generator = torch.Generator().manual_seed(2)
    student = torch.randn(6, 5, 32, generator=generator).bfloat16().requires_grad_()
    teacher = torch.randn(6, 5, 32, generator=generator).bfloat16()
    mask = torch.rand(6, 5, generator=generator) > 0.5
    for loss, args in ((DINOLoss(out_dim=32), (student[:, 0], teacher[:, 0])),
                       (PatchDistillationLoss(out_dim=32), (student, teacher, mask))):
        loss.center.normal_(generator=generator)
        reference = loss(*[a.detach().float() if a.is_floating_point() else a for a in args],
                         update_center=False)
        with _autocast():
            value = loss(*args, update_center=False)
        assert value.dtype == torch.float32
        torch.testing.assert_close(value, reference, atol=1e-6, rtol=0)
        student.grad = None
        value.backward()
        assert student.grad.dtype == torch.bfloat16 and student.grad.abs().sum() > 0


def test_koleo_under_autocast_equals_float32():
    features = torch.randn(12, 16, generator=torch.Generator().manual_seed(3))
    reference = KoLeoLoss()(features)
    with _autocast():
        value = KoLeoLoss()(features.bfloat16())
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, KoLeoLoss()(features.bfloat16().float()), atol=1e-6,
                               rtol=0)
    assert value == pytest.approx(float(reference), abs=0.05)


def test_masked_pixel_loss_under_autocast_is_float32_with_a_bf16_gradient():
    generator = torch.Generator().manual_seed(4)
    patches = torch.rand(10, 64, generator=generator)
    prediction = torch.randn(10, 64, generator=generator).bfloat16().requires_grad_()
    with _autocast():
        value = MaskedPixelLoss()(prediction, patches.bfloat16())
    assert value.dtype == torch.float32
    torch.testing.assert_close(
        value, MaskedPixelLoss()(prediction.detach().float(), patches.bfloat16().float()))
    value.backward()
    assert prediction.grad.dtype == torch.bfloat16 and prediction.grad.abs().sum() > 0


def test_float32_forward_leaves_float64_masks_and_integers_alone():
    seen = {}

    class Probe(torch.nn.Module):
        @float32_forward
        def forward(self, x, mask, groups=None, reference=None):
            seen.update(x=x.dtype, mask=mask.dtype, groups=groups.dtype,
                        reference=reference.dtype, autocast=torch.is_autocast_enabled('cpu'))
            return x @ x.t()

    with _autocast():
        out = Probe()(torch.ones(2, 2, dtype=torch.bfloat16), torch.ones(2, dtype=torch.bool),
                      groups=torch.zeros(2, dtype=torch.long),
                      reference=torch.zeros(2, dtype=torch.float64))
    assert seen == dict(x=torch.float32, mask=torch.bool, groups=torch.long,
                        reference=torch.float64, autocast=False)
    assert out.dtype == torch.float32


def test_cls_attention_scores_are_float32_under_autocast():
    torch.manual_seed(0)
    attention = Attention(32, 4)
    x = torch.randn(2, 1 + 40, 32)
    _, reference = attention(x, (1, 41))
    with _autocast():
        out, scores = attention(x, (1, 41))
    assert out.dtype == torch.bfloat16 and scores.dtype == torch.float32
    torch.testing.assert_close(scores.sum(dim=-1), torch.ones(2, 4), atol=1e-6, rtol=0)
    # only the bf16 q / k projections differ from the float32 pass
    torch.testing.assert_close(scores, reference, atol=2e-3, rtol=0)
