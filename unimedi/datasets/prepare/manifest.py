"""The pre-training manifests of the paper data adapters: JSONL rows, written and announced."""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Iterable

from .summary import PrepareSummary


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


def write_and_report(rows: list[dict], summary: PrepareSummary, out: str, root: str,
                     dataset: str = 'ImageReportDataset') -> int:
    """Write the manifest, print the summary and how to load it (with ``dataset``); return
    the row count."""
    count = write_manifest(rows, out)
    print(summary.format())
    print(f'wrote {count} rows to {out}; load with '
          f'{dataset}(data_root={root!r}, ann_file={os.path.abspath(out)!r})')
    return count
