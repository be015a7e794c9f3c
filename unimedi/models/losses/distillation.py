"""Self-distillation losses: DINO on [CLS], iBOT on masked patch tokens (``LOSSES``)."""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from unimedi.registry import LOSSES
from .full_precision import float32_forward


def _all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        x = x.clone()
        dist.all_reduce(x)
    return x


class _CenteredDistillation(nn.Module):
    """``H(Pt, Ps) = -sum_k Pt_k log Ps_k`` with ``Pt = softmax((t - c) / tau_t)`` and
    ``Ps = softmax(s / tau_s)``; the centre ``c`` is an EMA of the teacher outputs.

    Args:
        out_dim: prototypes of the DINO head.
        teacher_temp: tau_t (0.04).
        student_temp: tau_s (0.1).
        center_momentum: EMA momentum of the centre (0.9).
        num_centers: independent centres, e.g. one per modality (``group`` picks one); 1 is
            DINO's single centre.
    """

    def __init__(self, out_dim: int, teacher_temp: float = 0.04, student_temp: float = 0.1,
                 center_momentum: float = 0.9, num_centers: int = 1):
        super().__init__()
        if num_centers < 1:
            raise ValueError(f'num_centers must be >= 1, got {num_centers}')
        self.teacher_temp = teacher_temp
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.register_buffer('center', torch.zeros(num_centers, out_dim))

    def _center(self, group: int) -> torch.Tensor:
        if not 0 <= group < self.center.shape[0]:
            raise ValueError(f'group {group} out of range for {self.center.shape[0]} centre(s)')
        return self.center[group:group + 1]

    def cross_entropy(self, student: torch.Tensor, teacher: torch.Tensor,
                      group: int = 0) -> torch.Tensor:
        """Per-row ``H(Pt, Ps)`` for ``(N, K)`` logits, centred with centre ``group``."""
        targets = F.softmax((teacher - self._center(group)) / self.teacher_temp, dim=-1)
        return -(targets * F.log_softmax(student / self.student_temp, dim=-1)).sum(dim=-1)

    @torch.no_grad()
    def update_center(self, teacher: torch.Tensor, group: int = 0) -> None:
        """EMA of the mean teacher output over all rows of all processes (centre ``group``).

        Every process must call this once per step and group, even with zero rows: the
        sums and the row count are all-reduced in one fixed-shape collective, so ranks
        holding different 2D / 3D mixes stay in step.
        """
        center = self._center(group)
        teacher = teacher.float().reshape(-1, center.shape[-1])
        totals = torch.cat([teacher.sum(dim=0), teacher.new_tensor([teacher.shape[0]])])
        totals = _all_reduce_sum(totals)
        count = totals[-1]
        if count > 0:
            batch_center = (totals[:-1] / count).unsqueeze(0)
            center.mul_(self.center_momentum).add_(batch_center * (1 - self.center_momentum))


@LOSSES.register_module()
class DINOLoss(_CenteredDistillation):
    """DINO loss on the [CLS] outputs of student and teacher (``L_icl``)."""

    @float32_forward
    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                update_center: bool = True, group: int = 0) -> torch.Tensor:
        """
        Args:
            student: ``(B, K)`` student head logits.
            teacher: ``(B, K)`` teacher head logits (no gradient).
            update_center: update the centre now (in training mode); the caller may
                instead call :meth:`update_center` once per step with all its rows.
            group: the centre to use (and update).
        """
        loss = self.cross_entropy(student, teacher.detach(), group).mean()
        if self.training and update_center:
            self.update_center(teacher.detach(), group)
        return loss


@LOSSES.register_module()
class PatchDistillationLoss(_CenteredDistillation):
    """iBOT loss on masked patch tokens (``L_pcl``): the student predicts, for each token
    it could not see, the teacher's output for that token."""

    @float32_forward
    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                mask: torch.Tensor | None = None, update_center: bool = True,
                group: int = 0) -> torch.Tensor:
        """
        Args:
            student: ``(B, L, K)`` student head logits of the patch tokens, or ``(N, K)``
                logits of the masked tokens only (then ``mask`` is ``None``).
            teacher: the teacher's logits, same shape.
            mask: ``(B, L)`` bool, ``True`` where the student's token was masked.
            update_center: as in :class:`DINOLoss`.
            group: the centre to use (and update).

        Returns:
            the mean over masked tokens (0 when nothing is masked).
        """
        teacher = teacher.detach()
        if mask is not None:
            student, teacher = student[mask], teacher[mask]
        if self.training and update_center:
            self.update_center(teacher, group)  # collective: called even with no rows
        if student.shape[0] == 0:
            return student.sum() * 0.0
        return self.cross_entropy(student, teacher, group).mean()
