"""A console a newcomer can read: MMEngine's ``Runner`` with its start-up dumps kept out of
the terminal (they still go to the log file).

At the default ``log_level='INFO'`` the terminal leaves out the environment report, the
whole config, the hook-order table, one ``paramwise_options`` line per parameter and
MMEngine's own deprecation notices; instead one line names the log file that holds them.
Training lines, monitors, evaluations, warnings and errors are untouched. With
``log_level='DEBUG'`` the terminal shows everything, as MMEngine's ``Runner`` does.
``tools/train.py`` and ``tools/test.py`` build this runner.
"""
from __future__ import annotations

import logging

from mmengine.logging import MMLogger
from mmengine.runner import Runner

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
