"""Token masks for the student (``SELECTORS``): attentive region selection and random."""
from __future__ import annotations

import torch

from unimedi.registry import SELECTORS


class _TokenMasker:
    """Args: mask_ratio: fraction of the L tokens hidden from the student (0 <= r < 1)."""

    def __init__(self, mask_ratio: float = 0.5):
        if not 0.0 <= mask_ratio < 1.0:
            raise ValueError(f'mask_ratio must be in [0, 1), got {mask_ratio}')
        self.mask_ratio = mask_ratio

    def num_masked(self, length: int) -> int:
        return int(round(self.mask_ratio * length))

    @staticmethod
    def _mask_from_order(order: torch.Tensor, num_masked: int) -> torch.Tensor:
        mask = torch.zeros(order.shape, dtype=torch.bool, device=order.device)
        if num_masked:
            mask.scatter_(1, order[:, :num_masked], True)
        return mask


@SELECTORS.register_module()
class AttentiveRegionSelector(_TokenMasker):
    """Keep the most attended tokens, hide the rest (A-CLIP style attentive masking).

    With the [CLS] attention of the teacher, the student sees the regions the report is
    about (for X-rays: the affected lung regions).
    """

    def __call__(self, attention: torch.Tensor) -> torch.Tensor:
        """``(B, L)`` attention -> ``(B, L)`` bool mask, ``True`` = hidden (least attended)."""
        order = torch.sort(attention, dim=1, descending=False, stable=True).indices
        return self._mask_from_order(order, self.num_masked(attention.shape[1]))


@SELECTORS.register_module()
class RandomRegionSelector(_TokenMasker):
    """Hide a random ``mask_ratio`` of the tokens (iBOT-style random masking)."""

    def __call__(self, attention: torch.Tensor) -> torch.Tensor:
        order = torch.rand(attention.shape, device=attention.device).argsort(dim=1)
        return self._mask_from_order(order, self.num_masked(attention.shape[1]))
