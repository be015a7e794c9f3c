"""``TeacherEMAHook``: EMA update of the self-distillation teacher, cosine momentum."""
from __future__ import annotations

import contextlib
import math

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from unimedi.registry import HOOKS


def cosine_momentum(base: float, end: float, step: int, total: int) -> float:
    """Momentum rising from ``base`` to ``end`` along a half cosine over ``total`` steps."""
    progress = min(max(step / max(total, 1), 0.0), 1.0)
    return end - (end - base) * (math.cos(math.pi * progress) + 1.0) / 2.0


@HOOKS.register_module()
class TeacherEMAHook(Hook):
    """After every training iteration call ``model.momentum_update(m)`` with
    ``m = cosine_momentum(momentum, end_momentum, iter, max_iters)`` (DINO's schedule).

    Under FSDP (``FSDPStrategy``) each rank holds shards of parameters whose layout differs
    between teacher and student outside the per-block units, so the update runs inside
    ``FullyShardedDataParallel.summon_full_params`` (full parameters, written back to the
    shards): one extra all-gather of the parameters per step.

    Args:
        momentum: momentum at the start (0.996).
        end_momentum: momentum at the end of training (1.0).
    """

    priority = 'NORMAL'

    def __init__(self, momentum: float = 0.996, end_momentum: float = 1.0):
        if not 0.0 <= momentum <= end_momentum <= 1.0:
            raise ValueError('need 0 <= momentum <= end_momentum <= 1, got '
                             f'{momentum}, {end_momentum}')
        self.momentum = momentum
        self.end_momentum = end_momentum

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'momentum_update'):
            raise TypeError(f'{type(model).__name__} has no momentum_update(); '
                            'TeacherEMAHook needs a model with an EMA teacher')
        momentum = cosine_momentum(self.momentum, self.end_momentum, runner.iter,
                                   runner.max_iters)
        with _full_parameters(runner.model):
            model.momentum_update(momentum)
        runner.message_hub.update_scalar('train/ema_momentum', momentum)


def _full_parameters(model):
    """``summon_full_params(writeback=True)`` for an FSDP-wrapped model, else nothing."""
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel
    except ImportError:  # a torch without distributed support
        return contextlib.nullcontext()
    if isinstance(model, FullyShardedDataParallel):
        return FullyShardedDataParallel.summon_full_params(model, writeback=True)
    return contextlib.nullcontext()
