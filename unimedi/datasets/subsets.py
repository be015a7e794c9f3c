"""Label-fraction subsets (1 / 10 / 100 %) drawn stratified and reproducibly."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def stratified_fraction(labels: Sequence, fraction: float, seed: int = 0) -> list[int]:
    """Indices of a stratified ``fraction`` of the samples.

    Samples are grouped by their label (a class index, or the whole multi-hot vector for
    multi-label data). The total is ``max(1, round(fraction * N))``; each group gets its
    share by the largest-remainder method (ties broken by the seed), and the members of a
    group are drawn with the seed. The same labels, fraction and seed always give the
    same indices.

    Args:
        labels: one label per sample: ints, or equal-length 0/1 sequences.
        fraction: in (0, 1].
        seed: the draw's seed.

    Returns:
        sorted sample indices.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f'fraction must be in (0, 1], got {fraction}')
    keys = [tuple(np.asarray(label).reshape(-1).round().astype(int).tolist()) for label in labels]
    count = len(keys)
    if count == 0:
        raise ValueError('no samples to draw from')
    if fraction == 1.0:
        return list(range(count))
    groups: dict[tuple, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    ordered = sorted(groups)  # a fixed group order, independent of sample order
    rng = np.random.default_rng(seed)
    total = max(1, int(round(fraction * count)))
    quotas = np.array([fraction * len(groups[key]) for key in ordered])
    take = np.floor(quotas).astype(int)
    remainders = quotas - take
    tie_break = rng.random(len(ordered))
    order = np.lexsort((tie_break, -remainders))  # largest remainder first
    for position in order[:total - int(take.sum())]:
        take[position] += 1
    chosen = []
    for key, k in zip(ordered, take):
        members = np.asarray(groups[key])
        chosen.extend(members[rng.permutation(len(members))[:k]].tolist())
    return sorted(chosen)
