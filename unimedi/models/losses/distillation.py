"""Self-distillation losses: DINO on [CLS], iBOT on masked patch tokens (``LOSSES``)."""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from unimedi.registry import LOSSES


def _all_reduce_mean(x: torch.Tensor) -> torch.Tensor:
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        x = x.clone()
        dist.all_reduce(x)
        x /= dist.get_world_size()
    return x


class _CenteredDistillation(nn.Module):
    """``H(Pt, Ps) = -sum_k Pt_k log Ps_k`` with ``Pt = softmax((t - c) / tau_t)`` and
    ``Ps = softmax(s / tau_s)``; the centre ``c`` is an EMA of the teacher outputs.

    Args:
        out_dim: prototypes of the DINO head.
        teacher_temp: tau_t (0.04).
        student_temp: tau_s (0.1).
        center_momentum: EMA momentum of the centre (0.9).
    """

    def __init__(self, out_dim: int, teacher_temp: float = 0.04, student_temp: float = 0.1,
                 center_momentum: float = 0.9):
        super().__init__()
        self.teacher_temp = teacher_temp
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.register_buffer('center', torch.zeros(1, out_dim))

    def cross_entropy(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Per-row ``H(Pt, Ps)`` for ``(N, K)`` logits."""
        targets = F.softmax((teacher - self.center) / self.teacher_temp, dim=-1)
        return -(targets * F.log_softmax(student / self.student_temp, dim=-1)).sum(dim=-1)

    @torch.no_grad()
    def update_center(self, teacher: torch.Tensor) -> None:
        """EMA of the mean teacher output (averaged over processes)."""
        if teacher.numel() == 0:
            return
        batch_center = _all_reduce_mean(teacher.float().mean(dim=0, keepdim=True))
        self.center.mul_(self.center_momentum).add_(batch_center * (1 - self.center_momentum))


@LOSSES.register_module()
class DINOLoss(_CenteredDistillation):
    """DINO loss on the [CLS] outputs of student and teacher (``L_icl``)."""

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """
        Args:
            student: ``(B, K)`` student head logits.
            teacher: ``(B, K)`` teacher head logits (no gradient).
        """
        loss = self.cross_entropy(student, teacher.detach()).mean()
        if self.training:
            self.update_center(teacher.detach())
        return loss


@LOSSES.register_module()
class PatchDistillationLoss(_CenteredDistillation):
    """iBOT loss on masked patch tokens (``L_pcl``): the student predicts, for each token
    it could not see, the teacher's output for that token."""

    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """
        Args:
            student: ``(B, L, K)`` student head logits of the patch tokens, or ``(N, K)``
                logits of the masked tokens only (then ``mask`` is ``None``).
            teacher: the teacher's logits, same shape.
            mask: ``(B, L)`` bool, ``True`` where the student's token was masked.

        Returns:
            the mean over masked tokens (0 when nothing is masked).
        """
        teacher = teacher.detach()
        if mask is not None:
            student, teacher = student[mask], teacher[mask]
        if student.shape[0] == 0:
            return student.sum() * 0.0
        loss = self.cross_entropy(student, teacher).mean()
        if self.training:
            self.update_center(teacher)
        return loss
