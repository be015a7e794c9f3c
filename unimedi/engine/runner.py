"""A console a newcomer can read: MMEngine's ``Runner`` with its start-up dumps kept out of
the terminal (they still go to the log file).

At the default ``log_level='INFO'`` the terminal leaves out the environment report, the
whole config, the hook-order table, one ``paramwise_options`` line per parameter and
MMEngine's own deprecation notices; instead one line names the log file that holds them.
Training lines, monitors, evaluations, warnings and errors are untouched. With
``log_level='DEBUG'`` the terminal shows everything, as MMEngine's ``Runner`` does.
``tools/train.py`` and ``tools/test.py`` build this runner.

It also keeps a run's checkpoints safe (see :mod:`unimedi.engine.checkpoint_files`):

- every checkpoint is written atomically, and a model with NaN or infinite weights is
  never written;
- ``--resume`` resumes from the newest *complete* checkpoint, passing over (with a warning)
  a truncated or missing one;
- ``--launcher pytorch`` trains on CPU-only machines too: the process group then uses
  gloo, whatever ``env_cfg.dist_cfg.backend`` says, and DDP wraps the model without
  ``device_ids``.
"""
from __future__ import annotations

import datetime
import logging
import os.path as osp

import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed, master_only
from mmengine.logging import MMLogger, print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from .checkpoint_files import atomic_write, latest_complete_checkpoint

# The start of each message left out of the terminal (matched within its first 80 chars).
CONSOLE_DIGEST = (
    'System environment:',
    'Config:\n',
    'Hooks will be executed in the following order',
    'paramwise_options -- ',
    'Distributed training is not used, all SyncBatchNorm',
    '"FileClient" will be deprecated',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


class ConsoleDigestFilter(logging.Filter):
    """Drops the :data:`CONSOLE_DIGEST` messages at INFO and WARNING; counts them."""

    def __init__(self, markers=CONSOLE_DIGEST):
        super().__init__()
        self.markers = tuple(markers)
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            return True
        head = record.getMessage().lstrip()[:80]
        if any(marker in head for marker in self.markers):
            self.dropped += 1
            return False
        return True


def console_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """The logger's terminal handlers (stream handlers that are not files)."""
    return [h for h in logger.handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]


class UniMedIRunner(Runner):
    """``Runner`` with :class:`ConsoleDigestFilter` on the terminal unless the log level is
    DEBUG (or lower). Built like ``Runner``: ``UniMedIRunner.from_cfg(cfg)``."""

    def build_logger(self, log_level: int | str = 'INFO', log_file: str | None = None,
                     **kwargs) -> MMLogger:
        logger = super().build_logger(log_level=log_level, log_file=log_file, **kwargs)
        level = logging.getLevelName(log_level) if isinstance(log_level, str) else log_level
        if isinstance(level, int) and level > logging.DEBUG:
            for handler in console_handlers(logger):
                if not any(isinstance(f, ConsoleDigestFilter) for f in handler.filters):
                    handler.addFilter(ConsoleDigestFilter())
            files = [h.baseFilename for h in logger.handlers
                     if isinstance(h, logging.FileHandler)]
            if files:
                self._digest_note = (f'environment, config and hook order: {files[0]} '
                                     "(log_level='DEBUG' shows them here)")
        return logger

    def __init__(self, *args, **kwargs):
        self._digest_note = None
        super().__init__(*args, **kwargs)
        if self._digest_note:
            self.logger.info(self._digest_note)

    # ------------------------------------------------------------------ distributed on CPU
    def _cpu_distributed(self) -> bool:
        return self.distributed and not torch.cuda.is_available()

    def setup_env(self, env_cfg: dict) -> None:
        """MMEngine's ``setup_env``; on a machine without CUDA, ``--launcher pytorch``
        starts a gloo process group (MMEngine's would call ``torch.cuda.set_device``)."""
        if self._cpu_distributed() and self.launcher == 'pytorch' and not is_distributed():
            dist_cfg = dict(env_cfg.get('dist_cfg', {}))
            backend = dist_cfg.pop('backend', 'gloo')
            if backend != 'gloo':
                print_log(f'no CUDA device: the process group uses gloo instead of {backend}',
                          logger='current', level=logging.WARNING)
            timeout = dist_cfg.pop('timeout', None)
            if timeout is not None:
                dist_cfg['timeout'] = datetime.timedelta(seconds=timeout)
            torch_dist.init_process_group(backend='gloo', **dist_cfg)
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg: dict | None, model):
        """DDP without ``device_ids`` for a CPU model (MMEngine passes ``LOCAL_RANK``)."""
        if self._cpu_distributed() and not is_model_wrapper(model):
            model_wrapper_cfg = dict(
                dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                     find_unused_parameters=self.cfg.get('find_unused_parameters', False)),
                **(model_wrapper_cfg or {}), device_ids=None)
        return super().wrap_model(model_wrapper_cfg, model)

    # ------------------------------------------------------------------ safe checkpoints
    def _bare_model(self):
        return self.model.module if is_model_wrapper(self.model) else self.model

    def _check_finite_weights(self, filename: str) -> None:
        state = self._bare_model().state_dict()
        bad = [name for name, value in state.items()
               if torch.is_tensor(value) and value.is_floating_point()
               and not torch.isfinite(value).all()]
        if bad:
            raise FloatingPointError(
                f'refused to save {filename}: {len(bad)} of {len(state)} tensors of the model '
                f'hold NaN or infinite values (the first: {bad[0]}); the checkpoints already '
                'on disk are kept')

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, file_client_args=None,
                        save_optimizer: bool = True, save_param_scheduler: bool = True,
                        meta: dict | None = None, by_epoch: bool = True,
                        backend_args: dict | None = None) -> None:
        """MMEngine's ``save_checkpoint``, written atomically; refuses non-finite weights.

        The file appears under its name only once it is complete and on disk (see
        :func:`~unimedi.engine.checkpoint_files.atomic_write`). Remote back ends
        (``backend_args`` / ``file_client_args``, ``s3://`` folders) are written as
        MMEngine writes them.
        """
        self._check_finite_weights(filename)
        kwargs = dict(file_client_args=file_client_args, save_optimizer=save_optimizer,
                      save_param_scheduler=save_param_scheduler, meta=meta,
                      by_epoch=by_epoch, backend_args=backend_args)
        if file_client_args is not None or backend_args is not None or '://' in str(out_dir):
            return super().save_checkpoint(out_dir, filename, **kwargs)
        with atomic_write(osp.join(out_dir, filename)) as tmp:
            super().save_checkpoint(out_dir, osp.basename(tmp), **kwargs)

    def load_or_resume(self) -> None:
        """``resume=True`` without a file resumes from the newest complete checkpoint."""
        if not self._has_loaded and self._resume and self._load_from is None:
            found = latest_complete_checkpoint(self.work_dir)
            if found is not None:
                self.logger.info(f'resuming from the newest complete checkpoint {found}')
                self._load_from = found
        super().load_or_resume()
