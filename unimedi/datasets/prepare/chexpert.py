"""CheXpert: the official ``train.csv`` / ``valid.csv`` -> patient-level train / val / test
CSVs (GLoRIA / MGCA's protocol), read by ``CheXpertDataset``."""
from __future__ import annotations

import os
import os.path as osp
import shutil
from typing import Sequence

from unimedi.io.paths import require_annotation
from unimedi.io.tables import read_table, table_header, write_csv
from ..chexpert import (COMPETITION_CLASSES, PATH_COLUMN, VIEW_COLUMN, chexpert_patient, is_frontal,
                        parse_observation)
from ..splits import split_by_patient
from .summary import PrepareSummary


def split_chexpert(train_csv: str, valid_csv: str, out_dir: str, test_size: int = 5000,
                   seed: int = 0, classes: Sequence[str] = COMPETITION_CLASSES) -> PrepareSummary:
    """Write ``train.csv``, ``val.csv`` and ``test.csv`` in CheXpert's CSV format.

    The protocol of GLoRIA / MGCA, made patient-level: the official validation set (200
    studies) is too small to test on, so

    - ``val.csv`` = the official ``valid.csv``, copied as is;
    - ``test.csv`` = every row of the patients held out from the official ``train.csv``:
      about ``test_size`` frontal images (MGCA: 5000). Patients are drawn with
      :func:`split_by_patient`, stratified by the set of ``classes`` positive (1.0) on any
      of their frontal images, at the fraction ``test_size / frontal images``;
    - ``train.csv`` = the other rows of the official ``train.csv``.

    No patient is in two files (the official validation patients must not be in
    ``train.csv``: checked). Rows are written unchanged under the input's header.

    Args:
        train_csv, valid_csv: the official ``train.csv`` and ``valid.csv``.
        out_dir: folder for the three files (created).
        test_size: the number of frontal train images to hold out, about.
        seed: the draw's seed.
        classes: the observations to stratify by.

    Returns:
        a :class:`PrepareSummary` (positives per class count frontal images only).
    """
    required = [PATH_COLUMN, VIEW_COLUMN, *classes]
    for path in (train_csv, valid_csv):
        require_annotation(path)
    rows, patients, labels = [], [], []
    for number, row in read_table(train_csv, required, delimiter=','):
        where = f'{train_csv}:{number}'
        patients.append(chexpert_patient(row[PATH_COLUMN], where))
        positive = [parse_observation(row[name], where, name) == 1.0 for name in classes]
        labels.append([float(p and is_frontal(row)) for p in positive])
        rows.append(row)
    frontal = sum(is_frontal(row) for row in rows)
    if not 0 < test_size < frontal:
        raise ValueError(f'{train_csv}: test_size must be in (0, {frontal}) (the frontal '
                         f'images), got {test_size}')
    share = test_size / frontal
    splits = split_by_patient(patients, labels, {'train': 1.0 - share, 'test': share}, seed)

    valid_patients = {}
    valid_rows = list(read_table(valid_csv, required, delimiter=','))
    for number, row in valid_rows:
        valid_patients[chexpert_patient(row[PATH_COLUMN], f'{valid_csv}:{number}')] = 'val'
    shared = sorted(set(valid_patients) & set(patients))
    if shared:
        raise ValueError(f'{valid_csv}: {len(shared)} patients are also in {train_csv} '
                         f'(e.g. {shared[:3]}); expected the official, disjoint files')

    header = table_header(train_csv, delimiter=',')
    report = PrepareSummary('CheXpert', classes)
    for split in ('train', 'test'):
        path = osp.join(out_dir, f'{split}.csv')
        write_csv(path, header, (row for row, s in zip(rows, splits) if s == split))
        report.files[split] = path
    os.makedirs(out_dir, exist_ok=True)
    report.files['val'] = osp.join(out_dir, 'val.csv')
    shutil.copyfile(valid_csv, report.files['val'])

    for row, split in zip(rows, splits):
        _count_chexpert(report, split, row, classes, train_csv)
    for number, row in valid_rows:
        _count_chexpert(report, 'val', row, classes, f'{valid_csv}:{number}')
    report.count_patients({**dict(zip(patients, splits)), **valid_patients})
    report.notes['counted'] = 'frontal images only (samples and positives)'
    report.notes['val'] = 'the official valid.csv'
    return report


def _count_chexpert(report: PrepareSummary, split: str, row: dict, classes: Sequence[str],
                    where: str) -> None:
    if is_frontal(row):
        report.keep(split, [name for name in classes
                            if parse_observation(row[name], where, name) == 1.0])
