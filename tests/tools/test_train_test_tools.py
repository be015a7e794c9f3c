"""tools/train.py and tools/test.py end to end on the example project and a tiny dataset.

One module-scoped run: train 2 iterations, resume to 4, evaluate iter_4.pth.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from conftest import TINY_CLASSES, write_tiny_dataset
from repo_scripts import load_script

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'projects/example_project/configs/histogram_baseline.py'


def _run(*args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f'{args} failed:\n{output[-5000:]}'
    return output


def _data_options(data_root: Path) -> list:
    classes = '[' + ','.join(TINY_CLASSES) + ']'
    return [f'train_dataloader.dataset.data_root={data_root}',
            f'test_dataloader.dataset.data_root={data_root}',
            f'model.num_classes={len(TINY_CLASSES)}',
            f'train_dataloader.dataset.metainfo.classes={classes}',
            f'test_dataloader.dataset.metainfo.classes={classes}']


@pytest.fixture(scope='module')
def runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('tools')
    data_root = write_tiny_dataset(root / 'tiny').parent
    work_dir = root / 'work'
    train_options = _data_options(data_root) + ['default_hooks.checkpoint.interval=1',
                                                'train_dataloader.batch_size=3']
    first = _run('tools/train.py', CONFIG, '--work-dir', str(work_dir), '--cfg-options',
                 *train_options, 'train_cfg.max_iters=2')
    # keep a copy: max_keep_ckpts=3 may delete iter_2.pth during the resumed run
    iter_2 = torch.load(work_dir / 'iter_2.pth', weights_only=True)
    second = _run('tools/train.py', CONFIG, '--work-dir', str(work_dir), '--resume',
                  '--cfg-options', *train_options, 'train_cfg.max_iters=4')
    test_dir = root / 'test'
    test = _run('tools/test.py', CONFIG, str(work_dir / 'iter_4.pth'), '--work-dir',
                str(test_dir), '--cfg-options', *_data_options(data_root))
    return dict(work_dir=work_dir, test_dir=test_dir, first=first, second=second, test=test,
                iter_2=iter_2)


def test_train_writes_weights_only_checkpoints(runs):
    work_dir = runs['work_dir']
    assert 'Saving checkpoint at 2 iterations' in runs['first']
    checkpoint = runs['iter_2']
    assert checkpoint['meta']['iter'] == 2
    assert checkpoint['state_dict']['head.weight'].shape == (len(TINY_CLASSES), 32)
    assert checkpoint['meta']['dataset_meta']['classes'] == list(TINY_CLASSES)
    assert 'optimizer' in checkpoint and 'message_hub' in checkpoint
    assert (work_dir / 'last_checkpoint').is_file()
    # the config was dumped into the work dir with the overrides applied
    dumped = Config.fromfile(str(work_dir / 'histogram_baseline.py'))
    assert dumped.work_dir == str(work_dir)
    assert dumped.model.num_classes == len(TINY_CLASSES)


def test_resume_continues_from_iter_2(runs):
    work_dir, log = runs['work_dir'], runs['second']
    assert f'resuming from the newest complete checkpoint {work_dir / "iter_2.pth"}' in log
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Saving checkpoint at 3 iterations' in log
    assert 'Saving checkpoint at 1 iterations' not in log  # it did not start over
    checkpoint = torch.load(work_dir / 'iter_4.pth', weights_only=True)
    assert checkpoint['meta']['iter'] == 4
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('iter_4.pth')
    # the log history of the first run was restored on resume and carried on
    before = runs['iter_2']['message_hub']['log_scalars']['train/loss']['log_history']
    after = checkpoint['message_hub']['log_scalars']['train/loss']['log_history']
    assert len(before) == 2 and len(after) == 4
    assert after[:2] == before
    # the weights changed during the resumed iterations
    assert not torch.equal(checkpoint['state_dict']['head.weight'],
                           runs['iter_2']['state_dict']['head.weight'])


def test_test_tool_writes_and_prints_metrics(runs):
    out = runs['test_dir'] / 'metrics.json'
    assert out.is_file()
    metrics = json.loads(out.read_text())
    auc = metrics['cls/auc']
    assert isinstance(auc, float) and 0.0 <= auc <= 1.0
    assert set(metrics) == {'cls/auc'} | {f'cls/auc_{c}' for c in TINY_CLASSES}
    assert json.dumps(metrics, indent=2) in runs['test']
    assert f'metrics written to {out}' in runs['test']
    assert f'Load checkpoint from {runs["work_dir"] / "iter_4.pth"}' in runs['test']


# argument merging (in-process) ----------------------------------------------------------


def _args(**kwargs) -> argparse.Namespace:
    values = dict(config=CONFIG, work_dir=None, resume=None, amp=False, cfg_options=None,
                  launcher='none', local_rank=0)
    values.update(kwargs)
    return argparse.Namespace(**values)


@pytest.fixture(scope='module')
def train_tool():
    return load_script('tools/train.py')


def _config() -> Config:
    return Config.fromfile(str(REPO_ROOT / CONFIG), import_custom_modules=False)


def test_work_dir_defaults_to_the_config_name(train_tool):
    cfg = train_tool.merge_args(_config(), _args())
    assert cfg.work_dir == osp.join('work_dirs', 'histogram_baseline')
    assert cfg.launcher == 'none'
    assert cfg.resume is False


def test_work_dir_and_cfg_options_override(train_tool, tmp_path):
    args = _args(work_dir=str(tmp_path), cfg_options={'train_cfg.max_iters': 3})
    cfg = train_tool.merge_args(_config(), args)
    assert cfg.work_dir == str(tmp_path)
    assert cfg.train_cfg.max_iters == 3


def test_resume_arguments(train_tool):
    cfg = train_tool.merge_args(_config(), _args(resume='auto'))
    assert cfg.resume is True and cfg.load_from is None
    cfg = train_tool.merge_args(_config(), _args(resume='some/iter_8.pth'))
    assert cfg.resume is True and cfg.load_from == 'some/iter_8.pth'


@pytest.mark.parametrize('cuda, bf16, expected', [
    (False, False, 'AutocastOptimWrapper'),  # the CPU: bf16 autocast
    (True, True, 'AutocastOptimWrapper'),  # Ampere and later: bf16, no loss scaling
    (True, False, 'AmpOptimWrapper'),  # older GPUs: fp16 with a dynamic loss scale
])
def test_amp_is_bf16_autocast_where_the_device_has_bf16(train_tool, monkeypatch, cuda, bf16,
                                                        expected):
    def native_bf16(including_emulation=True):
        # pre-Ampere GPUs emulate bf16 (slowly): only the hardware's bf16 counts
        return bf16 and not including_emulation

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', native_bf16)
    cfg = train_tool.merge_args(_config(), _args(amp=True))
    assert cfg.optim_wrapper.type == expected
    if expected == 'AutocastOptimWrapper':
        assert cfg.optim_wrapper.dtype == 'bfloat16'
    else:
        assert cfg.optim_wrapper.loss_scale == 'dynamic'


def test_a_config_with_a_strategy_gets_the_flexible_runner(train_tool, monkeypatch):
    from mmengine.runner import FlexibleRunner
    built = []
    monkeypatch.setattr(FlexibleRunner, 'from_cfg', classmethod(lambda cls, cfg: built.append(
        'flexible') or 'flexible'))
    monkeypatch.setattr(train_tool.UniMedIRunner, 'from_cfg', classmethod(
        lambda cls, cfg: built.append('unimedi') or 'unimedi'))
    cfg = _config()
    assert train_tool.build_runner(cfg) == 'unimedi'
    cfg.strategy = dict(type='FSDPStrategy')
    assert train_tool.build_runner(cfg) == 'flexible'
    assert built == ['unimedi', 'flexible']
