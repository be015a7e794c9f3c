"""A run loses no checkpoint and no NaN passes: atomic saves under a failed write and a kill,
resume past a truncated file, NaN losses stopped, non-finite weights never saved, and the
random state carried across a resume (toy runs with unimedi's runtime: tests/fakes)."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import mmengine.runner.runner as mmengine_runner
import pytest
import torch

from fakes.toy_training import toy_runner

TESTS = Path(__file__).resolve().parents[1]
REPO_ROOT = TESTS.parent
TOY_SCRIPT = TESTS / 'fakes' / 'toy_training.py'


def _weights(path) -> torch.Tensor:
    return torch.load(path, weights_only=True)['state_dict']['linear.weight']


def _last(work_dir: Path) -> str:
    return (work_dir / 'last_checkpoint').read_text().strip()


def _resume_start(work_dir: Path, max_iters: int) -> int:
    runner = toy_runner(work_dir, max_iters, resume=True)
    runner.train()
    assert runner.iter == max_iters
    return runner


def test_a_failed_write_keeps_the_last_checkpoint_and_resumes(tmp_path, monkeypatch):
    work_dir = tmp_path / 'work'
    toy_runner(work_dir, 2).train()  # max_keep_ckpts=1: only iter_2.pth
    before = _weights(work_dir / 'iter_2.pth')

    real_save = mmengine_runner.save_checkpoint

    def disk_full(checkpoint, filename, **kwargs):
        with open(filename, 'wb') as f:
            f.write(b'PK\x03\x04 the first half of a checkpoint')
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(mmengine_runner, 'save_checkpoint', disk_full)
    with pytest.raises(OSError, match='No space left'):
        toy_runner(work_dir, 3, resume=True).train()
    monkeypatch.setattr(mmengine_runner, 'save_checkpoint', real_save)

    assert sorted(p.name for p in work_dir.glob('*.pth*')) == ['iter_2.pth']
    assert _last(work_dir) == str(work_dir / 'iter_2.pth')
    torch.testing.assert_close(_weights(work_dir / 'iter_2.pth'), before)
    runner = _resume_start(work_dir, 3)
    assert runner.iter == 3 and (work_dir / 'iter_3.pth').is_file()
    assert not (work_dir / 'iter_2.pth').exists()  # deleted once iter_3.pth was complete


def _limit_file_size(limit: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize('crash', ['killed', 'write refused'])
def test_a_crash_during_the_save_keeps_the_last_checkpoint_and_resumes(tmp_path, crash):
    """A file-size limit the next checkpoint passes: the kernel kills the process mid-write
    (SIGXFSZ), or the write fails with EFBIG, as on a full disk."""
    work_dir = tmp_path / 'work'
    toy_runner(work_dir, 2).train()
    size = (work_dir / 'iter_2.pth').stat().st_size
    env = dict(os.environ, PYTHONPATH=f'{REPO_ROOT}{os.pathsep}{TESTS}')
    args = [sys.executable, str(TOY_SCRIPT), str(work_dir), '3', '--resume']
    args += ['--die-on-file-limit'] if crash == 'killed' else []
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300,
                            preexec_fn=_limit_file_size(size // 2))
    output = result.stdout + result.stderr
    assert 'Saving checkpoint at 3 iterations' in output
    if crash == 'killed':
        assert result.returncode == -signal.SIGXFSZ, output[-3000:]
        assert (work_dir / 'iter_3.pth.partial').stat().st_size == size // 2
    else:
        assert result.returncode == 1 and 'File too large' in output, output[-3000:]
        assert not (work_dir / 'iter_3.pth.partial').exists()

    # the old file is whole and last_checkpoint names it; the torn file has its own name
    assert _last(work_dir) == str(work_dir / 'iter_2.pth')
    _weights(work_dir / 'iter_2.pth')
    assert not (work_dir / 'iter_3.pth').exists()
    runner = _resume_start(work_dir, 3)
    assert runner.iter == 3
    _weights(work_dir / 'iter_3.pth')
    assert not (work_dir / 'iter_3.pth.partial').exists()


def test_resume_passes_over_a_truncated_latest_checkpoint(tmp_path, capsys):
    work_dir = tmp_path / 'work'
    runner = toy_runner(work_dir, 3, max_keep_ckpts=3)
    runner.train()
    latest = work_dir / 'iter_3.pth'
    latest.write_bytes(latest.read_bytes()[:1000])
    capsys.readouterr()
    resumed = toy_runner(work_dir, 4, resume=True, max_keep_ckpts=3)
    resumed.train()
    printed = capsys.readouterr().out
    assert f'skipping {latest}: it is truncated' in printed
    assert f'resuming from the newest complete checkpoint {work_dir / "iter_2.pth"}' in printed
    assert resumed.iter == 4


def test_a_nan_loss_stops_training_naming_the_batch_and_saves_nothing_after(tmp_path):
    work_dir = tmp_path / 'work'
    runner = toy_runner(work_dir, 16, nan_at=5)  # 16 batches of 4: one pass over the data
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    message = str(info.value)
    assert 'non-finite loss (loss=nan)' in message and 'toy_5.png' in message
    failed = int(message.split()[1].rstrip(':'))
    assert message.startswith(f'iteration {failed}:') and 1 <= failed <= 16
    saved = sorted(work_dir.glob('iter_*.pth'))
    assert [p.name for p in saved] == ([f'iter_{failed - 1}.pth'] if failed > 1 else [])
    for path in saved:
        assert torch.isfinite(_weights(path)).all()


def test_the_runner_refuses_to_save_non_finite_weights(tmp_path):
    runner = toy_runner(tmp_path, 1)
    with torch.no_grad():
        runner.model.linear.bias[3] = float('inf')
    with pytest.raises(FloatingPointError, match=r'refused to save iter_9.pth: 1 of 2 tensors '
                       r'.* \(the first: linear.bias\)'):
        runner.save_checkpoint(str(tmp_path), 'iter_9.pth')
    assert not list(tmp_path.glob('iter_9.pth*'))


def _losses(runner) -> list[float]:
    return list(runner.message_hub.log_scalars['train/loss'].data[0])


def test_a_resumed_run_repeats_the_uninterrupted_one_random_draws_included(tmp_path):
    whole = toy_runner(tmp_path / 'whole', 4, max_keep_ckpts=4)
    whole.train()
    toy_runner(tmp_path / 'split', 2).train()
    resumed = toy_runner(tmp_path / 'split', 4, resume=True)
    resumed.train()
    # the loss draws torch.rand every step: equal only if the generator state was restored
    assert _losses(resumed)[-2:] == pytest.approx(_losses(whole)[-2:], abs=0, rel=1e-7)
    torch.testing.assert_close(resumed.model.linear.weight, whole.model.linear.weight,
                               atol=0, rtol=0)
