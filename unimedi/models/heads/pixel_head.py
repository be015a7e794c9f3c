"""Pixel prediction from patch tokens (``HEADS``), for masked-patch reconstruction."""
from __future__ import annotations

import torch
from torch import nn

from unimedi.registry import HEADS
from .projection_head import linear_or_mlp


@HEADS.register_module()
class PixelPredictionHead(nn.Module):
    """A linear (SimMIM) or two-layer MLP map from a patch token to its patch's pixels.

    Args:
        in_dim: token width.
        out_dim: pixels of a patch (``channels * prod(patch_size)``).
        hidden_dim: hidden width of a two-layer MLP; ``None`` for one linear layer.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int | None = None):
        super().__init__()
        self.layers = linear_or_mlp(in_dim, out_dim, hidden_dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(..., in_dim)`` tokens -> ``(..., out_dim)`` pixels."""
        return self.layers(tokens)
