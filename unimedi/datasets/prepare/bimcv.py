"""BIMCV-COVID19+ chest CTs with their session reports -> manifest rows.

The subject tree follows MIDS (BIDS-like): ``sub-S03047/ses-E06528/mod-ct/*.nii.gz`` holds
the CT volumes of one session (``mod-rx`` holds X-rays, which are not used). The reports
are one table row per session (a TSV such as ``sil_reports.tsv`` with a session id column
and the Spanish ``Report``), optionally with an English translation column
(``report_en``), which is what the text encoder should read.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

from unimedi.io.paths import resolve_path
from unimedi.io.reports import compose_report, split_sections
from unimedi.io.tables import check_columns, read_table, table_header
from ..splits import SUBJECT_FRACTIONS, subject_splits
from .summary import PrepareSummary

SESSION_COLUMNS = ('session_id', 'ReportID', 'session')
SPANISH_COLUMN = 'Report'
TRANSLATION_COLUMN = 'report_en'
DEFAULT_FRACTIONS = SUBJECT_FRACTIONS
CT_SUFFIXES = ('.nii.gz', '.nii')
_KEEP = ('findings', 'impression')


def session_key(value: str) -> str:
    """``'ses-E06528'`` and ``'E06528'`` both give ``'E06528'``."""
    value = str(value).strip()
    return value[4:] if value.startswith('ses-') else value


def find_ct_volumes(root: str, ct_folder: str = 'mod-ct',
                    suffixes: Sequence[str] = CT_SUFFIXES,
                    exclude_dirs: Sequence[str] = ('derivatives',)
                    ) -> list[tuple[str, str, str]]:
    """Find the CT volumes ``.../sub-*/ses-*/{ct_folder}/*.nii.gz`` anywhere under ``root``.

    Folders named in ``exclude_dirs`` (MIDS ``derivatives``: masks, labels) are not
    searched.

    Returns:
        sorted ``(subject, session, path relative to root)``, e.g.
        ``('sub-S03047', 'ses-E06528', 'sub-S03047/ses-E06528/mod-ct/x.nii.gz')``.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'{root}: BIMCV root folder not found')
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in exclude_dirs)
        if osp.basename(folder) != ct_folder:
            continue
        session_dir = osp.dirname(folder)
        session, subject = osp.basename(session_dir), osp.basename(osp.dirname(session_dir))
        if not (session.startswith('ses-') and subject.startswith('sub-')):
            continue
        for name in sorted(files):
            if name.endswith(tuple(suffixes)):
                found.append((subject, session, osp.relpath(osp.join(folder, name), root)))
    return sorted(found)


def _pick_session_column(path: str, header: list[str], session_column: str | None) -> str:
    if session_column is not None:
        check_columns(path, header, [session_column])
        return session_column
    for candidate in SESSION_COLUMNS:
        if candidate in header:
            return candidate
    raise ValueError(f'{path}: no session id column (looked for {list(SESSION_COLUMNS)}); '
                     f'columns are {header}; pass session_column')


def read_session_reports(path: str, report_column: str = TRANSLATION_COLUMN,
                         spanish_column: str = SPANISH_COLUMN, session_column: str | None = None,
                         fallback_to_spanish: bool = False) -> tuple[dict, dict]:
    """Read the session report table.

    Args:
        path: the TSV (``.tsv``/``.tsv.gz``; other names are read as CSV).
        report_column: the column to read (the English translation by default).
        spanish_column: the original Spanish report column.
        session_column: the session id column; ``None`` takes the first of
            ``SESSION_COLUMNS`` present.
        fallback_to_spanish: read ``spanish_column`` where ``report_column`` is absent
            from the table or empty in a row. Off by default: the model reads English.

    Returns:
        ``({session: (text, column)}, info)`` where ``session`` has no ``ses-`` prefix,
        ``column`` names the column the text came from and ``info`` counts
        ``duplicates`` (later rows of an already seen session, ignored) and
        ``spanish_fallbacks``.

    Raises:
        FileNotFoundError: the table is missing.
        ValueError: a needed column is missing (names the file and the column).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: report table not found')
    header = table_header(path)
    column = _pick_session_column(path, header, session_column)
    if report_column not in header and not fallback_to_spanish:
        raise ValueError(f'{path}: missing report column {report_column!r}; columns are '
                         f'{header}. Add the English translation column, choose another '
                         'with report_column, or allow fallback_to_spanish')
    if fallback_to_spanish:
        check_columns(path, header, [spanish_column])
    reports: dict[str, tuple[str, str]] = {}
    info = dict(duplicates=0, spanish_fallbacks=0)
    for _, row in read_table(path, [column]):
        key = session_key(row[column] or '')
        if not key:
            continue
        if key in reports:
            info['duplicates'] += 1
            continue
        text, source = (row.get(report_column) or '').strip(), report_column
        if not text and fallback_to_spanish and spanish_column != report_column:
            text, source = (row.get(spanish_column) or '').strip(), spanish_column
            info['spanish_fallbacks'] += 1
        reports[key] = (text, source)
    return reports, info


def build_bimcv_rows(root: str, reports_tsv: str, *, report_column: str = TRANSLATION_COLUMN,
                     spanish_column: str = SPANISH_COLUMN, session_column: str | None = None,
                     fallback_to_spanish: bool = False,
                     fractions: Sequence[float] = DEFAULT_FRACTIONS, seed: int = 0,
                     first_run_only: bool = False, ct_folder: str = 'mod-ct',
                     with_headers: bool = True) -> tuple[list[dict], PrepareSummary]:
    """Turn a BIMCV-COVID19+ root and its report table into 3D manifest rows.

    Args:
        root: the folder holding the ``sub-*`` subject folders (searched recursively).
        reports_tsv: the session report table, absolute or relative to ``root``.
        report_column, spanish_column, session_column, fallback_to_spanish: see
            :func:`read_session_reports`.
        fractions: train / val / test fractions of the subjects that have kept volumes.
        seed: seed of the subject shuffle.
        first_run_only: keep one volume (the first by name) per session.
        ct_folder: the modality folder of CTs.
        with_headers: report as ``FINDINGS: ...`` so ``ParseReport`` recovers sections.

    Returns:
        ``(rows, summary)``; rows hold ``path`` (relative to ``root``), ``modality``
        (``3d``), ``report``, ``split``, ``subject``, ``session`` and ``report_column``.
        The report keeps findings + impression as ``ParseReport`` does (a report without
        English section headers is kept whole); sessions whose report is then empty are
        skipped and counted.
    """
    table = resolve_path(root, reports_tsv)
    reports, info = read_session_reports(table, report_column, spanish_column, session_column,
                                         fallback_to_spanish)
    summary = PrepareSummary('BIMCV-COVID19+ CT', unit='rows')
    summary.notes['report table'] = table
    summary.notes['report column'] = report_column + (
        f' (falling back to {spanish_column})' if fallback_to_spanish else '')
    volumes = find_ct_volumes(root, ct_folder)
    if not volumes:
        raise FileNotFoundError(f'{root}: no CT volumes found (expected '
                                f'sub-*/ses-*/{ct_folder}/*.nii.gz)')
    kept, seen_sessions, composed = [], set(), {}
    for subject, session, path in volumes:
        key = session_key(session)
        if key not in reports:
            summary.skip('session not in report table', f'{subject}/{session}')
            continue
        if first_run_only and (subject, key) in seen_sessions:
            summary.skip('extra volume of a session (first_run_only)', path)
            continue
        seen_sessions.add((subject, key))
        if key not in composed:
            text, column = reports[key]
            composed[key] = (compose_report(split_sections(text), _KEEP,
                                            with_headers=with_headers), column)
        report, column = composed[key]
        if not report:
            summary.skip(f'empty report ({column})', f'{subject}/{session}')
            continue
        kept.append(dict(path=path, modality='3d', report=report, subject=subject,
                         session=session, report_column=column))
    splits = subject_splits((row['subject'] for row in kept), fractions, seed)
    rows = []
    for row in kept:
        split = splits[row['subject']]
        rows.append(dict(row, split=split))
        summary.keep(split)
    ct_sessions = {session_key(s) for _, s, _ in volumes}
    summary.notes['subjects'] = len(splits)
    summary.notes['split seed / fractions'] = f'{seed} / {tuple(fractions)}'
    summary.notes['report rows without a CT volume'] = len(set(reports) - ct_sessions)
    if info['duplicates']:
        summary.notes['duplicate session rows ignored'] = info['duplicates']
    if fallback_to_spanish:
        summary.notes['reports read from the Spanish column'] = sum(
            1 for row in rows if row['report_column'] == spanish_column)
    return rows, summary
