"""KoLeo: the Kozachenko-Leonenko differential-entropy regulariser (``LOSSES``)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unimedi.registry import LOSSES
from .full_precision import float32_forward


@LOSSES.register_module()
class KoLeoLoss(nn.Module):
    """``-mean_i log(min_{j != i} ||x_i - x_j||)`` over the L2-normalised rows of a batch.

    Pushes every feature away from its nearest neighbour in the batch, which spreads the
    features over the sphere (DINOv2, Oquab et al. 2023, after Sablayrolles et al. 2019):
    a direct counter to the rank collapse of the [CLS] features. Computed on one process's
    rows (as DINOv2 does).

    Args:
        eps: added to the distances before the log.
    """

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    @float32_forward
    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """
        Args:
            features: ``(N, C)``, ``N >= 2``.

        Returns:
            the scalar loss.
        """
        if features.dim() != 2 or features.shape[0] < 2:
            raise ValueError(f'KoLeoLoss needs (N >= 2, C) features, got {tuple(features.shape)}')
        x = F.normalize(features.float(), dim=-1, eps=self.eps)
        with torch.no_grad():  # the nearest neighbour: largest cosine, not oneself
            similarity = x @ x.t()
            similarity.fill_diagonal_(-2.0)
            nearest = similarity.argmax(dim=1)
        distances = (x - x[nearest]).norm(dim=-1)
        return -torch.log(distances + self.eps).mean()
