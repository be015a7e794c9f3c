"""Slice selection for CT volumes (``SELECTORS``): attentive (language-guided) and random."""
from __future__ import annotations

import torch

from unimedi.registry import SELECTORS


class _SliceSelector:
    """Shared logic: how many slices, and gathering them from the volume.

    Args:
        ratio: fraction of the D slices to keep (used when ``topk`` is ``None``).
        topk: a fixed number of slices.
        min_slices: never fewer than this many (at least one).
    """

    def __init__(self, ratio: float = 0.1, topk: int | None = None, min_slices: int = 1):
        if topk is None and not 0.0 < ratio <= 1.0:
            raise ValueError(f'ratio must be in (0, 1], got {ratio}')
        if topk is not None and topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        self.ratio = ratio
        self.topk = topk
        self.min_slices = max(1, int(min_slices))

    def num_slices(self, depth: int) -> int:
        """How many of ``depth`` slices are kept."""
        count = self.topk if self.topk is not None else int(round(self.ratio * depth))
        return int(min(depth, max(self.min_slices, count)))

    @staticmethod
    def gather(volume: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """Pick slices: ``(B, C, D, H, W)`` and ``(B, k)`` -> ``(B, k, C, H, W)``."""
        batch, channels, _, height, width = volume.shape
        index = indices[:, None, :, None, None].expand(batch, channels, -1, height, width)
        return volume.gather(2, index).transpose(1, 2)


@SELECTORS.register_module()
class AttentiveSliceSelector(_SliceSelector):
    """Keep the slices that the [CLS] token attends to most (language-guided selection).

    The [CLS] -> patch attention of a 3D input (averaged over layers and heads) is
    reshaped to its token grid ``(d, h, w)``; a slab's score is the mean over its ``h * w``
    patches; a 3D patch of depth ``p`` covers ``p`` slices, so every slice takes its
    slab's score. The top-k slices are returned (ties go to the lower index, then sorted).

    Args:
        center: ``None`` (the paper's rule) or ``'batch'``: subtract the batch's mean slab
            profile before ranking, so a slab wins by what this CT's report-trained [CLS]
            attends to more than the other CTs' do. A nearly flat attention with the same
            small bias in every volume (e.g. towards the first slab, from the tokenizer's
            zero padding) otherwise picks the same slab for every CT. A batch of one is
            ranked as it is. Not in the paper; an option.
        ratio, topk, min_slices: as :class:`_SliceSelector`.
    """

    def __init__(self, ratio: float = 0.1, topk: int | None = None, min_slices: int = 1,
                 center: str | None = None):
        super().__init__(ratio=ratio, topk=topk, min_slices=min_slices)
        if center not in (None, 'batch'):
            raise ValueError(f"center must be None or 'batch', got {center!r}")
        self.center = center

    def slice_scores(self, attention: torch.Tensor, grid, depth: int) -> torch.Tensor:
        """``(B, L)`` attention over a ``grid`` of tokens -> ``(B, depth)`` slice scores."""
        if attention.shape[1] != grid[0] * grid[1] * grid[2]:
            raise ValueError(f'attention has {attention.shape[1]} tokens, grid {tuple(grid)} '
                             'needs their product')
        if depth % grid[0]:
            raise ValueError(f'{depth} slices cannot be split into {grid[0]} slabs')
        slab = attention.reshape(attention.shape[0], grid[0], -1).mean(dim=-1)
        return slab.repeat_interleave(depth // grid[0], dim=1)

    def __call__(self, attention: torch.Tensor, grid, depth: int) -> torch.Tensor:
        """
        Args:
            attention: ``(B, L)`` [CLS] attention over the 3D tokens.
            grid: the token grid ``(d, h, w)``.
            depth: the number of slices D of the volume.

        Returns:
            ``(B, k)`` long slice indices in ascending order.
        """
        scores = self.slice_scores(attention, grid, depth)
        if self.center == 'batch' and scores.shape[0] > 1:
            scores = scores - scores.mean(dim=0, keepdim=True)
        k = self.num_slices(depth)
        # stable ranking: tied scores keep the lower slice index first
        order = torch.sort(scores, dim=1, descending=True, stable=True).indices
        return order[:, :k].sort(dim=1).values


@SELECTORS.register_module()
class RandomSliceSelector(_SliceSelector):
    """Keep k random slices (the ablation of attentive selection)."""

    def __call__(self, attention: torch.Tensor | None, grid, depth: int,
                 batch_size: int | None = None, device=None) -> torch.Tensor:
        batch = attention.shape[0] if attention is not None else batch_size
        device = attention.device if attention is not None else device
        k = self.num_slices(depth)
        scores = torch.rand(batch, depth, device=device)
        return scores.topk(k, dim=1).indices.sort(dim=1).values
