"""``mean_over_ranks``: the logged values of 2 gloo processes, names that differ included."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from unimedi.utils.distributed import mean_over_ranks, world_size
from fakes.ranks import free_port


def _worker(rank: int, port: int, results):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        values = dict(loss=torch.tensor(1.0 + 2 * rank), acc=0.5 * rank)
        if rank == 1:  # e.g. only this rank's batch held a CT
            values['loss_3d'] = torch.tensor(4.0)
        merged = mean_over_ranks(values)
        results[rank] = {name: float(value) for name, value in merged.items()}
    finally:
        dist.destroy_process_group()


def test_single_process_is_unchanged():
    values = dict(loss=torch.tensor(2.0))
    assert world_size() == 1
    assert mean_over_ranks(values)['loss'] is values['loss']


def test_mean_over_two_ranks_by_name():
    with mp.Manager() as manager:
        results = manager.dict()
        mp.start_processes(_worker, args=(free_port(), results), nprocs=2, join=True,
                           start_method='fork')
        results = dict(results)
    assert results[0] == dict(loss=2.0, acc=0.25)
    assert results[1] == dict(loss=2.0, acc=0.25, loss_3d=4.0)  # the mean of the ranks with it
