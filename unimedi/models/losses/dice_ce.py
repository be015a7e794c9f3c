"""``DiceCELoss``: MONAI's Dice + cross-entropy for label masks (``LOSSES``)."""
from __future__ import annotations

import torch
from monai.losses import DiceCELoss as MonaiDiceCELoss

from unimedi.registry import LOSSES


@LOSSES.register_module()
class DiceCELoss(MonaiDiceCELoss):
    """MONAI's ``DiceCELoss`` set up for logits and integer label masks (UNETR's loss).

    Softmax over the class channel and one-hot targets are fixed; everything else is
    MONAI's (``lambda_dice``, ``lambda_ce``, ``smooth_nr``, ``smooth_dr``, ``squared_pred``,
    ``batch``, ``weight``, ``label_smoothing``...).

    Args:
        include_background: count the background channel in the Dice term (MONAI's
            default ``True``; UNETR trains with it).
        **kwargs: more ``monai.losses.DiceCELoss`` arguments.
    """

    def __init__(self, include_background: bool = True, **kwargs):
        fixed = {'softmax', 'sigmoid', 'to_onehot_y', 'other_act'} & set(kwargs)
        if fixed:
            raise ValueError(f'DiceCELoss fixes softmax=True, to_onehot_y=True; do not set '
                             f'{sorted(fixed)}')
        super().__init__(include_background=include_background, to_onehot_y=True, softmax=True,
                         **kwargs)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """
        Args:
            logits: ``(B, K, *spatial)``.
            target: ``(B, *spatial)`` or ``(B, 1, *spatial)`` integer labels in ``[0, K)``.

        Returns:
            the scalar loss.
        """
        if target.ndim == logits.ndim - 1:
            target = target.unsqueeze(1)
        if target.shape[2:] != logits.shape[2:] or target.shape[:2] != (logits.shape[0], 1):
            raise ValueError(f'target {tuple(target.shape)} does not match logits '
                             f'{tuple(logits.shape)}: expected (B, 1, *spatial) labels')
        low, high = int(target.min()), int(target.max())
        if low < 0 or high >= logits.shape[1]:
            raise ValueError(f'labels must be in [0, {logits.shape[1]}), got {low}..{high}; '
                             'num_classes and the masks (classes, RemapLabels) disagree')
        return super().forward(logits, target.to(logits.dtype))
