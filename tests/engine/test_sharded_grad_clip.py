"""``clip_sharded_grad_norm_`` and ``AutocastOptimWrapper(sharded_grads=True)``: gradients
split across 2 gloo ranks (as FSDP leaves them) are clipped as the whole gradient is."""
from __future__ import annotations

import datetime
import os
import sys

import pytest
import torch

from unimedi.engine.fsdp import clip_sharded_grad_norm_
from fakes.ranks import run_ranks

WORLD_SIZE = 2
MAX_NORM = 0.5


def _full_grads() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(6, 4, generator=generator), torch.randn(10, generator=generator),
            torch.randn(3, generator=generator)]


def _shards(rank: int) -> list[torch.Tensor | None]:
    """This rank's part of each flattened gradient; the last one lives on rank 0 only."""
    shards = []
    for index, grad in enumerate(_full_grads()):
        flat = grad.flatten()
        if index == 2:
            shards.append(flat.clone() if rank == 0 else None)
        else:
            shards.append(flat.chunk(WORLD_SIZE)[rank].clone())
    return shards


def _params(grads: list) -> list[torch.nn.Parameter]:
    params = []
    for grad in grads:
        param = torch.nn.Parameter(torch.zeros_like(grad) if grad is not None else torch.zeros(1))
        param.grad = grad
        params.append(param)
    return params


@pytest.mark.parametrize('norm_type', [2.0, float('inf')])
def test_one_process_equals_clip_grad_norm(norm_type):
    ours, reference = _params(_full_grads()), _params(_full_grads())
    ours.append(torch.nn.Parameter(torch.zeros(2)))  # no gradient: ignored
    norm = clip_sharded_grad_norm_(ours, MAX_NORM, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(reference, MAX_NORM, norm_type)
    torch.testing.assert_close(norm, expected)
    for a, b in zip(ours, reference):
        torch.testing.assert_close(a.grad, b.grad)


def _worker(out_dir: str) -> None:
    import torch.distributed as dist
    from mmengine.logging import MessageHub

    from unimedi.engine.optimizers import AutocastOptimWrapper
    dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=60))
    rank = dist.get_rank()
    try:
        params = _params(_shards(rank))
        norm = clip_sharded_grad_norm_(params, MAX_NORM)
        # the optim wrapper's clip: an SGD step of lr 1 from 0 is minus the clipped gradient
        wrapped = _params(_shards(rank))
        hub = MessageHub.get_instance(f'sharded_clip_{rank}')
        wrapper = AutocastOptimWrapper(
            optimizer=torch.optim.SGD([p for p in wrapped if p.grad is not None], lr=1.0),
            clip_grad=dict(max_norm=MAX_NORM), sharded_grads=True)
        wrapper.message_hub = hub
        wrapper.step()
        torch.save(dict(norm=norm, grads=[p.grad for p in params],
                        stepped=[-p.detach() if p.grad is not None else None for p in wrapped],
                        logged=float(hub.get_scalar('train/grad_norm').current())),
                   os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_ranks_clip_by_the_norm_of_the_whole_gradient(tmp_path):
    run_ranks([__file__, tmp_path], WORLD_SIZE)
    ranks = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(WORLD_SIZE)]
    reference = _params(_full_grads())
    expected_norm = torch.nn.utils.clip_grad_norm_(reference, MAX_NORM)
    assert expected_norm > MAX_NORM  # the clip does scale
    for result in ranks:
        torch.testing.assert_close(result['norm'], expected_norm)
        assert result['logged'] == pytest.approx(float(expected_norm))
    for index, param in enumerate(reference):
        flat = param.grad.flatten()
        if index == 2:
            parts = [ranks[0]['grads'][index]]
            assert ranks[1]['grads'][index] is None
        else:
            parts = [r['grads'][index] for r in ranks]
        torch.testing.assert_close(torch.cat(parts), flat)
        stepped = [r['stepped'][index] for r in ranks if r['stepped'][index] is not None]
        torch.testing.assert_close(torch.cat([s.flatten() for s in stepped]), flat)


if __name__ == '__main__':
    _worker(sys.argv[1])
