"""Every split of unimedi in one place: label-fraction subsets, patient-level splits, the
fraction checks of the prepare tools and the seeded subject shuffle of BIMCV. (The phantom
generator keeps its own seeded case split, ``phantom.generator.assign_splits``, as part of
the data it writes.)"""
from __future__ import annotations

import math
import random
from typing import Iterable, Mapping, Sequence

import numpy as np

SPLITS = ('train', 'val', 'test')


def split_order(split: str) -> tuple[int, str]:
    """Sort key of split names: ``train``, ``val``, ``test``, then any other by name."""
    return (SPLITS.index(split) if split in SPLITS else len(SPLITS), split)


#: the subject split of the BIMCV adapter (the paper's 3D pre-training data)
SUBJECT_FRACTIONS = (0.9, 0.05, 0.05)


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


def _multi_hot(labels: Sequence) -> np.ndarray:
    """``(N, K)`` 0/1 rows from class indices (one-hot) or multi-hot vectors."""
    if all(isinstance(label, (int, np.integer)) for label in labels):
        indices = np.asarray(labels, dtype=int)
        if indices.size and indices.min() < 0:
            raise ValueError(f'class indices must be >= 0, got {int(indices.min())}')
        width = int(indices.max()) + 1 if indices.size else 1
        return np.eye(width, dtype=int)[indices]
    rows = [np.asarray(label, dtype=float).reshape(-1) for label in labels]
    if len({len(row) for row in rows}) > 1:
        raise ValueError('multi-hot labels must all have the same length')
    return (np.stack(rows) > 0.5).astype(int)


def split_by_patient(patients: Sequence[str], labels: Sequence,
                     fractions: Mapping[str, float], seed: int = 0) -> list[str]:
    """Assign every sample to a split so that no patient is in two splits.

    Each patient's stratum is the union of its samples' labels (the set of its classes,
    or the element-wise maximum of its multi-hot vectors). The splits after the first are
    drawn in order, each from the patients still left, with
    :func:`~unimedi.datasets.stratified_fraction` (seed ``seed + position``) at the share
    that gives it ``fraction`` of all patients; the first split takes the rest. The same
    patients, labels, fractions and seed always give the same assignment.

    Args:
        patients: one patient id per sample.
        labels: one label per sample: a class index, or a 0/1 vector.
        fractions: split name -> fraction of the patients, e.g.
            ``{'train': 0.7, 'val': 0.15, 'test': 0.15}``; non-negative, summing to 1.
        seed: the draws' seed.

    Returns:
        the split name of every sample, in input order.
    """
    names = list(fractions)
    values = [float(fractions[name]) for name in names]
    if not names or min(values) < 0 or abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f'fractions must be non-negative and sum to 1, got {dict(fractions)}')
    if len(patients) != len(labels):
        raise ValueError(f'{len(patients)} patients but {len(labels)} labels')
    if not patients:
        raise ValueError('no samples to split')
    strata: dict[str, np.ndarray] = {}
    for patient, vector in zip(patients, _multi_hot(labels)):
        strata[patient] = np.maximum(strata[patient], vector) if patient in strata else vector
    remaining = sorted(strata)
    assignment: dict[str, str] = {}
    left = 1.0
    for position, (name, fraction) in enumerate(zip(names[1:], values[1:]), start=1):
        if fraction <= 0 or not remaining:
            continue
        share = min(1.0, fraction / left)
        drawn = stratified_fraction([strata[p] for p in remaining], share, seed + position)
        chosen = {remaining[i] for i in drawn}
        assignment.update((patient, name) for patient in chosen)
        remaining = [patient for patient in remaining if patient not in chosen]
        left -= fraction
    assignment.update((patient, names[0]) for patient in remaining)
    return [assignment[patient] for patient in patients]


def check_fractions(values: Sequence[float], names: Sequence[str] = ('train', 'val', 'test')
                    ) -> dict[str, float]:
    """``{name: fraction}`` from a CLI list, checked to be non-negative and sum to 1."""
    values = [float(v) for v in values]
    if len(values) != len(names) or min(values) < 0 or abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f'fractions must be {len(names)} non-negative numbers summing to 1 '
                         f'({", ".join(names)}), got {values}')
    return dict(zip(names, values))


def split_counts(num: int, fractions: Sequence[float]) -> list[int]:
    """Split ``num`` items by ``fractions`` (largest remainder, earlier splits win ties)."""
    raw = [num * f for f in fractions]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[:num - sum(counts)]:
        counts[i] += 1
    return counts


def subject_splits(subjects: Iterable[str], fractions: Sequence[float] = SUBJECT_FRACTIONS,
                   seed: int = 0) -> dict[str, str]:
    """Assign each subject to ``train``/``val``/``test``: a seeded shuffle, then cut.

    The same subjects and seed always give the same assignment; every subject lands in
    exactly one split, so no patient crosses splits.
    """
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != len(SPLITS) or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f'fractions must be {len(SPLITS)} non-negative numbers summing to 1 '
                         f'(train, val, test), got {fractions}')
    ordered = sorted(set(subjects))
    random.Random(seed).shuffle(ordered)
    assignment, start = {}, 0
    for split, count in zip(SPLITS, split_counts(len(ordered), fractions)):
        assignment.update((s, split) for s in ordered[start:start + count])
        start += count
    return assignment
