"""``CheXpertDataset``: CheXpert chest X-rays with their CSV labels, and its split protocol."""
from __future__ import annotations

import os
import os.path as osp
import re
import shutil
from typing import Sequence

from unimedi.io.paths import resolve_path
from unimedi.io.tables import read_table, table_header
from unimedi.registry import DATASETS
from .base_dataset import MedBaseDataset
from .downstream_common import SplitReport, require_annotation, require_file, write_csv
from .manifest_dataset import ManifestError
from .splits import split_by_patient

#: the five observations of the CheXpert competition (Irvin et al., 2019)
COMPETITION_CLASSES = ('Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema',
                       'Pleural Effusion')
UNCERTAIN_POLICIES = ('zeros', 'ones')
PATH_COLUMN = 'Path'
VIEW_COLUMN = 'Frontal/Lateral'
_PATIENT = re.compile(r'(patient\d+)')


def parse_observation(value: str | None, where: str, column: str) -> float:
    """A CheXpert label cell as 1.0 / 0.0 / -1.0 (uncertain); blank (not mentioned) is 0."""
    text = (value or '').strip()
    try:
        number = float(text) if text else 0.0
    except ValueError:
        number = None
    if number not in (1.0, 0.0, -1.0):
        raise ManifestError(f'{where}: column {column!r} must be 1.0, 0.0, -1.0 or blank, '
                            f'got {value!r}')
    return number


def chexpert_patient(path: str, where: str) -> str:
    """The ``patientNNNNN`` part of a CheXpert ``Path``."""
    match = _PATIENT.search(path)
    if match is None:
        raise ManifestError(f'{where}: no patientNNNNN folder in Path {path!r}')
    return match.group(1)


def _is_frontal(row: dict) -> bool:
    return str(row.get(VIEW_COLUMN) or '').strip().lower() == 'frontal'


@DATASETS.register_module()
class CheXpertDataset(MedBaseDataset):
    """CheXpert (or CheXpert-small) radiographs, multi-label over ``classes``.

    Layout (``data_root`` is the folder that *contains* ``CheXpert-v1.0-small/``, because
    the CSV's ``Path`` column starts with that folder)::

        data_root/
            CheXpert-v1.0-small/train.csv, valid.csv
            CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg
            ...

    ``ann_file`` is a CSV in CheXpert's own format: the official ``train.csv`` /
    ``valid.csv`` or the ``train.csv`` / ``val.csv`` / ``test.csv`` written by
    ``tools/data/prepare_chexpert.py`` (see :func:`split_chexpert`). Columns used:
    ``Path`` (relative to ``data_root``), ``Frontal/Lateral`` and one column per class.

    Labels: each class cell is 1.0 (positive), 0.0 (negative), -1.0 (uncertain) or blank
    (not mentioned, counted as 0). Uncertain cells follow ``uncertain``: ``'zeros'``
    (U-Zeros: negative) or ``'ones'`` (U-Ones: positive). ``gt_label`` is the multi-hot
    ``list[float]`` over ``classes``. Samples also carry ``sample_id`` (the ``Path``),
    ``patient_id`` and ``view``.

    Args:
        ann_file: the CSV, relative to ``data_root`` unless absolute.
        data_root: the folder holding ``CheXpert-v1.0-small/``.
        classes: observation columns to predict; ``None`` takes ``metainfo['classes']``
            when given, else :data:`COMPETITION_CLASSES` (the 5 competition labels).
        uncertain: ``'zeros'`` or ``'ones'``, the policy for -1.0.
        frontal_only: keep only rows whose ``Frontal/Lateral`` is ``Frontal``.
        check_files: raise (naming the CSV line) when an image file is missing.
        **kwargs: :class:`MedBaseDataset` arguments (``pipeline``, ``data_fraction``...).
    """

    def __init__(self, ann_file: str, data_root: str, classes: Sequence[str] | None = None,
                 uncertain: str = 'zeros', frontal_only: bool = True, check_files: bool = True,
                 **kwargs):
        if uncertain not in UNCERTAIN_POLICIES:
            raise ValueError(f'uncertain must be one of {UNCERTAIN_POLICIES}, got {uncertain!r}')
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if classes is None:
            classes = metainfo.get('classes') or COMPETITION_CLASSES
        if isinstance(classes, str) or not classes:
            raise ValueError(f'classes must be a non-empty sequence of column names, '
                             f'got {classes!r}')
        metainfo['classes'] = tuple(classes)
        self.uncertain = uncertain
        self.frontal_only = frontal_only
        self.check_files = check_files
        super().__init__(ann_file=ann_file, data_root=data_root, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list[dict]:
        require_annotation(self.ann_file)
        classes = tuple(self.metainfo['classes'])
        required = [PATH_COLUMN, *classes] + ([VIEW_COLUMN] if self.frontal_only else [])
        uncertain_value = 1.0 if self.uncertain == 'ones' else 0.0
        data_list = []
        for number, row in read_table(self.ann_file, required, delimiter=','):
            where = f'{self.ann_file}:{number}'
            if self.frontal_only and not _is_frontal(row):
                continue
            path = (row[PATH_COLUMN] or '').strip()
            if not path:
                raise ManifestError(f'{where}: empty Path')
            values = [parse_observation(row[name], where, name) for name in classes]
            img_path = resolve_path(self.data_root, path)
            if self.check_files:
                require_file(img_path, where)
            data_list.append(dict(
                img_path=img_path, modality='2d', sample_id=path,
                gt_label=[uncertain_value if v == -1.0 else v for v in values],
                patient_id=chexpert_patient(path, where), view=row.get(VIEW_COLUMN, '')))
        if not data_list:
            raise ManifestError(f'{self.ann_file}: no rows left after filtering '
                                f'(frontal_only={self.frontal_only})')
        return data_list


def split_chexpert(train_csv: str, valid_csv: str, out_dir: str, test_size: int = 5000,
                   seed: int = 0, classes: Sequence[str] = COMPETITION_CLASSES) -> SplitReport:
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
        a :class:`SplitReport` (positives per class count frontal images only).
    """
    required = [PATH_COLUMN, VIEW_COLUMN, *classes]
    for path in (train_csv, valid_csv):
        require_annotation(path)
    rows, patients, labels = [], [], []
    for number, row in read_table(train_csv, required, delimiter=','):
        where = f'{train_csv}:{number}'
        patients.append(chexpert_patient(row[PATH_COLUMN], where))
        positive = [parse_observation(row[name], where, name) == 1.0 for name in classes]
        labels.append([float(p and _is_frontal(row)) for p in positive])
        rows.append(row)
    frontal = sum(_is_frontal(row) for row in rows)
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
    report = SplitReport('CheXpert', classes)
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
    report.notes.append('samples and positives count frontal images only; val = the official '
                        'valid.csv')
    return report


def _count_chexpert(report: SplitReport, split: str, row: dict, classes: Sequence[str],
                    where: str) -> None:
    if _is_frontal(row):
        report.count(split, [name for name in classes
                             if parse_observation(row[name], where, name) == 1.0])
