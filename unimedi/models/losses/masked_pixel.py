"""Masked-patch pixel reconstruction (``LOSSES``): SimMIM / MAE targets beside distillation."""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from unimedi.registry import LOSSES
from .full_precision import float32_forward


def patchify(x: torch.Tensor, patch_size: Sequence[int]) -> torch.Tensor:
    """Cut an image or volume into the token grid's patches, in token order.

    Args:
        x: ``(B, C, H, W)`` or ``(B, C, D, H, W)``.
        patch_size: one size per spatial axis, dividing it.

    Returns:
        ``(B, L, C * prod(patch_size))``: row-major over the grid (the order of a patchify
        convolution's flattened output), each patch flattened channel first.
    """
    batch, channels, *spatial = x.shape
    if len(spatial) != len(patch_size) or any(s % p for s, p in zip(spatial, patch_size)):
        raise ValueError(f'input {tuple(x.shape)} cannot be cut into patches of '
                         f'{tuple(patch_size)}')
    grid = [s // p for s, p in zip(spatial, patch_size)]
    shape = [batch, channels]
    for g, p in zip(grid, patch_size):
        shape += [g, p]
    dims = len(spatial)
    x = x.reshape(shape)
    # (B, C, g1, p1, g2, p2, ...) -> (B, g1, g2, ..., C, p1, p2, ...)
    order = [0] + [2 + 2 * i for i in range(dims)] + [1] + [3 + 2 * i for i in range(dims)]
    return x.permute(order).reshape(batch, -1, channels * math.prod(patch_size))


@LOSSES.register_module()
class MaskedPixelLoss(nn.Module):
    """Regress the pixels of the masked patches from the student's patch tokens.

    A pixel-level target beside the feature-level distillation: DINO and iBOT only ask the
    student to match the teacher's prototypes, and a cue the teacher does not use (a faint
    pneumothorax, a ground-glass haze) can vanish from both. Reconstruction keeps it
    (SimMIM, Xie et al. 2022; MAE, He et al. 2022, whose ``norm_pix`` targets this follows).
    Not in the UniMedI paper.

    Args:
        norm_pix: normalise each target patch to zero mean and unit variance first (MAE's
            ``norm_pix_loss``): the texture of a patch, not its brightness, is the target.
        criterion: ``'mse'`` (MAE) or ``'l1'`` (SimMIM).
        eps: added to the patch variance.
    """

    def __init__(self, norm_pix: bool = True, criterion: str = 'mse', eps: float = 1e-6):
        super().__init__()
        if criterion not in ('mse', 'l1'):
            raise ValueError(f"criterion must be 'mse' or 'l1', got {criterion!r}")
        self.norm_pix = norm_pix
        self.criterion = criterion
        self.eps = eps

    def targets(self, patches: torch.Tensor) -> torch.Tensor:
        """``(..., P)`` patches -> the regression targets (normalised when ``norm_pix``)."""
        patches = patches.float()
        if not self.norm_pix:
            return patches
        mean = patches.mean(dim=-1, keepdim=True)
        var = patches.var(dim=-1, keepdim=True, unbiased=False)
        return (patches - mean) / (var + self.eps).sqrt()

    @float32_forward
    def forward(self, prediction: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
        """
        Args:
            prediction: ``(N, P)`` predicted pixels of N masked patches.
            patches: ``(N, P)`` their input pixels (from :func:`patchify`).

        Returns:
            the scalar loss, averaged over patches and pixels.
        """
        if prediction.shape != patches.shape:
            raise ValueError(f'prediction {tuple(prediction.shape)} and patches '
                             f'{tuple(patches.shape)} must have the same shape')
        target = self.targets(patches)
        if self.criterion == 'mse':
            return F.mse_loss(prediction.float(), target)
        return F.l1_loss(prediction.float(), target)
