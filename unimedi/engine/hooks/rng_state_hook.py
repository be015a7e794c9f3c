"""``RNGStateHook``: a resumed run continues with the random state it stopped with."""
from __future__ import annotations

import random

import numpy as np
import torch
from mmengine.hooks import Hook

from unimedi.registry import HOOKS

RNG_KEY = 'rng_state'


def get_rng_state() -> dict:
    """The main process's Python, NumPy and torch (CPU and CUDA) generator states."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state`; also takes the plain lists a weights-only
    checkpoint holds (see :func:`~unimedi.engine.checkpoint.to_weights_only`)."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), int(pos), int(has_gauss),
                         float(cached)))
    torch.set_rng_state(torch.as_tensor(state['torch'], dtype=torch.uint8))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.as_tensor(s, dtype=torch.uint8)
                                      for s in state['cuda']])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random generators' states in every checkpoint; restore them on resume.

    MMEngine re-seeds a resumed run from the start, so whatever draws random numbers in the
    main process (random slice selection, token masks, drop path) draws other numbers after
    a resume than the uninterrupted run would. The state saved with iteration N is restored
    just before iteration N + 1 runs (after the dataloader has been advanced past the
    trained batches), so a resumed run repeats the uninterrupted one. Dataloader workers
    are re-created from the run's seed and replay the skipped batches, so their random
    transforms match as well; with ``num_workers=0`` the transforms run in the main process
    and draw from the restored state one batch late.
    """

    priority = 'LOW'  # after hooks that add to the checkpoint, before SafeCheckpointHook

    def __init__(self):
        self._pending = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[RNG_KEY] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get(RNG_KEY)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is not None:
            set_rng_state(self._pending)
            self._pending = None
