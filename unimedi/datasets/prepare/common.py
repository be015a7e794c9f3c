"""Shared pieces of the paper data adapters: the summary and manifest writing (tables:
``unimedi.io.tables``)."""
from __future__ import annotations

import json
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from ..splits import split_order


@dataclass
class AdapterSummary:
    """What an adapter kept and what it dropped, and why.

    Attributes:
        dataset: dataset name, for the printed summary.
        rows_per_split: number of manifest rows per split.
        skipped: number of dropped images (or sessions) per reason.
        examples: up to ``max_examples`` identifiers per skip reason.
        notes: other facts worth printing (report source, counts that are not skips).
        max_examples: how many identifiers to remember per reason.
    """

    dataset: str
    rows_per_split: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)
    max_examples: int = 5

    @property
    def num_rows(self) -> int:
        """Total number of manifest rows."""
        return sum(self.rows_per_split.values())

    def keep(self, split: str) -> None:
        """Count one kept row in ``split``."""
        self.rows_per_split[split] += 1

    def skip(self, reason: str, example: str, count: int = 1) -> None:
        """Count ``count`` dropped items for ``reason``, remembering ``example``."""
        self.skipped[reason] += count
        seen = self.examples.setdefault(reason, [])
        if len(seen) < self.max_examples:
            seen.append(example)

    def format(self) -> str:
        """The summary as printable lines."""
        lines = [f'{self.dataset}: {self.num_rows} rows']
        for split in sorted(self.rows_per_split, key=split_order):
            lines.append(f'  {split}: {self.rows_per_split[split]}')
        if self.skipped:
            lines.append(f'skipped {sum(self.skipped.values())}:')
            for reason, count in sorted(self.skipped.items()):
                shown = ', '.join(self.examples.get(reason, []))
                lines.append(f'  {reason}: {count}' + (f' (e.g. {shown})' if shown else ''))
        else:
            lines.append('skipped 0')
        for key, value in self.notes.items():
            lines.append(f'{key}: {value}')
        return '\n'.join(lines)


def write_manifest(rows: Iterable[dict], out: str) -> int:
    """Write rows as a JSONL manifest (one object a line); return the number written.

    The parent folder is created when missing.
    """
    parent = osp.dirname(osp.abspath(out))
    os.makedirs(parent, exist_ok=True)
    count = 0
    with open(out, 'w', encoding='utf-8') as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
            count += 1
    return count


def write_and_report(rows: list[dict], summary, out: str, root: str) -> int:
    """Write the manifest, print the summary and how to load it; return the row count."""
    count = write_manifest(rows, out)
    print(summary.format())
    print(f'wrote {count} rows to {out}; load with '
          f'ImageReportDataset(data_root={root!r}, ann_file={os.path.abspath(out)!r})')
    return count
