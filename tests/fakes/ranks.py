"""Ranks of a distributed test on this machine: ``world`` processes of a script, started
as torchrun would (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` / ``PORT``),
one thread each, with the repository and ``tests/`` importable."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_ranks(argv: list, world: int) -> list[subprocess.Popen]:
    """Start ``python *argv`` as ranks ``0 .. world - 1`` on a free port; their output is
    piped (text)."""
    env = dict(os.environ, MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()),
               WORLD_SIZE=str(world), OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / 'tests'),
                                           os.environ.get('PYTHONPATH', '')]))
    return [subprocess.Popen([sys.executable, *map(str, argv)], cwd=REPO_ROOT,
                             env=dict(env, RANK=str(rank), LOCAL_RANK=str(rank)),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for rank in range(world)]


def finish(procs: list[subprocess.Popen], timeout: float) -> list[str]:
    """Wait for every rank; ``AssertionError`` with the output of a rank that failed or
    timed out (all ranks are killed then)."""
    outputs = []
    try:
        for rank, proc in enumerate(procs):
            try:
                outputs.append(proc.communicate(timeout=timeout)[0])
            except subprocess.TimeoutExpired:
                proc.kill()
                raise AssertionError(f'rank {rank} timed out after {timeout} s:\n'
                                     f'{proc.communicate()[0][-3000:]}') from None
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for rank, (proc, output) in enumerate(zip(procs, outputs)):
        assert proc.returncode == 0, f'rank {rank} failed:\n{output[-3000:]}'
    return outputs


def run_ranks(argv: list, world: int, timeout: float = 150, attempts: int = 2) -> list[str]:
    """Start the ranks and wait for them (:func:`finish`), on a new port when the free port
    was taken between probing and binding."""
    for _ in range(attempts - 1):
        try:
            return finish(start_ranks(argv, world), timeout)
        except AssertionError as error:
            if 'address already in use' not in str(error).lower():
                raise
    return finish(start_ranks(argv, world), timeout)
