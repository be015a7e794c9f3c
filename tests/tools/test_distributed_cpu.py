"""``tools/train.py --launcher pytorch`` on a machine without CUDA: 2 gloo processes with
batches of 3 log the losses of 1 process with batches of 6, and end with the same weights."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import TINY_CLASSES, write_tiny_dataset
from fakes.ranks import free_port

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'projects/example_project/configs/histogram_baseline.py'


def _env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO_ROOT), CUDA_VISIBLE_DEVICES='',
                OMP_NUM_THREADS='1', **extra)


def _options(data_root: Path, batch_size: int) -> list:
    classes = '[' + ','.join(TINY_CLASSES) + ']'
    return [f'train_dataloader.dataset.data_root={data_root}',
            f'train_dataloader.dataset.metainfo.classes={classes}',
            f'model.num_classes={len(TINY_CLASSES)}',
            f'train_dataloader.batch_size={batch_size}', 'train_cfg.max_iters=2',
            'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=2']


def _train_two_nodes(work_dir: Path, data_root: Path, batch_size: int) -> str:
    """``tools/dist_train.sh`` on two "machines" (here two node ranks on localhost) of
    one process each: the README's multi-node recipe."""
    port = str(free_port())
    nodes = [subprocess.Popen(
        ['bash', 'tools/dist_train.sh', CONFIG, '1', '--work-dir', str(work_dir), '--no-test',
         '--cfg-options', *_options(data_root, batch_size)], cwd=REPO_ROOT,
        env=_env(NNODES='2', NODE_RANK=str(rank), PORT=port, MASTER_ADDR='127.0.0.1',
                 PYTHON=sys.executable),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for rank in range(2)]
    outputs = [node.communicate(timeout=600)[0] for node in nodes]
    for node, output in zip(nodes, outputs):
        assert node.returncode == 0, output[-5000:]
    return outputs[0]


def _train(work_dir: Path, data_root: Path, batch_size: int, processes: int) -> str:
    options = _options(data_root, batch_size)
    args = ['tools/train.py', CONFIG, '--work-dir', str(work_dir), '--no-test']
    if processes > 1:
        args = ['-m', 'torch.distributed.run', f'--nproc_per_node={processes}',
                f'--master_port={free_port()}', *args, '--launcher', 'pytorch']
    result = subprocess.run([sys.executable, *args, '--cfg-options', *options], cwd=REPO_ROOT,
                            env=_env(), capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    return output


def _losses(work_dir: Path) -> list[float]:
    scalars = next(work_dir.glob('*/vis_data/scalars.json')).read_text().splitlines()
    return [json.loads(line)['loss'] for line in scalars if 'loss' in json.loads(line)]


@pytest.fixture(scope='module')
def one_process(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny data (6 training cases) and the reference run: one process, batch 6."""
    root = tmp_path_factory.mktemp('distributed_cpu')
    data_root = write_tiny_dataset(root / 'tiny').parent
    _train(root / 'one', data_root, batch_size=6, processes=1)
    return data_root, root / 'one'


@pytest.mark.parametrize('layout', ['one machine', 'two machines'])
def test_two_gloo_processes_equal_one_process_with_the_global_batch(
        tmp_path, layout, one_process):
    data_root, one_dir = one_process
    if layout == 'one machine':
        two = _train(tmp_path / 'two', data_root, batch_size=3, processes=2)
    else:
        two = _train_two_nodes(tmp_path / 'two', data_root, batch_size=3)
    assert 'no CUDA device: the process group uses gloo instead of nccl' in two
    # the logged loss is the mean over both ranks: the loss of the whole global batch
    two_losses, one_losses = _losses(tmp_path / 'two'), _losses(one_dir)
    assert len(two_losses) == len(one_losses) == 2
    assert two_losses == pytest.approx(one_losses, abs=1e-5)
    weights = [torch.load(run / 'iter_2.pth', weights_only=True)['state_dict']
               for run in (tmp_path / 'two', one_dir)]
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        torch.testing.assert_close(weights[0][key], weights[1][key], atol=1e-6, rtol=0)
