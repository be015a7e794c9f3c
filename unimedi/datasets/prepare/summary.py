"""``PrepareSummary``: what a prepare step wrote, kept and dropped, and why.

One summary for every converter under ``unimedi.datasets.prepare`` (the split files of the
downstream datasets, the pre-training manifests of MIMIC-CXR and BIMCV, the masks of the
segmentation sets); the ``tools/data/prepare_*.py`` scripts print its :meth:`format`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from ..splits import split_order


@dataclass
class PrepareSummary:
    """Samples, patients and classes per split, and every skipped item by reason.

    Attributes:
        dataset: dataset name, for the printed summary.
        classes: class names, in the order the per-split counts are printed (empty: no
            class counts).
        unit: what a sample is called when printed (``'samples'``, ``'rows'`` of a
            manifest).
        files: split -> the file written.
        samples: split -> number of samples kept.
        patients: split -> number of patients.
        class_counts: split -> class name -> samples of that class (positives for
            multi-label data).
        skipped: reason -> number of dropped items.
        examples: reason -> identifiers of dropped items (up to ``max_examples`` each).
        notes: other facts worth printing, name -> value.
        max_examples: how many identifiers to remember per reason (``None``: all).
    """

    dataset: str
    classes: Sequence[str] = ()
    unit: str = 'samples'
    files: dict[str, str] = field(default_factory=dict)
    samples: Counter = field(default_factory=Counter)
    patients: dict[str, int] = field(default_factory=dict)
    class_counts: dict[str, Counter] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)
    max_examples: int | None = 5

    @property
    def num_samples(self) -> int:
        """Total number of samples kept."""
        return sum(self.samples.values())

    @property
    def num_skipped(self) -> int:
        """Total number of items dropped."""
        return sum(self.skipped.values())

    def keep(self, split: str, class_names: Iterable[str] = ()) -> None:
        """Count one kept sample of ``split`` with the given (positive) classes."""
        self.samples[split] += 1
        self.class_counts.setdefault(split, Counter()).update(class_names)

    def count_patients(self, split_of_patient: Mapping[str, str]) -> None:
        """Set ``patients`` from a patient -> split mapping."""
        self.patients = dict(Counter(split_of_patient.values()))

    def skip(self, reason: str, example: str, count: int = 1) -> None:
        """Count ``count`` dropped items for ``reason``, remembering ``example``."""
        self.skipped[reason] += count
        seen = self.examples.setdefault(reason, [])
        if self.max_examples is None or len(seen) < self.max_examples:
            seen.append(str(example))

    def format(self) -> str:
        """The summary as printable lines."""
        lines = [f'{self.dataset}: {self.num_samples} {self.unit}']
        for split in sorted(set(self.samples) | set(self.files), key=split_order):
            patients = (f', {self.patients[split]} patients' if split in self.patients
                        else '')
            per_class = ''
            if self.classes:
                counts = self.class_counts.get(split, Counter())
                per_class = ' [' + ', '.join(f'{name} {counts.get(name, 0)}'
                                             for name in self.classes) + ']'
            target = f' -> {self.files[split]}' if split in self.files else ''
            lines.append(f'  {split}: {self.samples.get(split, 0)} {self.unit}{patients}'
                         f'{per_class}{target}')
        lines.append(f'skipped {self.num_skipped}' + (':' if self.skipped else ''))
        for reason, count in sorted(self.skipped.items()):
            shown = ', '.join(self.examples.get(reason, []))
            lines.append(f'  {reason}: {count}' + (f' (e.g. {shown})' if shown else ''))
        lines.extend(f'{key}: {value}' for key, value in self.notes.items())
        return '\n'.join(lines)
