"""``InfoNCELoss(gather=True)`` in a real 2-process (gloo, CPU) group equals the
single-process loss on the whole batch.

What is equal, for a global batch of ``B = W * b`` pairs split over ``W`` ranks:

- single process: ``L = 1/2 [1/B sum_i CE(s I_i T^T, i) + 1/B sum_i CE(s T_i I^T, i)]``;
- rank ``r`` (local queries against the gathered batch): ``L_r`` is the same sum over its
  ``b`` rows divided by ``b``, so ``mean_r L_r = L`` (each ``L_r`` alone is not ``L``).
- ``all_gather``'s backward sums the gradients of every rank's loss into the owner of the
  rows, so rank ``r``'s gradient w.r.t. its local embeddings is
  ``d(sum_r' L_r') / dx_r = W * dL/dx_r``: ``W`` times the single-process gradient of those
  rows (not equal to it, and not 1/W of it).
- after DDP's gradient averaging (``1/W sum_r``), parameter gradients equal the
  single-process ones: the projection weights (through the ``W * dL/dx`` above) and the
  logit scale (whose per-rank gradient is the local ``dL_r/ds``, averaged to ``dL/ds``).

The workers are subprocesses of this file with torchrun's environment (``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``); each saves its results to a file and the
test compares them in the parent.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from fakes.ranks import run_ranks

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

WORLD_SIZE = 2
BATCH, FEATURES, EMBED = 8, 12, 6  # global batch, raw feature width, embedding width
ATOL, RTOL = 1e-6, 1e-5
UNEVEN_SPLIT = 3  # rank 0 holds rows 0..2, rank 1 rows 3..7 in the uneven case


def _inputs():
    """The fixed global batch and projection weights (same in every process)."""
    g = torch.Generator().manual_seed(0)
    image = F.normalize(torch.randn(BATCH, EMBED, generator=g, dtype=torch.float64), dim=-1)
    text = F.normalize(torch.randn(BATCH, EMBED, generator=g, dtype=torch.float64), dim=-1)
    # make the task non-trivial: some positives close, the rest random
    text[: BATCH // 2] = F.normalize(text[: BATCH // 2] + 2 * image[: BATCH // 2], dim=-1)
    features = torch.randn(BATCH, FEATURES, generator=g, dtype=torch.float64)
    report_features = torch.randn(BATCH, FEATURES, generator=g, dtype=torch.float64)
    weight = torch.randn(EMBED, FEATURES, generator=g, dtype=torch.float64) * 0.3
    return image, text, features, report_features, weight


def _build(weight):
    """Loss + a linear image/report projection (the DDP part), in float64."""
    from unimedi.models.losses.info_nce import InfoNCELoss
    loss = InfoNCELoss(init_temperature=0.1, gather=True).double()
    projection = torch.nn.Linear(FEATURES, EMBED, bias=False).double()
    with torch.no_grad():
        projection.weight.copy_(weight)
    return loss, projection


def _compute(loss_fn, projection, image, text, features, report_features):
    """Loss on given embeddings (grads w.r.t. them) and on projected features."""
    image = image.clone().requires_grad_(True)
    text = text.clone().requires_grad_(True)
    loss = loss_fn(image, text)
    grad_image, grad_text, grad_scale = torch.autograd.grad(
        loss, (image, text, loss_fn.log_logit_scale))
    # second part: through a projection (wrapped in DDP by the workers)
    projected = loss_fn(F.normalize(projection(features), dim=-1),
                        F.normalize(projection(report_features), dim=-1))
    projection.zero_grad()
    projected.backward()
    module = getattr(projection, 'module', projection)  # unwrap DDP
    return dict(loss=loss.detach(), grad_image=grad_image, grad_text=grad_text,
                grad_scale=grad_scale, projected_loss=projected.detach(),
                grad_weight=module.weight.grad.detach().clone())


def _worker(out_dir: str) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group('gloo')  # env:// from RANK / WORLD_SIZE / MASTER_*
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        image, text, features, report_features, weight = _inputs()
        rows = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
        loss_fn, projection = _build(weight)
        projection = DistributedDataParallel(projection)
        result = _compute(loss_fn, projection, image[rows], text[rows], features[rows],
                          report_features[rows])
        result['grad_scale'] = result['grad_scale'].clone()
        # ranks with different batch sizes (the last batch, another 2D/3D mix)
        uneven = slice(0, UNEVEN_SPLIT) if rank == 0 else slice(UNEVEN_SPLIT, BATCH)
        result['uneven_loss'] = loss_fn(image[uneven], text[uneven]).detach()
        # gather=False on the same rows: the local-only loss (no global negatives)
        loss_fn.gather = False
        result['local_loss'] = loss_fn(image[rows], text[rows]).detach()
        torch.save(result, os.path.join(out_dir, f'rank{rank}.pt'))
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _run_workers(out_dir: Path) -> list:
    run_ranks([__file__, out_dir], WORLD_SIZE, timeout=120)
    return [torch.load(out_dir / f'rank{r}.pt', weights_only=True) for r in range(WORLD_SIZE)]


def test_gathered_info_nce_matches_single_process(tmp_path):
    ranks = _run_workers(tmp_path)
    image, text, features, report_features, weight = _inputs()
    loss_fn, projection = _build(weight)
    single = _compute(loss_fn, projection, image, text, features, report_features)
    b = BATCH // WORLD_SIZE

    def close(a, b_, what):
        torch.testing.assert_close(a, b_, atol=ATOL, rtol=RTOL, msg=lambda m: f'{what}: {m}')

    # the loss: the mean of the rank losses is the full-batch loss
    close(torch.stack([r['loss'] for r in ranks]).mean(), single['loss'], 'mean rank loss')
    close(torch.stack([r['projected_loss'] for r in ranks]).mean(), single['projected_loss'],
          'mean projected rank loss')
    # ... while each rank's loss differs from it (they weigh different queries)
    assert not torch.allclose(ranks[0]['loss'], ranks[1]['loss'])
    # local embedding gradients: W times the single-process gradient of those rows
    for rank, result in enumerate(ranks):
        rows = slice(rank * b, (rank + 1) * b)
        close(result['grad_image'], WORLD_SIZE * single['grad_image'][rows], f'rank {rank} dL/dI')
        close(result['grad_text'], WORLD_SIZE * single['grad_text'][rows], f'rank {rank} dL/dT')
    # the logit scale is not gathered: the rank gradients average to the single one
    close(torch.stack([r['grad_scale'] for r in ranks]).mean(dim=0), single['grad_scale'],
          'mean dL/dlog_scale')
    # DDP-averaged parameter gradients (identical on every rank) equal the single process
    for rank, result in enumerate(ranks):
        close(result['grad_weight'], single['grad_weight'], f'rank {rank} DDP dL/dW')
    # uneven batches: each rank's loss is the mean over its own rows against all 8 pairs
    scale = loss_fn.logit_scale.detach()
    logits = scale * image @ text.t()
    targets = torch.arange(BATCH)
    per_row = (F.cross_entropy(logits, targets, reduction='none') +
               F.cross_entropy(logits.t(), targets, reduction='none')) / 2
    close(ranks[0]['uneven_loss'], per_row[:UNEVEN_SPLIT].mean(), 'rank 0 uneven loss')
    close(ranks[1]['uneven_loss'], per_row[UNEVEN_SPLIT:].mean(), 'rank 1 uneven loss')
    # gather=False really uses only local negatives: the loss on the half alone
    for rank, result in enumerate(ranks):
        rows = slice(rank * b, (rank + 1) * b)
        loss_fn.gather = False
        close(result['local_loss'], loss_fn(image[rows], text[rows]).detach(),
              f'rank {rank} local-only loss')
    assert not torch.allclose(torch.stack([r['local_loss'] for r in ranks]).mean(),
                              single['loss'])


if __name__ == '__main__':
    _worker(sys.argv[1])
