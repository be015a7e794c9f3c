"""COVIDx: the official ``train.txt`` / ``test.txt`` -> train / val / test lists, the
validation part held out by patient (MGCA's protocol), read by ``COVIDxDataset``."""
from __future__ import annotations

import os
import os.path as osp
import shutil

from ..covidx import COVIDX_BINARY_CLASSES, COVIDX_CLASSES, read_covidx_list
from ..manifest_dataset import ManifestError
from ..splits import split_by_patient
from .summary import PrepareSummary


def split_covidx(train_list: str, test_list: str, out_dir: str, val_fraction: float = 0.1,
                 seed: int = 0) -> PrepareSummary:
    """Write ``train_split.txt``, ``val.txt`` and ``test.txt`` in ``out_dir``.

    COVIDx has no validation list. MGCA's protocol: the official test list is the test
    set and 10 % of the training list is held out for validation. Here the held-out part
    is drawn by patient (no patient in both), stratified by the patient's classes, seeded.
    Lines are copied unchanged; ``test.txt`` is a copy of ``test_list``.

    Args:
        train_list, test_list: the official ``train.txt`` and ``test.txt``.
        out_dir: folder for the three lists (created).
        val_fraction: the fraction of training patients in ``val.txt``, in (0, 1).
        seed: the draw's seed.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f'val_fraction must be in (0, 1), got {val_fraction}')
    classes = COVIDX_CLASSES + COVIDX_BINARY_CLASSES  # split lists of any version
    entries = read_covidx_list(train_list, classes)
    if not entries:
        raise ManifestError(f'{train_list}: holds no lines')
    patients = [entry['patient_id'] for _, _, entry in entries]
    splits = split_by_patient(patients, [entry['label'] for _, _, entry in entries],
                              {'train': 1.0 - val_fraction, 'val': val_fraction}, seed)
    test_entries = read_covidx_list(test_list, classes)
    present = sorted({entry['label'] for _, _, entry in entries + test_entries})
    report = PrepareSummary('COVIDx', [classes[label] for label in present])
    os.makedirs(out_dir, exist_ok=True)
    for split, name in (('train', 'train_split.txt'), ('val', 'val.txt')):
        path = osp.join(out_dir, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.writelines(line + '\n' for (_, line, _), s in zip(entries, splits) if s == split)
        report.files[split] = path
    report.files['test'] = osp.join(out_dir, 'test.txt')
    if osp.abspath(test_list) != osp.abspath(report.files['test']):
        shutil.copyfile(test_list, report.files['test'])
    for (_, _, entry), split in zip(entries, splits):
        report.keep(split, [classes[entry['label']]])
    for _, _, entry in test_entries:
        report.keep('test', [classes[entry['label']]])
    split_of = dict(zip(patients, splits))
    report.count_patients(split_of)
    report.patients['test'] = len({entry['patient_id'] for _, _, entry in test_entries})
    shared = sorted(set(split_of) & {entry['patient_id'] for _, _, entry in test_entries})
    if shared:
        report.notes['patients in both official lists'] = (
            f'{len(shared)} of {test_list} are also in {train_list} (e.g. {shared[:3]})')
    return report
