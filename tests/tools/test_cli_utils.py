"""unimedi.utils.cli: ``write_metrics``, ``best_checkpoint`` and the prepare skeleton (shared by
the tools)."""
from __future__ import annotations

import json
import math
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook, Hook

from unimedi.utils.cli import best_checkpoint, prepare_parser, run_prepare, write_metrics


def test_write_metrics_converts_numpy_and_torch(tmp_path):
    metrics = {
        'cls/acc': np.float32(0.75), 'cls/auc': torch.tensor(0.5, dtype=torch.float64),
        'count': np.int64(12), 'flag': np.bool_(True), 'plain': 0.25,
        'per_class': np.array([0.5, 1.0]), 'nested': {'t': torch.tensor([1, 2]),
                                                      'nan': np.float64('nan')},
        'tuple': (np.int32(1), 'text'),
    }
    path = write_metrics(metrics, str(tmp_path / 'new' / 'dir'),
                         extra=dict(checkpoint='best.pth', step=np.int64(3)))
    assert path == str(tmp_path / 'new' / 'dir' / 'metrics.json')
    loaded = json.loads((tmp_path / 'new' / 'dir' / 'metrics.json').read_text())
    assert loaded['cls/acc'] == 0.75 and loaded['cls/auc'] == 0.5
    assert loaded['count'] == 12 and loaded['flag'] is True and loaded['plain'] == 0.25
    assert loaded['per_class'] == [0.5, 1.0]
    assert loaded['nested']['t'] == [1, 2] and math.isnan(loaded['nested']['nan'])
    assert loaded['tuple'] == [1, 'text']
    assert loaded['checkpoint'] == 'best.pth' and loaded['step'] == 3
    # overwrite, no extra
    write_metrics({'a': 1}, str(tmp_path / 'new' / 'dir'))
    assert json.loads((tmp_path / 'new' / 'dir' / 'metrics.json').read_text()) == {'a': 1}


def _runner(work_dir, hooks=()):
    return SimpleNamespace(work_dir=str(work_dir), hooks=list(hooks))


def test_best_checkpoint_from_the_checkpoint_hook(tmp_path):
    hook = CheckpointHook(interval=1, save_best='cls/auc', rule='greater')
    hook.best_ckpt_path = str(tmp_path / 'best_cls_auc_epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    runner = _runner(tmp_path, [Hook(), hook])
    assert best_checkpoint(runner) == str(tmp_path / 'best_cls_auc_epoch_2.pth')


def test_best_checkpoint_of_several_metrics(tmp_path):
    hook = CheckpointHook(interval=1, save_best=['cls/auc', 'cls/acc'], rule='greater')
    assert best_checkpoint(_runner(tmp_path, [hook])) is None  # none saved yet
    hook.best_ckpt_path_dict['cls/acc'] = 'best_acc.pth'
    assert best_checkpoint(_runner(tmp_path, [hook])) == 'best_acc.pth'


def test_best_checkpoint_falls_back_to_last_then_none(tmp_path):
    no_best = CheckpointHook(interval=1)
    best_not_reached = CheckpointHook(interval=1, save_best='cls/auc')
    assert best_checkpoint(_runner(tmp_path, [no_best])) is None
    assert best_checkpoint(_runner(tmp_path, [])) is None
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth') + '\n')
    for hooks in ([no_best], [best_not_reached], []):
        assert best_checkpoint(_runner(tmp_path, hooks)) == str(tmp_path / 'epoch_3.pth')
    (tmp_path / 'last_checkpoint').write_text('')
    assert best_checkpoint(_runner(tmp_path, [no_best])) is None


def test_prepare_parser_has_the_shared_arguments():
    parser = prepare_parser('demo', out_default='<root>/seg')
    args = parser.parse_args(['--root', 'data/x'])
    assert (args.root, args.out, args.seed) == ('data/x', None, 0)
    with pytest.raises(SystemExit):
        prepare_parser('demo').parse_args(['--root', 'data/x'])  # --out is required
    assert not hasattr(prepare_parser('demo', seed_help=None).parse_args(
        ['--root', 'r', '--out', 'o']), 'seed')
    with_fractions = prepare_parser('demo', fractions={'train': 0.7, 'val': 0.1, 'test': 0.2})
    assert with_fractions.parse_args(['--root', 'r', '--out', 'o']).fractions == [0.7, 0.1, 0.2]
    assert with_fractions.parse_args(['--root', 'r', '--out', 'o', '--fractions', '0.5', '0.25',
                                      '0.25']).fractions == [0.5, 0.25, 0.25]
    assert '0.7 0.1 0.2' in ' '.join(with_fractions.format_help().split())


def test_run_prepare_prints_the_report_and_the_hint_or_the_error(capsys):
    class Report:
        files = {'train': 'train.csv'}

        def format(self):
            return 'train: 3 rows'

    assert run_prepare(Report, lambda report: f"load {report.files['train']}") == 0
    assert capsys.readouterr().out.splitlines() == ['train: 3 rows', 'load train.csv']

    def missing():
        raise FileNotFoundError('data/x/labels.csv: file not found')

    assert run_prepare(missing, 'never printed') == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == 'error: data/x/labels.csv: file not found'
    assert captured.out == ''


def test_tensorboard_switch_adds_the_backend_or_names_the_install(monkeypatch):
    import builtins
    import types

    from mmengine.config import Config

    from unimedi.utils.cli import apply_cli_options

    cfg = Config.fromfile('configs/unimedi/vit_tiny_pretrain_phantom.py')
    assert cfg.tensorboard is False
    apply_cli_options(cfg, 'x.py', work_dir='w')
    assert [b['type'] for b in cfg.visualizer.vis_backends] == ['LocalVisBackend']
    monkeypatch.setitem(sys.modules, 'tensorboard', types.ModuleType('tensorboard'))
    apply_cli_options(cfg, 'x.py', work_dir='w', cfg_options={'tensorboard': True})
    backends = [b['type'] for b in cfg.visualizer.vis_backends]
    assert backends == ['LocalVisBackend', 'TensorboardVisBackend']
    monkeypatch.delitem(sys.modules, 'tensorboard')
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name == 'tensorboard':
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', no_tensorboard)
    with pytest.raises(ImportError, match=r'pip install -e ".\[tensorboard\]"'):
        apply_cli_options(Config.fromfile('configs/unimedi/vit_tiny_pretrain_phantom.py'), 'x.py',
                          cfg_options={'tensorboard': True})
