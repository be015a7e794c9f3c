"""``CheXpertDataset``: CheXpert chest X-rays with their CSV labels, and its split protocol."""
from __future__ import annotations

import re
from typing import Sequence

from unimedi.io.paths import require_annotation, require_file, resolve_path
from unimedi.io.tables import read_table
from unimedi.registry import DATASETS
from .base_dataset import MedBaseDataset
from .manifest_dataset import ManifestError

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


def is_frontal(row: dict) -> bool:
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
            if self.frontal_only and not is_frontal(row):
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
