"""Shared pieces of the downstream classification datasets and their prepare tools.

Patient-level stratified splits, path resolution, file checks and the split summary that
the ``tools/data/prepare_*.py`` scripts print.
"""
from __future__ import annotations

import csv
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from .subsets import stratified_fraction


def resolve_path(data_root: str | None, path: str) -> str:
    """``path`` itself when absolute (or without ``data_root``), else under ``data_root``."""
    return path if osp.isabs(path) or not data_root else osp.join(data_root, path)


def require_file(path: str, where: str) -> None:
    """Raise ``FileNotFoundError`` naming ``where`` (file:line) when ``path`` is missing."""
    if not osp.exists(path):
        raise FileNotFoundError(f'{where}: image file not found: {path}')


def require_annotation(path: str) -> None:
    """Raise ``FileNotFoundError`` when the annotation file ``path`` is missing."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: annotation file not found')


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


def write_csv(path: str, fieldnames: Sequence[str], rows: Iterable[Mapping]) -> int:
    """Write rows under a header (parent folder created); return the number written."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    count = 0
    with open(path, 'w', encoding='utf-8', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(fieldnames), lineterminator='\n',
                                extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


@dataclass
class SplitReport:
    """What a prepare tool wrote: files, samples, patients and classes per split.

    Attributes:
        dataset: dataset name, for the printed summary.
        classes: class names, in the order the counts are printed.
        files: split -> the file written.
        samples: split -> number of samples.
        patients: split -> number of patients.
        class_counts: split -> class name -> samples of that class (positives for
            multi-label data).
        skipped: descriptions of skipped items.
        notes: other facts worth printing.
    """

    dataset: str
    classes: Sequence[str] = ()
    files: dict[str, str] = field(default_factory=dict)
    samples: Counter = field(default_factory=Counter)
    patients: dict[str, int] = field(default_factory=dict)
    class_counts: dict[str, Counter] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, split: str, class_names: Iterable[str]) -> None:
        """Count one sample of ``split`` with the given (positive) classes."""
        self.samples[split] += 1
        self.class_counts.setdefault(split, Counter()).update(class_names)

    def count_patients(self, split_of_patient: Mapping[str, str]) -> None:
        """Set ``patients`` from a patient -> split mapping."""
        self.patients = dict(Counter(split_of_patient.values()))

    def format(self) -> str:
        """The summary as printable lines."""
        lines = [f'{self.dataset}: {sum(self.samples.values())} samples']
        for split in sorted(set(self.samples) | set(self.files), key=_split_order):
            counts = self.class_counts.get(split, Counter())
            per_class = ', '.join(f'{name} {counts.get(name, 0)}' for name in self.classes)
            patients = (f', {self.patients[split]} patients' if split in self.patients
                        else '')
            target = f' -> {self.files[split]}' if split in self.files else ''
            lines.append(f'  {split}: {self.samples.get(split, 0)} samples{patients} '
                         f'[{per_class}]{target}')
        if self.skipped:
            lines.append(f'skipped {len(self.skipped)}:')
            lines.extend(f'  {item}' for item in self.skipped)
        lines.extend(self.notes)
        return '\n'.join(lines)


def _split_order(split: str) -> tuple[int, str]:
    order = ('train', 'val', 'test')
    return (order.index(split) if split in order else len(order), split)
