"""``FiniteLossHook``: training stops at the first NaN or infinite loss, and says where."""
from __future__ import annotations

import math

import torch
from mmengine.hooks import Hook

from unimedi.registry import HOOKS


def _value(value) -> float | None:
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean()) if value.numel() else None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def batch_sample_names(data_batch, limit: int = 8) -> list[str]:
    """The ``img_path`` (else ``sample_idx``) of up to ``limit`` samples of a batch."""
    samples = data_batch.get('data_samples', []) if isinstance(data_batch, dict) else []
    names = []
    for sample in list(samples)[:limit]:
        meta = sample.metainfo if hasattr(sample, 'metainfo') else {}
        names.append(str(meta.get('img_path', meta.get('sample_idx', '?'))))
    if len(samples) > limit:
        names.append(f'... ({len(samples) - limit} more)')
    return names


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise ``FloatingPointError`` when a logged loss of a training iteration is not finite.

    The message names the iteration, the losses that are NaN or infinite and the batch's
    samples (their ``img_path``). The hook runs before the checkpoint hook, so the
    iteration that went wrong saves nothing: the last checkpoint on disk is the last good
    one (and :class:`~unimedi.engine.UniMedIRunner` refuses to write a model with non-finite
    weights in any case).

    Args:
        keys: which logged values to check: ``'losses'`` (keys containing ``loss``, the
            default) or ``'all'``.
    """

    priority = 'ABOVE_NORMAL'  # before the checkpoint (VERY_LOW) and EMA updates

    def __init__(self, keys: str = 'losses'):
        if keys not in ('losses', 'all'):
            raise ValueError(f"keys must be 'losses' or 'all', got {keys!r}")
        self.keys = keys

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not isinstance(outputs, dict):
            return
        bad = {}
        for key, value in outputs.items():
            if self.keys == 'losses' and 'loss' not in key:
                continue
            number = _value(value)
            if number is not None and not math.isfinite(number):
                bad[key] = number
        if bad:
            losses = ', '.join(f'{key}={number}' for key, number in bad.items())
            samples = ', '.join(batch_sample_names(data_batch)) or 'unknown'
            raise FloatingPointError(
                f'iteration {runner.iter + 1}: non-finite loss ({losses}); the batch: '
                f'{samples}. Training stopped before saving; check these inputs '
                '(and the learning rate).')
