"""MIMIC-CXR 2.0 (MIMIC-CXR-JPG layout) -> manifest rows for ``ImageReportDataset``.

Tables read from the dataset root (each ``.csv.gz`` or ``.csv``):

- ``mimic-cxr-2.0.0-split``: ``dicom_id, study_id, subject_id, split`` with split in
  ``train`` / ``validate`` / ``test`` (``validate`` becomes ``val``).
- ``mimic-cxr-2.0.0-metadata``: ``dicom_id, ViewPosition, ...``; only the ``views``
  (default PA and AP, the frontal views) are kept.
- optional ``mimic-cxr-2.0.0-chexpert``: ``subject_id, study_id`` and one column per
  finding (1.0 positive, 0.0 negative, -1.0 uncertain, blank not mentioned).

Images: ``files/p{first two digits of subject}/p{subject_id}/s{study_id}/{dicom_id}.jpg``.
Reports (findings + impression) come from ``mimic_cxr_sectioned.csv`` (MIT-LCP
``create_section_files.py``: ``study, impression, findings, last_paragraph, comparison``)
or from the raw ``files/p10/p10000032/s50414267.txt`` files of ``mimic-cxr-reports``.
"""
from __future__ import annotations

import os.path as osp
from typing import Sequence

from unimedi.io.paths import resolve_path
from unimedi.io.reports import compose_report, split_sections
from unimedi.io.tables import find_table, read_table
from .summary import PrepareSummary

DEFAULT_VIEWS = ('PA', 'AP')
SPLIT_MAP = {'train': 'train', 'validate': 'val', 'test': 'test'}
SPLIT_STEM = 'mimic-cxr-2.0.0-split'
METADATA_STEM = 'mimic-cxr-2.0.0-metadata'
CHEXPERT_STEM = 'mimic-cxr-2.0.0-chexpert'
SECTIONED_STEM = 'mimic_cxr_sectioned'
UNCERTAIN_POLICIES = ('negative', 'positive')
_KEEP = ('findings', 'impression')


def study_folder(subject_id: str, study_id: str, image_dir: str = 'files') -> str:
    """``{image_dir}/p10/p10000032/s50414267`` for subject 10000032, study 50414267."""
    return osp.join(image_dir, f'p{subject_id[:2]}', f'p{subject_id}', f's{study_id}')


def image_path(subject_id: str, study_id: str, dicom_id: str, image_dir: str = 'files',
               image_ext: str = '.jpg') -> str:
    """The image of ``dicom_id``, relative to the dataset root."""
    return osp.join(study_folder(subject_id, study_id, image_dir), f'{dicom_id}{image_ext}')


def report_file(subject_id: str, study_id: str, reports_dir: str = 'files') -> str:
    """The raw report ``{reports_dir}/p10/p10000032/s50414267.txt`` of a study."""
    return study_folder(subject_id, study_id, reports_dir) + '.txt'


def _study_key(value: str) -> str:
    """``'s50414267'`` and ``'50414267'`` both give ``'50414267'``."""
    value = str(value).strip()
    return value[1:] if value[:1] in ('s', 'S') else value


def read_sectioned_reports(path: str, use_last_paragraph: bool = False,
                           with_headers: bool = True) -> dict[str, str]:
    """Read ``mimic_cxr_sectioned.csv`` into ``study_id -> findings + impression``.

    Args:
        path: the sectioned CSV (``.csv`` or ``.csv.gz``).
        use_last_paragraph: use ``last_paragraph`` as the impression of studies that have
            neither findings nor impression (needs that column).
        with_headers: write ``FINDINGS: ... IMPRESSION: ...`` so ``ParseReport`` recovers
            the sections.

    Returns:
        the composed report per study id (digits only; ``''`` when empty).
    """
    required = ['study', 'findings', 'impression'] + (['last_paragraph'] if use_last_paragraph
                                                      else [])
    reports = {}
    for _, row in read_table(path, required):
        sections = {'findings': row['findings'] or '', 'impression': row['impression'] or ''}
        if use_last_paragraph and not (sections['findings'].strip()
                                       or sections['impression'].strip()):
            sections['impression'] = row['last_paragraph'] or ''
        reports[_study_key(row['study'])] = compose_report(sections, _KEEP,
                                                           with_headers=with_headers)
    return reports


def read_report_file(path: str, with_headers: bool = True) -> str:
    """Findings + impression of one raw MIMIC-CXR report file (``''`` when both empty)."""
    with open(path, encoding='utf-8') as f:
        return compose_report(split_sections(f.read()), _KEEP, with_headers=with_headers)


def read_chexpert_labels(path: str, uncertain: str = 'negative'
                         ) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    """Read the CheXpert label table into positive class names per study.

    Args:
        path: ``mimic-cxr-2.0.0-chexpert.csv(.gz)``.
        uncertain: ``'negative'`` counts -1.0 (uncertain) as not positive ("U-Zeros");
            ``'positive'`` counts it as positive ("U-Ones"). 0.0 and blank are negative.

    Returns:
        ``(classes, {study_id: [positive class names]})``; the classes are the table's
        finding columns in their order.
    """
    if uncertain not in UNCERTAIN_POLICIES:
        raise ValueError(f'uncertain must be one of {UNCERTAIN_POLICIES}, got {uncertain!r}')
    positive = {'1', '1.0'} | ({'-1', '-1.0'} if uncertain == 'positive' else set())
    labels: dict[str, list[str]] = {}
    classes: tuple[str, ...] = ()
    for _, row in read_table(path, ['subject_id', 'study_id']):
        if not classes:
            classes = tuple(k for k in row if k not in ('subject_id', 'study_id'))
        labels[_study_key(row['study_id'])] = [
            name for name in classes if str(row.get(name) or '').strip() in positive]
    return classes, labels


def _report_source(root: str, sectioned_csv: str | None, reports_dir: str | None,
                   image_dir: str) -> tuple[str, str]:
    """``('sectioned', csv)`` or ``('files', folder)``; see :func:`build_mimic_cxr_rows`."""
    if sectioned_csv is not None and reports_dir is not None:
        raise ValueError('give either sectioned_csv or reports_dir, not both')
    if sectioned_csv is not None:
        return 'sectioned', find_table(root, SECTIONED_STEM, sectioned_csv)
    hint = ''
    if reports_dir is None:
        try:
            return 'sectioned', find_table(root, SECTIONED_STEM)
        except FileNotFoundError:
            reports_dir = image_dir
            hint = (f' (and no {SECTIONED_STEM}.csv in {root}); pass the sectioned CSV or '
                    'the mimic-cxr-reports "files" folder')
    folder = resolve_path(root, reports_dir)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{folder}: report folder not found{hint}')
    return 'files', folder


def build_mimic_cxr_rows(root: str, *, split_csv: str | None = None,
                         metadata_csv: str | None = None, sectioned_csv: str | None = None,
                         reports_dir: str | None = None, chexpert_csv: str | None = None,
                         with_labels: bool = False,
                         views: Sequence[str] = DEFAULT_VIEWS, image_dir: str = 'files',
                         image_ext: str = '.jpg', check_images: bool = True,
                         use_last_paragraph: bool = False, uncertain: str = 'negative',
                         with_headers: bool = True) -> tuple[list[dict], PrepareSummary]:
    """Turn a MIMIC-CXR-JPG root into manifest rows, one per kept frontal image.

    Args:
        root: the dataset root (holds the tables and ``image_dir``).
        split_csv, metadata_csv, chexpert_csv: explicit tables (absolute or relative to
            ``root``); default ``mimic-cxr-2.0.0-{split,metadata,chexpert}.csv(.gz)`` in
            ``root``.
        with_labels: add CheXpert ``labels`` (implied by ``chexpert_csv``).
        sectioned_csv: report source ``mimic_cxr_sectioned.csv``.
        reports_dir: report source: the folder holding ``p10/p10000032/s50414267.txt``.
            With neither, ``mimic_cxr_sectioned.csv(.gz)`` in ``root`` is used when present,
            else the ``.txt`` files under ``image_dir``.
        views: ``ViewPosition`` values kept (frontal: PA and AP).
        image_dir: image folder, relative to ``root`` (``files``).
        image_ext: image suffix (``.jpg``).
        check_images: skip (and count) rows whose image file is missing.
        use_last_paragraph: sectioned CSV only: fall back to ``last_paragraph`` when a study
            has neither findings nor impression.
        uncertain: CheXpert uncertain (-1.0) policy, see :func:`read_chexpert_labels`.
        with_headers: reports as ``FINDINGS: ... IMPRESSION: ...``.

    Returns:
        ``(rows, summary)``. Rows hold ``path`` (relative to ``root``), ``modality`` (``2d``),
        ``report``, ``split`` (``train``/``val``/``test``), ``subject_id``, ``study_id``,
        ``dicom_id``, ``view`` and, with CheXpert, ``labels`` (positive class names; the
        classes are in ``summary.notes['classes']``).

    Raises:
        FileNotFoundError: a table or the report folder is missing (names it).
        ValueError: a table lacks a column, or holds an unknown split (names the file).
    """
    views = tuple(v.upper() for v in views)
    split_path = find_table(root, SPLIT_STEM, split_csv)
    metadata_path = find_table(root, METADATA_STEM, metadata_csv)
    source, source_path = _report_source(root, sectioned_csv, reports_dir, image_dir)
    summary = PrepareSummary('MIMIC-CXR', unit='rows')
    summary.notes['report source'] = source_path
    summary.notes['views kept'] = ', '.join(views)

    view_of = {row['dicom_id']: (row['ViewPosition'] or '').strip().upper()
               for _, row in read_table(metadata_path, ['dicom_id', 'ViewPosition'])}
    sectioned = (read_sectioned_reports(source_path, use_last_paragraph, with_headers)
                 if source == 'sectioned' else None)
    classes, study_labels = ((), None)
    if with_labels or chexpert_csv is not None:
        classes, study_labels = read_chexpert_labels(
            find_table(root, CHEXPERT_STEM, chexpert_csv), uncertain)
        summary.notes['classes'] = list(classes)
        summary.notes['uncertain (-1.0) labels'] = uncertain

    file_reports: dict[str, str | None] = {}
    excluded_views: dict[str, int] = {}
    without_labels = 0
    rows = []
    for number, row in read_table(split_path, ['dicom_id', 'study_id', 'subject_id', 'split']):
        dicom_id, study_id = row['dicom_id'], _study_key(row['study_id'])
        subject_id = str(row['subject_id']).strip()
        if not (subject_id.isdigit() and len(subject_id) >= 2):
            raise ValueError(f'{split_path}:{number}: subject_id must be digits, '
                             f'got {row["subject_id"]!r}')
        split = SPLIT_MAP.get(row['split'].strip())
        if split is None:
            raise ValueError(f'{split_path}:{number}: unknown split {row["split"]!r}; '
                             f'expected one of {sorted(SPLIT_MAP)}')
        if dicom_id not in view_of:
            summary.skip('not in metadata', dicom_id)
            continue
        view = view_of[dicom_id]
        if view not in views:
            excluded_views[view or '(blank)'] = excluded_views.get(view or '(blank)', 0) + 1
            summary.skip('view not kept', f'{dicom_id} ({view or "blank"})')
            continue
        if sectioned is not None:
            report = sectioned.get(study_id)
            if report is None:
                summary.skip('study not in sectioned CSV', f's{study_id}')
                continue
        else:
            path = report_file(subject_id, study_id, source_path)
            if study_id not in file_reports:
                file_reports[study_id] = (read_report_file(path, with_headers)
                                          if osp.isfile(path) else None)
            report = file_reports[study_id]
            if report is None:
                summary.skip('report file missing', path)
                continue
        if not report:
            summary.skip('empty report (no findings or impression)', f's{study_id}')
            continue
        path = image_path(subject_id, study_id, dicom_id, image_dir, image_ext)
        if check_images and not osp.isfile(osp.join(root, path)):
            summary.skip('image file missing', path)
            continue
        out = dict(path=path, modality='2d', report=report, split=split,
                   subject_id=subject_id, study_id=study_id, dicom_id=dicom_id, view=view)
        if study_labels is not None:
            if study_id not in study_labels:
                without_labels += 1
            out['labels'] = study_labels.get(study_id, [])
        rows.append(out)
        summary.keep(split)
    if excluded_views:
        summary.notes['excluded views'] = dict(sorted(excluded_views.items()))
    if study_labels is not None:
        summary.notes['rows without a CheXpert row (labels [])'] = without_labels
    return rows, summary
