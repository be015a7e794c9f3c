"""Projection to the common image-report space (``HEADS``)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unimedi.registry import HEADS


def linear_or_mlp(in_dim: int, out_dim: int, hidden_dim: int | None = None) -> nn.Module:
    """One linear layer, or a two-layer GELU MLP through ``hidden_dim``."""
    if hidden_dim is None:
        return nn.Linear(in_dim, out_dim)
    return nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, out_dim))


@HEADS.register_module()
class ProjectionHead(nn.Module):
    """Linear (or two-layer MLP) projection followed by L2 normalisation.

    Args:
        in_dim: input width.
        out_dim: width of the common space.
        hidden_dim: hidden width of a two-layer MLP; ``None`` for a single linear layer.
        input_norm: ``'batch'`` standardises the inputs over the batch first (removes
            the large common direction of a frozen text encoder's embeddings, so reports
            are told apart from the first step), ``'layer'`` applies LayerNorm, ``None``
            nothing.
    """

    def __init__(self, in_dim: int, out_dim: int = 256, hidden_dim: int | None = None,
                 input_norm: str | None = None):
        super().__init__()
        norms = {None: nn.Identity, 'batch': lambda d: nn.BatchNorm1d(d, affine=False),
                 'layer': nn.LayerNorm}
        if input_norm not in norms:
            raise ValueError(f"input_norm must be 'batch', 'layer' or None, got {input_norm!r}")
        self.input_norm = norms[input_norm](in_dim)
        self.layers = linear_or_mlp(in_dim, out_dim, hidden_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_dim)`` -> ``(B, out_dim)`` unit vectors."""
        return F.normalize(self.layers(self.input_norm(x)), dim=-1)
