"""RSNA Pneumonia: the official ``stage_2_train_labels.csv`` -> one entry per patient, and
MGCA's seeded 70 / 15 / 15 train / val / test CSVs read by ``RSNAPneumoniaDataset``."""
from __future__ import annotations

import json
import os.path as osp
from typing import Mapping

from unimedi.io.paths import require_annotation
from unimedi.io.tables import read_table, write_csv
from ..manifest_dataset import ManifestError
from ..rsna_pneumonia import parse_target
from ..splits import split_by_patient
from .summary import PrepareSummary

#: the columns of the official label file
LABEL_COLUMNS = ('patientId', 'x', 'y', 'width', 'height', 'Target')
#: the columns of the split files
SPLIT_COLUMNS = ('patientId', 'Target', 'boxes')
MGCA_FRACTIONS = {'train': 0.7, 'val': 0.15, 'test': 0.15}


def read_rsna_labels(labels_csv: str) -> dict[str, dict]:
    """Read the official ``stage_2_train_labels.csv`` into one entry per patient.

    Returns:
        patientId -> ``{'Target': 0|1, 'boxes': [[x, y, w, h], ...]}``, in file order.
        A positive row carries one box; a negative row has blank coordinates.
    """
    require_annotation(labels_csv)
    patients: dict[str, dict] = {}
    for number, row in read_table(labels_csv, LABEL_COLUMNS, delimiter=','):
        where = f'{labels_csv}:{number}'
        patient = (row['patientId'] or '').strip()
        if not patient:
            raise ManifestError(f'{where}: empty patientId')
        target = parse_target(row['Target'], where)
        entry = patients.setdefault(patient, dict(Target=target, boxes=[]))
        if entry['Target'] != target:
            raise ManifestError(f'{where}: patient {patient} has rows with Target 0 and 1')
        coordinates = [(row[c] or '').strip() for c in ('x', 'y', 'width', 'height')]
        if target == 1:
            try:
                entry['boxes'].append([float(v) for v in coordinates])
            except ValueError as exc:
                raise ManifestError(f'{where}: a Target 1 row needs numeric x, y, width, '
                                    f'height, got {coordinates}') from exc
        elif any(coordinates):
            raise ManifestError(f'{where}: a Target 0 row must have no box, got {coordinates}')
    if not patients:
        raise ManifestError(f'{labels_csv}: holds no rows')
    return patients


def split_rsna_pneumonia(labels_csv: str, out_dir: str,
                         fractions: Mapping[str, float] = MGCA_FRACTIONS,
                         seed: int = 0) -> PrepareSummary:
    """Write ``train.csv``, ``val.csv``, ``test.csv`` (``patientId,Target,boxes``).

    MGCA's protocol: a seeded 70 / 15 / 15 split of the patients (one image each) of
    ``stage_2_train_labels.csv``, stratified by ``Target``.

    Args:
        labels_csv: the official ``stage_2_train_labels.csv``.
        out_dir: folder for the split files (created).
        fractions: split -> fraction; the first split takes what the others leave.
        seed: the draw's seed.
    """
    patients = read_rsna_labels(labels_csv)
    ids = list(patients)
    splits = split_by_patient(ids, [patients[p]['Target'] for p in ids], fractions, seed)
    report = PrepareSummary('RSNA Pneumonia', ('Pneumonia', 'Normal'))
    for split in fractions:
        path = osp.join(out_dir, f'{split}.csv')
        rows = [dict(patientId=p, Target=patients[p]['Target'],
                     boxes=json.dumps(patients[p]['boxes']))
                for p, s in zip(ids, splits) if s == split]
        write_csv(path, SPLIT_COLUMNS, rows)
        report.files[split] = path
    for patient, split in zip(ids, splits):
        report.keep(split, ['Pneumonia' if patients[patient]['Target'] else 'Normal'])
    report.count_patients(dict(zip(ids, splits)))
    return report
