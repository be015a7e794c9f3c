"""Where UniMedI looks: the EMA teacher's [CLS] attention, the student's token mask and,
for CTs, the slice scores and the slices the selector keeps, exactly as in training.

>>> explanations = explain_inputs(model, inputs, '3d')   # inputs: (B, C, D, H, W)
>>> explanations[0].selected_slices                        # (k,) the selector's output
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from unimedi.structures import check_modality


@dataclass
class Explanation:
    """The maps of one image.

    Attributes:
        modality: ``'2d'`` or ``'3d'``.
        image: the model's input, first channel, ``(H, W)`` or ``(D, H, W)`` float32
            (after the data preprocessor's normalisation).
        attention: the teacher's [CLS] -> patch attention on the token grid, ``(h, w)`` or
            ``(d, h, w)``; it sums to 1.
        attention_map: ``attention`` resized to the image, ``(H, W)`` or ``(D, H, W)``
            (each token's value over its patch), min-max scaled to [0, 1] per image.
        student_mask: ``(h, w)`` / ``(d, h, w)`` bool, ``True`` = token hidden from the
            student; ``None`` when the model has no token masker.
        slice_scores: ``(D,)`` the slice selector's score of each slice (3D with an
            attentive selector), else ``None``.
        selected_slices: ``(k,)`` int64 slice indices, ascending, the selector's output
            (3D with a selector), else ``None``.
        path: the input file or folder, when explained from a path.
    """

    modality: str
    image: np.ndarray
    attention: np.ndarray
    attention_map: np.ndarray
    student_mask: np.ndarray | None = None
    slice_scores: np.ndarray | None = None
    selected_slices: np.ndarray | None = None
    path: str | None = None

    @property
    def peak_ratio(self) -> float:
        """The largest token attention over the uniform ``1 / L``: 1.0 is a flat map, so a
        min-max scaled ``attention_map`` with a ratio near 1 shows noise, not a focus."""
        return float(self.attention.max() * self.attention.size)

    def mask_map(self) -> np.ndarray | None:
        """``student_mask`` resized to the image (``True`` = hidden), or ``None``."""
        if self.student_mask is None:
            return None
        return _resize_to(torch.from_numpy(self.student_mask[None].astype(np.float32)),
                          self.image.shape)[0].numpy() > 0.5


def _resize_to(grid_values: torch.Tensor, shape) -> torch.Tensor:
    """``(B, *grid)`` -> ``(B, *shape)``, each grid cell over its patch (nearest)."""
    return F.interpolate(grid_values[:, None].float(), size=tuple(shape), mode='nearest')[:, 0]


def _scaled(values: torch.Tensor) -> torch.Tensor:
    """Per row of ``(B, ...)``: min-max scaled to [0, 1] (a constant row becomes 0)."""
    flat = values.flatten(1)
    shape = (-1, *([1] * (values.ndim - 1)))
    low = flat.amin(dim=1).view(shape)
    span = (flat.amax(dim=1).view(shape) - low).clamp_min(1e-12)
    return (values - low) / span


@torch.no_grad()
def explain_inputs(model, inputs: torch.Tensor, modality: str) -> list[Explanation]:
    """The maps of a preprocessed batch of one modality.

    The teacher runs on the full input (``model.teacher_pass``), as in training; the
    selector and the masker are the model's own, so ``selected_slices`` is what the student
    would be shown. An attentive selector with ``center='batch'`` ranks against the batch
    it is given: explain a training-sized batch to reproduce training.

    Args:
        model: a UniMedI model (``teacher_pass``, ``slice_selector``, ``token_masker``).
        inputs: ``(B, C, H, W)`` (2D) or ``(B, C, D, H, W)`` (3D), the output of the
            model's data preprocessor.
        modality: ``'2d'`` or ``'3d'``.

    Returns:
        one :class:`Explanation` per row.
    """
    check_modality(modality)
    spatial = 2 if modality == '2d' else 3
    if inputs.ndim != spatial + 2:
        raise ValueError(f'{modality} inputs must be (B, C, {"D, " if spatial == 3 else ""}'
                         f'H, W), got {tuple(inputs.shape)}')
    for attribute in ('teacher_pass', 'slice_selector', 'token_masker'):
        if not hasattr(model, attribute):
            raise TypeError(f'{type(model).__name__} has no {attribute}: explanations need '
                            'a UniMedI model with its EMA teacher')
    teacher = model.teacher_pass(inputs, modality)
    attention = teacher['cls_attention'].float()
    grid = tuple(int(g) for g in teacher['grid'])
    on_grid = attention.reshape(attention.shape[0], *grid).cpu()
    maps = _scaled(_resize_to(on_grid, inputs.shape[2:]))
    masks = model.token_masker(attention) if model.token_masker is not None else None
    scores = selected = None
    selector = model.slice_selector
    if modality == '3d' and selector is not None:
        depth = inputs.shape[2]
        selected = selector(attention, grid, depth).cpu()
        if hasattr(selector, 'slice_scores'):
            scores = selector.slice_scores(attention, grid, depth).cpu()
    images = inputs[:, 0].float().cpu().numpy()
    out = []
    for i in range(inputs.shape[0]):
        out.append(Explanation(
            modality=modality, image=images[i], attention=on_grid[i].numpy(),
            attention_map=maps[i].numpy(),
            student_mask=None if masks is None else masks[i].reshape(grid).cpu().numpy(),
            slice_scores=None if scores is None else scores[i].numpy(),
            selected_slices=None if selected is None else selected[i].numpy().astype(np.int64)))
    return out


def selection_hits(explanation: Explanation, lesion_slices=None,
                   lesion_mask: np.ndarray | None = None) -> tuple[float, float] | None:
    """How well one image's selection finds its lesion: ``(precision, chance)``.

    3D: the fraction of the selected slices that hold a lesion, and the fraction of all
    slices that do (as ``UniMedI.selection_precision``). 2D: the fraction of the tokens
    the student sees that overlap the lesion mask, and the fraction of all tokens that do.

    Args:
        explanation: from :func:`explain_inputs`.
        lesion_slices: the lesion slice indices (3D).
        lesion_mask: ``(H, W)`` bool lesion mask on the model's input grid (2D).

    Returns:
        ``(precision, chance)``, or ``None`` without a lesion (or without a selection).
    """
    if explanation.modality == '3d':
        if explanation.selected_slices is None or lesion_slices is None \
                or len(lesion_slices) == 0:
            return None
        lesions = np.asarray(lesion_slices, np.int64)
        depth = explanation.image.shape[0]
        hits = np.isin(explanation.selected_slices, lesions).mean()
        return float(hits), len(np.unique(lesions)) / depth
    if explanation.student_mask is None or lesion_mask is None or not np.any(lesion_mask):
        return None
    if lesion_mask.shape != explanation.image.shape:
        raise ValueError(f'lesion mask {lesion_mask.shape} must match the image '
                         f'{explanation.image.shape}')
    grid = explanation.student_mask.shape
    covered = F.adaptive_max_pool2d(torch.from_numpy(lesion_mask.astype(np.float32))[None],
                                    grid)[0].numpy() > 0
    seen = ~explanation.student_mask
    if not seen.any():
        return None
    return float(covered[seen].mean()), float(covered.mean())
