"""Symmetric InfoNCE between image and report embeddings (``LOSSES``)."""
from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from unimedi.registry import LOSSES
from .full_precision import float32_forward


def gather_with_grad(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All ranks' ``x`` concatenated (gradients flow back to each rank's own part).

    Ranks may hold different numbers of rows (the last batch, or another 2D / 3D mix):
    rows are padded to the largest count for the collective and cut back afterwards.

    Returns:
        ``(sum of rows over ranks, ...)`` and the offset of this rank's rows. Without a
        process group the input comes back with offset 0.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x, 0
    from torch.distributed.nn.functional import all_gather
    world, rank = dist.get_world_size(), dist.get_rank()
    count = torch.tensor([x.shape[0]], device=x.device)
    counts = [torch.zeros_like(count) for _ in range(world)]
    dist.all_gather(counts, count)
    counts = [int(c.item()) for c in counts]
    largest = max(counts)
    if x.shape[0] < largest:
        x = torch.cat([x, x.new_zeros((largest - x.shape[0], *x.shape[1:]))])
    parts = all_gather(x.contiguous())
    return torch.cat([part[:n] for part, n in zip(parts, counts)]), sum(counts[:rank])


@LOSSES.register_module()
class InfoNCELoss(nn.Module):
    """CLIP loss: cross-entropy image -> report and report -> image, averaged.

    The logit scale (inverse temperature) is learnable, initialised at
    ``1 / init_temperature`` and clamped at ``max_logit_scale``. In a distributed run the
    negatives are gathered from every process (with gradient), so the loss sees the global
    batch; one batch mixes 2D and 3D samples against all reports.

    Args:
        init_temperature: initial temperature (0.07).
        learnable: learn the temperature.
        max_logit_scale: upper clamp of the logit scale.
        gather: use the other processes' samples as negatives.
    """

    def __init__(self, init_temperature: float = 0.07, learnable: bool = True,
                 max_logit_scale: float = 100.0, gather: bool = True):
        super().__init__()
        # shape (1,), not a scalar: FSDP cannot shard 0-d parameters (a scalar saved by an
        # older checkpoint is reshaped on load, see _load_from_state_dict)
        log_scale = torch.tensor([math.log(1.0 / init_temperature)])
        if learnable:
            self.log_logit_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer('log_logit_scale', log_scale)
        self.max_logit_scale = max_logit_scale
        self.gather = gather

    @property
    def logit_scale(self) -> torch.Tensor:
        """The scalar inverse temperature (0-d)."""
        return self.log_logit_scale.exp().clamp(max=self.max_logit_scale).squeeze(0)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + 'log_logit_scale'
        if key in state_dict and state_dict[key].dim() == 0:  # checkpoints before (1,)
            state_dict[key] = state_dict[key].reshape(1)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def logits(self, image: torch.Tensor, text: torch.Tensor):
        """Scaled similarities of local images to all reports, and of local reports to all
        images: ``(B, world * B)`` each, with the offset of the positives."""
        all_image, offset = gather_with_grad(image) if self.gather else (image, 0)
        all_text, _ = gather_with_grad(text) if self.gather else (text, 0)
        scale = self.logit_scale
        return scale * image @ all_text.t(), scale * text @ all_image.t(), offset

    @float32_forward
    def forward(self, image: torch.Tensor, text: torch.Tensor,
                groups: torch.Tensor | None = None) -> torch.Tensor:
        """
        Args:
            image: ``(B, E)`` L2-normalised image embeddings.
            text: ``(B, E)`` L2-normalised report embeddings, row i pairs with image i.
            groups: ``(B,)`` integer group of each pair (e.g. 0 for radiographs, 1 for
                CTs), or ``None``. With groups, only pairs of the same group are negatives
                of each other (across processes too).
        """
        if image.shape != text.shape:
            raise ValueError(f'image {tuple(image.shape)} and text {tuple(text.shape)} '
                             'embeddings must have the same shape')
        image_logits, text_logits, offset = self.logits(image, text)
        targets = torch.arange(image.shape[0], device=image.device) + offset
        if groups is not None:
            if groups.shape != (image.shape[0], ):
                raise ValueError(f'groups must have shape ({image.shape[0]},), got '
                                 f'{tuple(groups.shape)}')
            all_groups = gather_with_grad(groups.to(image.dtype))[0] if self.gather else groups
            other = groups.to(image.dtype)[:, None] != all_groups[None, :].to(image.dtype)
            image_logits = image_logits.masked_fill(other, float('-inf'))
            text_logits = text_logits.masked_fill(other, float('-inf'))
        return (F.cross_entropy(image_logits, targets) + F.cross_entropy(text_logits, targets)) / 2
