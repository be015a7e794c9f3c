"""``AtomicCheckpointHook``: old checkpoints are deleted only after the new one is whole."""
from __future__ import annotations

import contextlib
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from unimedi.registry import HOOKS
from ..checkpoint_files import write_text_atomically


class _DeferredRemovals:
    """A file backend whose ``remove`` / ``rmtree`` are recorded instead of done."""

    def __init__(self, backend):
        self._backend = backend
        self.pending = []

    def remove(self, path):
        self.pending.append((self._backend.remove, path))

    def rmtree(self, path):
        self.pending.append((self._backend.rmtree, path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` that cannot lose the last good checkpoint.

    MMEngine deletes the checkpoint beyond ``max_keep_ckpts`` (and the previous best)
    *before* it writes the new one, and points ``last_checkpoint`` at the new file before it
    exists; with ``max_keep_ckpts=1`` a crash or a full disk during the write leaves no
    checkpoint at all. Here:

    - the file is written atomically by :class:`~unimedi.engine.UniMedIRunner` (a
      ``.partial`` file, ``fsync``, then a rename);
    - the old files are deleted only after the new one is complete (for a moment
      ``max_keep_ckpts + 1`` files are on disk);
    - ``last_checkpoint`` is rewritten in one step after the save, so it always names a
      complete file.

    Arguments are those of ``CheckpointHook``.
    """

    @contextlib.contextmanager
    def _removals_after_save(self):
        deferred = _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
        try:
            yield
        finally:
            self.file_backend = deferred._backend
        for remove, path in deferred.pending:  # only reached when the save succeeded
            if self.file_backend.exists(path):
                remove(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        with self._removals_after_save():
            super()._save_checkpoint_with_step(runner, step, meta)
        if is_main_process() and self.last_ckpt:
            write_text_atomically(osp.join(runner.work_dir, 'last_checkpoint'),
                                  self.last_ckpt)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        with self._removals_after_save():
            super()._save_best_checkpoint(runner, metrics)
