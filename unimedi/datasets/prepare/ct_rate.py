"""CT-RATE (Hamamci et al., 2024: 50,188 chest CT volumes of 21,304 patients with reports)
-> ``CTRateDataset`` manifest rows.

The layout as published (v1 and the header-fixed v2 ``*_fixed`` trees)::

    root/
      dataset/{train,valid}[_fixed]/<split>_<pid>/<split>_<pid>_<scan>/
          <split>_<pid>_<scan>_<recon>.nii.gz
      radiology_text_reports/{train,validation}_reports.csv   (these four folders may also
                                                              sit under dataset/)
          VolumeName, ClinicalInformation_EN, Technique_EN, Findings_EN, Impressions_EN
      multi_abnormality_labels/{train,valid}_predicted_labels.csv
          VolumeName + the 18 abnormalities (inferred from the reports by a text
          classifier, not read by radiologists)
      metadata/{train,validation}_metadata.csv
          VolumeName, XYSpacing, ZSpacing, RescaleSlope, RescaleIntercept, ...
      metadata/no_chest_{train,valid}.txt
          volumes that do not show the chest, one name a line

The v1 files have blank NIfTI headers: their rows carry ``override_spacing`` (from
``ZSpacing`` and ``XYSpacing``) and ``override_rescale`` (``RescaleSlope``,
``RescaleIntercept``), which ``OverrideHeader`` applies after loading. The ``*_fixed`` tree
is read as it is. Names are joined with or without ``.nii.gz``. The official ``valid`` split
is the test split; a patient-level ``val`` is carved from ``train``, so the reconstructions
(and scans) of one patient always share a split.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import re
from typing import Sequence

from unimedi.io.paths import require_annotation
from unimedi.io.tables import read_table
from ..ct_rate import CT_RATE_CLASSES
from ..splits import split_by_patient
from .summary import PrepareSummary

#: official split -> (volume folder, file infix of reports / metadata, of labels / no_chest)
OFFICIAL = {'train': ('train', 'train', 'train'), 'valid': ('valid', 'validation', 'valid')}
REPORT_COLUMNS = ('VolumeName', 'Findings_EN', 'Impressions_EN')
_NAME = re.compile(r'^(train|valid)_(\d+)_([a-z]+)_(\d+)$')


def volume_key(name: str) -> str:
    """``'train_1_a_1.nii.gz'``, ``'train_1_a_1.nii'`` and ``'train_1_a_1'`` all give
    ``'train_1_a_1'``."""
    name = osp.basename(str(name).strip())
    for suffix in ('.nii.gz', '.nii'):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def find_volumes(root: str, split: str, fixed: bool) -> dict[str, str]:
    """``volume key -> path relative to root`` of one official split's tree."""
    tree = osp.join(root, 'dataset', OFFICIAL[split][0] + ('_fixed' if fixed else ''))
    if not osp.isdir(tree):
        raise FileNotFoundError(f'{tree}: CT-RATE volume folder not found')
    found = {}
    for folder, dirs, files in os.walk(tree):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(('.nii.gz', '.nii')):
                found[volume_key(name)] = osp.relpath(osp.join(folder, name), root)
    return found


def _table_rows(path: str, required: Sequence[str],
                summary: PrepareSummary | None = None) -> dict[str, tuple[int, dict]]:
    """``volume key -> (line, row)``; a repeated name keeps its first row (counted)."""
    require_annotation(path)
    rows = {}
    for number, row in read_table(path, required, delimiter=','):
        key = volume_key(row['VolumeName'])
        if key in rows:
            if summary is not None:
                summary.skip(f'repeated VolumeName in {osp.basename(path)} (first row kept)',
                             f'{key} (line {number})')
        elif key:
            rows[key] = (number, row)
    return rows


def _number(value, where: str, column: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError as exc:
        raise ValueError(f'{where}: {column} must be a number, got {value!r}') from exc


def _xy_spacing(value, where: str) -> list[float]:
    text = str(value).strip()
    try:
        parsed = json.loads(text) if text.startswith('[') else [float(text)] * 2
        spacing = [float(v) for v in parsed]
    except ValueError as exc:
        raise ValueError(f'{where}: XYSpacing must be "[row, column]" in mm, got {value!r}') \
            from exc
    if len(spacing) != 2 or min(spacing) <= 0:
        raise ValueError(f'{where}: XYSpacing must be two positive numbers, got {value!r}')
    return spacing


def find_table(root: str, *parts: str) -> str:
    """``root/parts``, or ``root/dataset/parts`` where the download keeps the tables there
    (as the Hugging Face repository does); the first when neither exists."""
    direct = osp.join(root, *parts)
    nested = osp.join(root, 'dataset', *parts)
    return nested if not osp.exists(direct) and osp.exists(nested) else direct


def read_exclusions(path: str) -> set[str]:
    """The volume keys of a ``no_chest_*.txt`` (missing file: none)."""
    if not osp.isfile(path):
        return set()
    with open(path, encoding='utf-8') as f:
        return {volume_key(line) for line in f if line.strip()}


def build_ct_rate_rows(root: str, fixed: bool = False, val_fraction: float = 0.05,
                       seed: int = 0, drop_no_chest: bool = True,
                       check_files: bool = True) -> tuple[list[dict], PrepareSummary]:
    """Manifest rows of every CT-RATE volume with a report.

    Args:
        root: the CT-RATE folder (holding ``dataset/``, ``radiology_text_reports/``...).
        fixed: read the ``*_fixed`` (v2, corrected headers) volume trees; else v1, whose
            rows get the spacing and HU rescale of the metadata tables.
        val_fraction: the share of the train patients moved to ``val``.
        seed: the draw of the ``val`` patients.
        drop_no_chest: skip the volumes listed in ``metadata/no_chest_*.txt``.
        check_files: skip rows whose volume file is missing (``False``: keep them, e.g.
            for a partial download checked later).

    Returns:
        the rows (``path``, ``modality``, ``findings``, ``impression``, ``clinical``,
        ``technique``, ``labels`` (18 0/1 values, ``CT_RATE_CLASSES`` order), ``split``,
        ``patient_id``, ``scan_id``, ``volume``; v1 also ``override_spacing`` (D, H, W) and
        ``override_rescale``) and the summary.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
    if not osp.isdir(root):
        raise FileNotFoundError(f'{root}: CT-RATE root folder not found')
    summary = PrepareSummary('CT-RATE', CT_RATE_CLASSES, unit='rows')
    summary.notes['volumes'] = 'v2 (*_fixed, headers as stored)' if fixed else \
        'v1 (spacing and HU rescale from metadata)'
    summary.notes['labels'] = 'predicted from the reports by a text classifier'
    rows = []
    for official, (_, table_infix, label_infix) in OFFICIAL.items():
        reports = _table_rows(find_table(root, 'radiology_text_reports',
                                         f'{table_infix}_reports.csv'), REPORT_COLUMNS, summary)
        labels = _table_rows(find_table(root, 'multi_abnormality_labels',
                                        f'{label_infix}_predicted_labels.csv'),
                             ('VolumeName', ) + CT_RATE_CLASSES)
        metadata = {} if fixed else _table_rows(
            find_table(root, 'metadata', f'{table_infix}_metadata.csv'),
            ('VolumeName', 'XYSpacing', 'ZSpacing', 'RescaleSlope', 'RescaleIntercept'))
        excluded = read_exclusions(find_table(root, 'metadata', f'no_chest_{label_infix}.txt')) \
            if drop_no_chest else set()
        volumes = find_volumes(root, official, fixed) if check_files else {}
        for key, (_, row) in reports.items():
            match = _NAME.match(key)
            if match is None or match[1] != official:
                summary.skip('volume name not <split>_<patient>_<scan>_<recon>', key)
                continue
            if key in excluded:
                summary.skip('not a chest CT (no_chest list)', key)
                continue
            if check_files and key not in volumes:
                summary.skip('volume file missing', key)
                continue
            if key not in labels:
                summary.skip('no abnormality labels', key)
                continue
            findings = (row.get('Findings_EN') or '').strip()
            impression = (row.get('Impressions_EN') or '').strip()
            if not (findings or impression):
                summary.skip('empty report (no findings or impression)', key)
                continue
            label_row = labels[key][1]
            label_where = f'{official} labels:{labels[key][0]}'
            out = dict(
                path=volumes.get(key) or _expected_path(official, fixed, match),
                modality='3d', findings=findings, impression=impression,
                clinical=(row.get('ClinicalInformation_EN') or '').strip(),
                technique=(row.get('Technique_EN') or '').strip(),
                labels=[_label(label_row[c], label_where, c) for c in CT_RATE_CLASSES],
                split='test' if official == 'valid' else 'train',
                patient_id=f'{official}_{match[2]}', scan_id=f'{official}_{match[2]}_{match[3]}',
                volume=key)
            if not fixed:
                if key not in metadata:
                    summary.skip('no metadata row (spacing, HU rescale)', key)
                    continue
                meta_number, meta = metadata[key]
                meta_where = f'{official} metadata:{meta_number}'
                row_mm, column_mm = _xy_spacing(meta['XYSpacing'], meta_where)
                out['override_spacing'] = [_number(meta['ZSpacing'], meta_where, 'ZSpacing'),
                                           row_mm, column_mm]
                out['override_rescale'] = [
                    _number(meta['RescaleSlope'], meta_where, 'RescaleSlope'),
                    _number(meta['RescaleIntercept'], meta_where, 'RescaleIntercept')]
            rows.append(out)
    _carve_val(rows, val_fraction, seed)
    for out in rows:
        summary.keep(out['split'], [c for c, v in zip(CT_RATE_CLASSES, out['labels']) if v])
    summary.count_patients({out['patient_id']: out['split'] for out in rows})
    summary.notes['val'] = f'{val_fraction:g} of the train patients (seed {seed})'
    return rows, summary


def _label(value, where: str, column: str) -> int:
    number = _number(value, where, column)
    if number not in (0.0, 1.0):
        raise ValueError(f'{where}: {column} must be 0 or 1, got {value!r}')
    return int(number)


def _expected_path(official: str, fixed: bool, match: re.Match) -> str:
    split, patient, scan, recon = match.groups()
    tree = OFFICIAL[official][0] + ('_fixed' if fixed else '')
    return (f'dataset/{tree}/{split}_{patient}/{split}_{patient}_{scan}/'
            f'{split}_{patient}_{scan}_{recon}.nii.gz')


def _carve_val(rows: list[dict], val_fraction: float, seed: int) -> None:
    """Move a patient-level ``val_fraction`` of the train rows to ``val`` (stratified by the
    patient's abnormalities)."""
    train = [row for row in rows if row['split'] == 'train']
    if not train or val_fraction == 0:
        return
    splits = split_by_patient([row['patient_id'] for row in train],
                              [row['labels'] for row in train],
                              {'train': 1.0 - val_fraction, 'val': val_fraction}, seed)
    for row, split in zip(train, splits):
        row['split'] = split
