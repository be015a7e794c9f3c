"""Shared pieces of the downstream classification datasets and their prepare tools: file
checks, CSV writing and the split summary that the ``tools/data/prepare_*.py`` scripts print
(paths: ``unimedi.io.paths``; the splits themselves: ``splits.py``).
"""
from __future__ import annotations

import csv
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from .splits import split_order


def require_file(path: str, where: str) -> None:
    """Raise ``FileNotFoundError`` naming ``where`` (file:line) when ``path`` is missing."""
    if not osp.exists(path):
        raise FileNotFoundError(f'{where}: image file not found: {path}')


def require_annotation(path: str) -> None:
    """Raise ``FileNotFoundError`` when the annotation file ``path`` is missing."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: annotation file not found')


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
        for split in sorted(set(self.samples) | set(self.files), key=split_order):
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
