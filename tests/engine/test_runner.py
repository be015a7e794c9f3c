"""UniMedIRunner: MMEngine's start-up dumps stay out of the terminal at INFO (and in the
log file); DEBUG shows everything; warnings always pass."""
from __future__ import annotations

import logging
import uuid

import pytest
import torch
from mmengine.model import BaseModel

from unimedi.engine.runner import ConsoleDigestFilter, UniMedIRunner


class _Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs=None, data_samples=None, mode='tensor'):
        return self.linear(inputs)


def _runner(tmp_path, log_level):
    return UniMedIRunner(model=_Toy(), work_dir=str(tmp_path), log_level=log_level,
                         experiment_name=f'console_{uuid.uuid4().hex[:8]}',
                         default_scope='unimedi',
                         cfg=dict(model=dict(type='Toy'), work_dir=str(tmp_path)))


def _log_text(runner) -> str:
    files = [h.baseFilename for h in runner.logger.handlers if isinstance(h, logging.FileHandler)]
    with open(files[0]) as f:
        return f.read()


def test_info_console_leaves_out_the_dumps_but_the_log_file_keeps_them(tmp_path, capsys):
    runner = _runner(tmp_path, 'INFO')
    runner.logger.warning('a real warning')
    printed = capsys.readouterr().out
    for dump in ('System environment', 'Config:', 'Hooks will be executed'):
        assert dump not in printed
        assert dump in _log_text(runner)
    assert 'environment, config and hook order:' in printed and 'a real warning' in printed


def test_debug_console_shows_everything(tmp_path, capsys):
    _runner(tmp_path, 'DEBUG')
    printed = capsys.readouterr().out
    assert 'System environment' in printed and 'Hooks will be executed' in printed


@pytest.mark.parametrize('level,kept', [(logging.INFO, False), (logging.WARNING, False),
                                        (logging.ERROR, True)])
def test_filter_by_level(level, kept):
    record = logging.LogRecord('x', level, __file__, 1, 'paramwise_options -- a:lr=1', (), None)
    digest = ConsoleDigestFilter()
    assert digest.filter(record) is kept
    assert digest.dropped == (0 if kept else 1)
    plain = logging.LogRecord('x', logging.INFO, __file__, 1, 'Iter(train) [10/20]', (), None)
    assert digest.filter(plain)
