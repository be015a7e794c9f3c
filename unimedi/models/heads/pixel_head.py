"""Pixel prediction from patch tokens (``HEADS``), for masked-patch reconstruction."""
from __future__ import annotations

import torch
from torch import nn

from unimedi.registry import HEADS


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
        if hidden_dim is None:
            self.layers = nn.Linear(in_dim, out_dim)
        else:
            self.layers = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.GELU(),
                                        nn.Linear(hidden_dim, out_dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(..., in_dim)`` tokens -> ``(..., out_dim)`` pixels."""
        return self.layers(tokens)
