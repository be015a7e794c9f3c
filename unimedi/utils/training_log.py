"""Reading a training run's ``scalars.json`` (MMEngine's ``LocalVisBackend``): the rows of
the latest run of a work dir, one key's curve, and a moving average."""
from __future__ import annotations

import glob
import json
import os.path as osp

import numpy as np


def load_rows(work_dir: str) -> list[dict]:
    """Every row of the latest run's ``scalars.json``.

    The runs are ``<work_dir>/<timestamp>/vis_data/scalars.json``; the latest is the last
    timestamp in sorted order. Each non-empty line is one JSON object (one row).

    Raises:
        SystemExit: naming ``work_dir`` when it holds no such file.
    """
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not runs:
        raise SystemExit(f'{work_dir}: no */vis_data/scalars.json (not a training work dir?)')
    with open(runs[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def series(rows: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """The curve of ``key``: ``(steps, values)``, both float arrays of shape ``(n,)``, n the
    number of rows holding ``key`` with a number (in file order). The step of a row is its
    ``iter``, else its ``step``; rows with neither are skipped."""
    steps, values = [], []
    for row in rows:
        value = row.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        step = row.get('iter', row.get('step'))
        if step is None:
            continue
        steps.append(float(step))
        values.append(float(value))
    return np.asarray(steps, dtype=float), np.asarray(values, dtype=float)


def moving_average(values: np.ndarray, n: int) -> np.ndarray:
    """Trailing moving average over ``n`` rows: shape ``(len(values),)``, element ``i`` the
    mean of ``values[max(0, i - n + 1):i + 1]`` (the first ``n - 1`` average fewer rows).
    ``n <= 1`` returns a float copy of ``values``."""
    values = np.asarray(values, dtype=float)
    if n <= 1 or values.size == 0:
        return values.copy()
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, values.size + 1)
    start = np.maximum(0, idx - n)
    return (cumsum[idx] - cumsum[start]) / (idx - start)
