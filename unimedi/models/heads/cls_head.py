"""Linear classification head with its loss (``HEADS``)."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from unimedi.registry import HEADS


@HEADS.register_module()
class LinearClsHead(nn.Module):
    """A linear layer over pooled image features; multi-label (BCE) or multi-class (CE).

    Args:
        in_dim: feature width (filled in by the classifier).
        num_classes: number of classes (outputs).
        multi_label: ``True``: one sigmoid per class, BCE loss, ``gt_label`` multi-hot
            ``(num_classes,)``; ``False``: softmax over classes, cross-entropy,
            ``gt_label`` a class index.
        input_norm: ``'batch'`` standardises features over the batch without affine
            parameters (MAE's linear-probe BatchNorm: makes one learning rate fit features
            of any scale), ``'layer'`` LayerNorm, ``None`` nothing.
        dropout: dropout on the features before the linear layer.
        label_smoothing: cross-entropy label smoothing (multi-class only).
        pos_weight: per-class weight of positives in BCE (multi-label only), e.g. for rare
            findings.
    """

    def __init__(self, in_dim: int, num_classes: int, multi_label: bool = False,
                 input_norm: str | None = None, dropout: float = 0.0,
                 label_smoothing: float = 0.0, pos_weight: Sequence[float] | None = None):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if not multi_label and num_classes < 2:
            raise ValueError('a multi-class head needs num_classes >= 2; use multi_label=True '
                             'with one class for a binary task scored by AUC')
        norms = {None: nn.Identity, 'batch': lambda d: nn.BatchNorm1d(d, affine=False),
                 'layer': nn.LayerNorm}
        if input_norm not in norms:
            raise ValueError(f"input_norm must be 'batch', 'layer' or None, got {input_norm!r}")
        self.num_classes = num_classes
        self.multi_label = multi_label
        self.label_smoothing = label_smoothing
        self.input_norm = norms[input_norm](in_dim)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_dim, num_classes)
        nn.init.trunc_normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)
        if pos_weight is not None:
            if len(pos_weight) != num_classes or not multi_label:
                raise ValueError('pos_weight needs multi_label=True and one value per class')
            self.register_buffer('pos_weight', torch.as_tensor(pos_weight, dtype=torch.float))
        else:
            self.pos_weight = None

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(B, in_dim)`` -> ``(B, num_classes)`` logits."""
        return self.fc(self.dropout(self.input_norm(features)))

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """BCE (``targets`` ``(B, num_classes)`` in [0, 1]) or CE (``targets`` ``(B,)``)."""
        if self.multi_label:
            if targets.shape != logits.shape:
                raise ValueError(f'multi-label targets must be {tuple(logits.shape)} '
                                 f'(multi-hot), got {tuple(targets.shape)}')
            return F.binary_cross_entropy_with_logits(logits, targets.float(),
                                                      pos_weight=self.pos_weight)
        if targets.ndim != 1:
            raise ValueError(f'multi-class targets must be class indices (B,), got '
                             f'{tuple(targets.shape)}; set multi_label=True for multi-hot '
                             'labels')
        return F.cross_entropy(logits, targets.long(), label_smoothing=self.label_smoothing)

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Probabilities: sigmoid (multi-label) or softmax (multi-class)."""
        return logits.sigmoid() if self.multi_label else logits.softmax(dim=-1)
