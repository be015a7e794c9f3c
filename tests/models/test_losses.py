"""InfoNCE, DINO and iBOT patch-distillation losses against hand computations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unimedi.evaluation.feature_quality import effective_rank
from unimedi.models.losses import (DINOLoss, InfoNCELoss, KoLeoLoss, MaskedPixelLoss,
                                   PatchDistillationLoss, patchify)
from unimedi.registry import LOSSES


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _info_nce_by_hand(image: np.ndarray, text: np.ndarray, scale: float) -> float:
    """(1/2)(mean_i -log p(t_i | x_i) + mean_i -log p(x_i | t_i)), written out."""
    n = image.shape[0]
    total_i2t, total_t2i = 0.0, 0.0
    for i in range(n):
        row = [scale * float(image[i] @ text[j]) for j in range(n)]
        column = [scale * float(text[i] @ image[j]) for j in range(n)]
        total_i2t += math.log(sum(math.exp(v) for v in row)) - row[i]
        total_t2i += math.log(sum(math.exp(v) for v in column)) - column[i]
    return (total_i2t / n + total_t2i / n) / 2


def test_info_nce_matches_hand_computation():
    rng = np.random.default_rng(0)
    image = _unit(rng.normal(size=(4, 5)))
    # text: a noisy copy, so that the loss is asymmetric between directions
    text = _unit(image + rng.normal(scale=0.8, size=(4, 5)))
    loss = InfoNCELoss()
    value = loss(torch.tensor(image, dtype=torch.float64),
                 torch.tensor(text, dtype=torch.float64))
    expected = _info_nce_by_hand(image, text, 1 / 0.07)
    assert value.item() == pytest.approx(expected, rel=1e-5)
    # a fixed, easy case: orthogonal pairs, scale 1
    eye = np.eye(3)
    fixed = InfoNCELoss(init_temperature=1.0, learnable=False)
    value = fixed(torch.tensor(eye), torch.tensor(eye)).item()
    assert value == pytest.approx(math.log(math.e + 2) - 1, rel=1e-6)


def test_info_nce_directions_both_count():
    """Swapping image and text leaves the symmetric loss unchanged; a one-sided loss would
    differ when the similarity matrix is not symmetric."""
    rng = np.random.default_rng(1)
    image = torch.tensor(_unit(rng.normal(size=(5, 4))))
    text = torch.tensor(_unit(rng.normal(size=(5, 4))))
    loss = InfoNCELoss(init_temperature=0.2)
    torch.testing.assert_close(loss(image, text), loss(text, image))
    scale = 1 / 0.2
    one_sided = _info_nce_by_hand(image.numpy(), text.numpy(), scale)
    assert loss(image, text).item() == pytest.approx(one_sided, rel=1e-6)


def test_temperature_init_learnable_and_clamp():
    loss = InfoNCELoss()
    assert isinstance(loss.log_logit_scale, torch.nn.Parameter)
    assert loss.logit_scale.item() == pytest.approx(1 / 0.07, rel=1e-6)
    with torch.no_grad():
        loss.log_logit_scale.fill_(math.log(1000.0))
    assert loss.logit_scale.item() == pytest.approx(100.0)
    assert InfoNCELoss(max_logit_scale=50.0, init_temperature=0.01).logit_scale.item() == \
        pytest.approx(50.0)
    fixed = InfoNCELoss(learnable=False, init_temperature=0.1)
    assert not any(True for _ in fixed.parameters())
    assert 'log_logit_scale' in dict(fixed.named_buffers())
    assert fixed.logit_scale.item() == pytest.approx(10.0)


def test_logit_scale_is_one_element_for_fsdp_and_old_scalar_checkpoints_load():
    loss = InfoNCELoss(init_temperature=0.1)
    assert loss.log_logit_scale.shape == (1, )  # FSDP refuses 0-d parameters
    assert loss.logit_scale.shape == () and loss.logit_scale.item() == pytest.approx(10.0)
    old = {'log_logit_scale': torch.tensor(math.log(20.0))}  # saved before the change
    loss.load_state_dict(old)
    assert loss.log_logit_scale.shape == (1, )
    assert loss.logit_scale.item() == pytest.approx(20.0, rel=1e-6)
    fixed = InfoNCELoss(learnable=False)
    fixed.load_state_dict(old)
    assert fixed.logit_scale.item() == pytest.approx(20.0, rel=1e-6)


def test_temperature_receives_gradient():
    loss = InfoNCELoss()
    image = F.normalize(torch.randn(4, 8), dim=-1).requires_grad_()
    text = F.normalize(torch.randn(4, 8), dim=-1)
    loss(image, text).backward()
    assert loss.log_logit_scale.grad is not None and loss.log_logit_scale.grad != 0
    assert image.grad.abs().sum() > 0


def test_info_nce_groups_keep_negatives_within_a_group():
    """With groups, the loss is each group's own InfoNCE, weighted by the group's size."""
    rng = np.random.default_rng(2)
    image = _unit(rng.normal(size=(7, 5)))
    text = _unit(image + rng.normal(scale=0.7, size=(7, 5)))
    groups = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    loss = InfoNCELoss(init_temperature=0.1)
    value = loss(torch.tensor(image), torch.tensor(text), groups=groups).item()
    first = _info_nce_by_hand(image[:4], text[:4], 10.0)
    second = _info_nce_by_hand(image[4:], text[4:], 10.0)
    assert value == pytest.approx((4 * first + 3 * second) / 7, rel=1e-6)
    # one group for all: the plain loss
    same = loss(torch.tensor(image), torch.tensor(text), groups=torch.zeros(7, dtype=torch.long))
    assert same.item() == pytest.approx(_info_nce_by_hand(image, text, 10.0), rel=1e-6)
    with pytest.raises(ValueError, match='groups must have shape'):
        loss(torch.tensor(image), torch.tensor(text), groups=groups[:3])


def test_info_nce_shape_mismatch_raises():
    with pytest.raises(ValueError, match='same shape'):
        InfoNCELoss()(torch.randn(4, 8), torch.randn(3, 8))
    with pytest.raises(ValueError, match='same shape'):
        InfoNCELoss()(torch.randn(4, 8), torch.randn(4, 6))


def _dino_by_hand(student: np.ndarray, teacher: np.ndarray, center: np.ndarray, tau_t: float,
                  tau_s: float) -> np.ndarray:
    """Per-row -sum_k Pt_k log Ps_k with Pt = softmax((t - c)/tau_t), Ps = softmax(s/tau_s)."""
    t = (teacher - center) / tau_t
    pt = np.exp(t - t.max(axis=1, keepdims=True))
    pt /= pt.sum(axis=1, keepdims=True)
    s = student / tau_s
    log_ps = s - s.max(axis=1, keepdims=True)
    log_ps -= np.log(np.exp(log_ps).sum(axis=1, keepdims=True))
    return -(pt * log_ps).sum(axis=1)


def test_dino_loss_matches_formula_and_updates_centre_in_train_mode():
    rng = np.random.default_rng(2)
    student, teacher = rng.normal(size=(6, 7)), rng.normal(size=(6, 7))
    center = rng.normal(scale=0.3, size=(1, 7))
    loss = DINOLoss(out_dim=7, teacher_temp=0.04, student_temp=0.1, center_momentum=0.9)
    loss.center.copy_(torch.tensor(center))
    loss.train()
    value = loss(torch.tensor(student, dtype=torch.float32),
                 torch.tensor(teacher, dtype=torch.float32))
    expected = _dino_by_hand(student, teacher, center, 0.04, 0.1).mean()
    assert value.item() == pytest.approx(expected, rel=1e-4)
    # the centre is updated after the loss, with the EMA of the batch mean
    new_center = 0.9 * center + 0.1 * teacher.mean(axis=0, keepdims=True)
    np.testing.assert_allclose(loss.center.numpy(), new_center, rtol=1e-5, atol=1e-6)


def test_dino_centres_per_group_are_used_and_updated_apart():
    rng = np.random.default_rng(4)
    loss = DINOLoss(out_dim=5, num_centers=2)
    centers = rng.normal(scale=0.3, size=(2, 5))
    loss.center.copy_(torch.tensor(centers))
    student, teacher = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    value = loss(torch.tensor(student), torch.tensor(teacher), group=1)
    expected = _dino_by_hand(student, teacher, centers[1:], 0.04, 0.1).mean()
    assert value.item() == pytest.approx(expected, rel=1e-5)
    # only the centre of group 1 moved
    np.testing.assert_allclose(loss.center[0].numpy(), centers[0], rtol=1e-6)
    np.testing.assert_allclose(loss.center[1].numpy(), 0.9 * centers[1] + 0.1 * teacher.mean(0),
                               rtol=1e-5, atol=1e-6)
    patch = PatchDistillationLoss(out_dim=5, num_centers=2)
    patch(torch.tensor(student), torch.tensor(teacher), group=0)
    assert patch.center[1].abs().sum() == 0 and patch.center[0].abs().sum() > 0
    with pytest.raises(ValueError, match='out of range'):
        loss(torch.tensor(student), torch.tensor(teacher), group=2)
    with pytest.raises(ValueError, match='num_centers'):
        DINOLoss(out_dim=5, num_centers=0)


def test_dino_centre_frozen_in_eval_mode():
    loss = DINOLoss(out_dim=5).eval()
    loss.center.fill_(0.25)
    value = loss(torch.randn(3, 5), torch.randn(3, 5))
    assert torch.isfinite(value)
    assert torch.equal(loss.center, torch.full((1, 5), 0.25))


def test_dino_gradient_reaches_student_only():
    loss = DINOLoss(out_dim=4)
    student = torch.randn(3, 4, requires_grad=True)
    teacher = torch.randn(3, 4, requires_grad=True)
    loss(student, teacher).backward()
    assert student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_dino_registry_build():
    built = LOSSES.build(dict(type='DINOLoss', out_dim=9, teacher_temp=0.07))
    assert built.center.shape == (1, 9) and built.teacher_temp == 0.07


def _patch_data(seed=3, batch=2, length=5, dim=6):
    generator = torch.Generator().manual_seed(seed)
    student = torch.randn(batch, length, dim, generator=generator)
    teacher = torch.randn(batch, length, dim, generator=generator)
    mask = torch.tensor([[True, False, True, False, False], [False, False, False, True, True]])
    return student, teacher, mask


def test_patch_loss_is_mean_over_masked_tokens():
    student, teacher, mask = _patch_data()
    loss = PatchDistillationLoss(out_dim=6).eval()
    value = loss(student, teacher, mask)
    rows = _dino_by_hand(student[mask].numpy(), teacher[mask].numpy(), np.zeros((1, 6)),
                         0.04, 0.1)
    assert rows.shape == (4, )
    assert value.item() == pytest.approx(rows.mean(), rel=1e-5)
    # not the mean over all tokens
    all_rows = _dino_by_hand(student.flatten(0, 1).numpy(), teacher.flatten(0, 1).numpy(),
                             np.zeros((1, 6)), 0.04, 0.1)
    assert abs(all_rows.mean() - rows.mean()) > 1e-3


def test_patch_loss_ignores_unmasked_values():
    student, teacher, mask = _patch_data()
    loss = PatchDistillationLoss(out_dim=6).eval()
    reference = loss(student, teacher, mask)
    noisy_student, noisy_teacher = student.clone(), teacher.clone()
    noisy_student[~mask] = torch.randn_like(noisy_student[~mask]) * 10
    noisy_teacher[~mask] = torch.randn_like(noisy_teacher[~mask]) * 10
    assert torch.equal(loss(noisy_student, noisy_teacher, mask), reference)
    changed = student.clone()
    changed[0, 0, 0] += 2.0  # a masked token (a constant shift would not change a softmax)
    assert not torch.allclose(loss(changed, teacher, mask), reference)


def test_patch_loss_nothing_masked_is_zero_with_grad():
    student, teacher, _ = _patch_data()
    student.requires_grad_()
    loss = PatchDistillationLoss(out_dim=6).train()
    value = loss(student, teacher, torch.zeros(2, 5, dtype=torch.bool))
    assert value.item() == 0.0
    assert value.requires_grad
    value.backward()
    assert torch.equal(student.grad, torch.zeros_like(student))
    assert torch.equal(loss.center, torch.zeros(1, 6))  # no centre update from nothing


def test_patch_loss_accepts_preselected_rows_and_updates_centre():
    student, teacher, mask = _patch_data()
    masked_loss = PatchDistillationLoss(out_dim=6, center_momentum=0.8).train()
    rows_loss = PatchDistillationLoss(out_dim=6, center_momentum=0.8).train()
    from_mask = masked_loss(student, teacher, mask)
    from_rows = rows_loss(student[mask], teacher[mask])
    torch.testing.assert_close(from_mask, from_rows)
    expected_center = 0.2 * teacher[mask].mean(dim=0, keepdim=True)
    torch.testing.assert_close(masked_loss.center, expected_center)
    torch.testing.assert_close(rows_loss.center, expected_center)


# ----------------------------------------------------------------------------- KoLeo
def test_koleo_matches_the_nearest_neighbour_distances_by_hand():
    # three points on the unit circle (scaled: the loss normalises): each one's nearest
    # neighbour is at distance sqrt(2)
    x = torch.tensor([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
    assert KoLeoLoss()(x).item() == pytest.approx(-math.log(math.sqrt(2.0)), rel=1e-6)
    # a duplicate row: distance 0 -> -log(eps) dominates
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    expected = -(2 * math.log(1e-4) + math.log(math.sqrt(2.0) + 1e-4)) / 3
    assert KoLeoLoss(eps=1e-4)(y).item() == pytest.approx(expected, rel=1e-5)


def test_koleo_gradient_spreads_collapsed_features():
    torch.manual_seed(0)
    # collapsed onto a plane (centred effective rank about 2) with a little noise
    x = (torch.randn(64, 2) @ torch.randn(2, 16) + 0.01 * torch.randn(64, 16)).requires_grad_()
    before = effective_rank(F.normalize(x.detach(), dim=-1))
    optimizer = torch.optim.SGD([x], lr=0.5)
    for _ in range(50):
        optimizer.zero_grad()
        KoLeoLoss()(x).backward()
        optimizer.step()
    after = effective_rank(F.normalize(x.detach(), dim=-1))
    assert before < 3 and after > 2 * before


def test_koleo_needs_two_rows():
    with pytest.raises(ValueError, match='N >= 2'):
        KoLeoLoss()(torch.randn(1, 8))


# ---------------------------------------------------------------- masked pixels
def test_patchify_follows_the_patch_convolution_token_order():
    x = torch.randn(2, 3, 8, 12)
    patches = patchify(x, (4, 4))
    assert patches.shape == (2, 6, 3 * 16)
    # token 4 is grid row 1, column 1; channel first, then rows and columns of the patch
    torch.testing.assert_close(patches[1, 4], x[1, :, 4:8, 4:8].reshape(-1))
    # the same order as a patchify convolution's flattened output
    conv = torch.nn.Conv2d(3, 5, kernel_size=4, stride=4, bias=False)
    tokens = conv(x).flatten(2).transpose(1, 2)
    torch.testing.assert_close(tokens, patches @ conv.weight.reshape(5, -1).t(),
                               rtol=1e-4, atol=1e-5)


def test_patchify_in_3d_and_bad_sizes():
    x = torch.randn(1, 1, 8, 16, 16)
    patches = patchify(x, (4, 8, 8))
    assert patches.shape == (1, 8, 256)
    torch.testing.assert_close(patches[0, 7], x[0, :, 4:, 8:, 8:].reshape(-1))
    with pytest.raises(ValueError, match='cannot be cut'):
        patchify(x, (3, 8, 8))


def test_masked_pixel_loss_normalises_each_patch():
    patches = torch.tensor([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 30.0, 30.0]])
    loss = MaskedPixelLoss()
    targets = loss.targets(patches)
    torch.testing.assert_close(targets.mean(dim=1), torch.zeros(2), atol=1e-6, rtol=0)
    torch.testing.assert_close(targets.std(dim=1, unbiased=False), torch.ones(2), atol=1e-4,
                               rtol=0)
    assert loss(targets, patches).item() == pytest.approx(0.0, abs=1e-8)
    prediction = torch.zeros(2, 4)
    assert loss(prediction, patches).item() == pytest.approx(
        F.mse_loss(prediction, targets).item())
    l1 = MaskedPixelLoss(norm_pix=False, criterion='l1')
    assert l1(prediction, patches).item() == pytest.approx(patches.abs().mean().item())
    with pytest.raises(ValueError, match='same shape'):
        loss(prediction[:1], patches)
    with pytest.raises(ValueError, match='criterion'):
        MaskedPixelLoss(criterion='huber')
    assert isinstance(LOSSES.build(dict(type='MaskedPixelLoss')), MaskedPixelLoss)
