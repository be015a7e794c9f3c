"""``MeanOverRanksHook``: a distributed run logs the mean of its ranks, not rank 0's values."""
from __future__ import annotations

from mmengine.hooks import Hook

from unimedi.registry import HOOKS
from unimedi.utils.distributed import mean_over_ranks, world_size


@HOOKS.register_module()
class MeanOverRanksHook(Hook):
    """Replace each training iteration's logged values by their mean over the ranks.

    Every rank computes its losses on its own part of the batch; MMEngine logs rank 0's.
    This hook runs first after the step (before ``RuntimeInfoHook`` hands the values to the
    logger), so the log, ``scalars.json`` and every later hook see the losses of the whole
    global batch: with equal per-rank batches, what one process with the global batch logs.
    Only the logged copies change; the gradients were averaged by DDP already. A no-op in a
    single process.
    """

    priority = 'HIGHEST'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if isinstance(outputs, dict) and world_size() > 1:
            outputs.update(mean_over_ranks(outputs))
