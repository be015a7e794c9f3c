"""Small helpers for multi-process runs (any backend; no-ops in a single process)."""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.distributed as dist


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def mean_over_ranks(values: dict) -> OrderedDict:
    """The mean of each logged value over the ranks that have it.

    ``values``: ``{name: scalar tensor or number}`` of this rank. Ranks may log different
    names (a rank whose batch holds no CT logs no 3D loss), so the values are gathered as
    Python floats by name rather than all-reduced as one tensor. The returned tensors are
    detached copies: the loss a rank back-propagates is not touched.
    """
    if world_size() == 1:
        return OrderedDict(values)
    local = {name: float(value.detach().float().mean()) if torch.is_tensor(value)
             else float(value) for name, value in values.items()}
    gathered = [None] * world_size()
    dist.all_gather_object(gathered, local)
    merged = OrderedDict()
    for name in values:
        numbers = [rank[name] for rank in gathered if name in rank]
        merged[name] = torch.tensor(sum(numbers) / len(numbers))
    return merged
