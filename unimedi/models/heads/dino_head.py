"""DINO projection head for self-distillation on [CLS] and patch tokens (``HEADS``)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from unimedi.registry import HEADS


@HEADS.register_module()
class DINOHead(nn.Module):
    """MLP -> L2-normalised bottleneck -> weight-normalised prototypes (as DINO / iBOT).

    Args:
        in_dim: token width.
        out_dim: number of prototypes (8192 in the paper setting).
        hidden_dim: MLP width.
        bottleneck_dim: width before the prototype layer.
        num_layers: MLP depth (>= 1).
        norm_last_layer: freeze the prototype norms at 1 (stabilises training).
    """

    def __init__(self, in_dim: int, out_dim: int = 8192, hidden_dim: int = 2048,
                 bottleneck_dim: int = 256, num_layers: int = 3, norm_last_layer: bool = True):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        if num_layers == 1:
            self.mlp = nn.Linear(in_dim, bottleneck_dim)
        else:
            layers = [nn.Linear(in_dim, hidden_dim), nn.GELU()]
            for _ in range(num_layers - 2):
                layers += [nn.Linear(hidden_dim, hidden_dim), nn.GELU()]
            layers.append(nn.Linear(hidden_dim, bottleneck_dim))
            self.mlp = nn.Sequential(*layers)
        for module in self.mlp.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        self.last_layer = weight_norm(nn.Linear(bottleneck_dim, out_dim, bias=False))
        self.last_layer.parametrizations.weight.original0.data.fill_(1.0)
        if norm_last_layer:
            self.last_layer.parametrizations.weight.original0.requires_grad_(False)
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., in_dim)`` -> ``(..., out_dim)`` prototype logits."""
        return self.last_layer(F.normalize(self.mlp(x), dim=-1))
