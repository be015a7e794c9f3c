"""``ImageReportDataset``: 2D and 3D image-report pairs listed in a JSONL or CSV manifest."""
from __future__ import annotations

import csv
import json
import os.path as osp
from typing import Any, Sequence

import numpy as np
from mmengine.logging import MMLogger

from unimedi.io.paths import resolve_path
from unimedi.io.text_files import open_text
from unimedi.registry import DATASETS
from unimedi.structures import MODALITIES, check_modality
from .base_dataset import MedBaseDataset


class ManifestError(ValueError):
    """A manifest row is invalid; the message names the file and the line."""


def read_manifest(path: str) -> list[tuple[int, dict]]:
    """Read a JSONL (one object a line) or CSV (header row) manifest.

    Returns:
        ``(line_number, row)`` pairs; blank lines are skipped.

    Raises:
        FileNotFoundError: ``path`` is missing.
        ManifestError: invalid JSON, a line that is not an object, a file that is not
            valid UTF-8 (names the line and the byte) or an unknown suffix.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: manifest not found')
    rows: list[tuple[int, dict]] = []
    if path.endswith(('.jsonl', '.json')):
        with open_text(path, error=ManifestError) as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ManifestError(f'{path}:{number}: invalid JSON ({exc.msg})') from exc
                if not isinstance(row, dict):
                    raise ManifestError(f'{path}:{number}: expected a JSON object per line')
                rows.append((number, row))
    elif path.endswith('.csv'):
        with open_text(path, newline='', error=ManifestError) as f:
            reader = csv.DictReader(f)
            start = 2
            for row in reader:
                # reader.line_num is the last physical line of the row: a quoted report
                # may span several lines, so report where the row starts
                rows.append((start, {k: v for k, v in row.items() if k is not None}))
                start = reader.line_num + 1
    else:
        raise ManifestError(f'{path}: manifest must be .jsonl or .csv')
    return rows


def _split_list(value: Any) -> list:
    """A list from a JSON list, or from a ``a|b`` / ``a;b`` string (CSV); ``[]`` for empty."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    text = str(value).strip()
    if not text:
        return []
    if text.startswith('['):
        try:
            return list(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f'invalid JSON list {text!r} ({exc.msg})') from exc
    separator = '|' if '|' in text else ';'
    return [part.strip() for part in text.split(separator) if part.strip()]


def _report_text_problem(report: Any) -> str | None:
    """Why a report string cannot be encoded as UTF-8 (so cannot be tokenized), or ``None``.

    JSON allows escapes of lone surrogates (``"\\ud800"``): ``json.loads`` returns them in
    the string, and the tokenizer fails on them with an opaque ``TypeError``.
    """
    if not isinstance(report, str):
        return None
    try:
        report.encode('utf-8')
    except UnicodeEncodeError as exc:
        return f'a lone surrogate {report[exc.start]!r} at character {exc.start + 1}'
    return None


@DATASETS.register_module()
class ImageReportDataset(MedBaseDataset):
    """Image-report pairs, 2D and 3D together, from a JSONL or CSV manifest.

    Manifest fields (one row per image):
        - ``path`` (or ``img_path``): image file or DICOM series folder, relative to
          ``data_root`` unless absolute. Required.
        - ``modality``: ``'2d'`` or ``'3d'``. Required.
        - ``report``: raw report text (sections are parsed by ``ParseReport``). Required
          when ``require_report``.
        - ``labels``: multi-label findings as class names (JSON list or ``a|b`` in CSV) or as
          a 0/1 vector over ``classes``; ``label``: one class name or index (multi-class).
        - ``mask``: label mask file (optional). ``lesion_slices``: slice indices (optional).
        - ``split``: e.g. ``train``/``val``/``test`` (used by the ``split`` argument).
        - any other field is kept in the sample (e.g. ``case_id``).

    Args:
        ann_file: the manifest, relative to ``data_root`` unless absolute.
        split: keep only rows whose ``split`` field equals this (``None`` keeps all).
        modalities: keep only these modalities.
        require_report: every row must carry a report.
        on_empty_report: ``'error'`` (raise naming the row) or ``'skip'`` (log and drop)
            for rows whose report is empty, or is not valid text (a JSON escape of a lone
            surrogate such as ``"\\ud800"``, which the tokenizer cannot take; checked
            whether or not ``require_report``).
        with_labels: read ``labels``/``label`` into ``gt_label``; ``False`` ignores them
            (e.g. retrieval on a manifest whose label names are not configured).
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``metainfo`` with
            ``classes``, ``data_root``, ``pipeline``, ``test_mode``...).
    """

    METAINFO = dict(classes=())

    def __init__(self, ann_file: str, split: str | None = None,
                 modalities: Sequence[str] = MODALITIES, require_report: bool = True,
                 on_empty_report: str = 'error', with_labels: bool = True, **kwargs):
        if on_empty_report not in ('error', 'skip'):
            raise ValueError(f"on_empty_report must be 'error' or 'skip', got {on_empty_report!r}")
        bad = set(modalities) - set(MODALITIES)
        if bad:
            raise ValueError(f'unknown modalities {sorted(bad)}; allowed {MODALITIES}')
        self.split = split
        self.modalities = tuple(modalities)
        self.require_report = require_report
        self.on_empty_report = on_empty_report
        self.with_labels = with_labels
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> list[dict]:
        classes = tuple(self.metainfo.get('classes') or ())
        data_list, skipped, invalid = [], [], []
        for number, row in read_manifest(self.ann_file):
            where = f'{self.ann_file}:{number}'
            if self.split is not None and row.get('split') != self.split:
                continue
            info = self._parse_row(row, where, classes)
            if info['modality'] not in self.modalities:
                continue
            problem = _report_text_problem(info.get('report'))
            if problem:
                if self.on_empty_report == 'skip':
                    invalid.append(where)
                    continue
                raise ManifestError(f'{where}: the report of {info["img_path"]} is not valid '
                                    f'text: {problem}')
            if self.require_report and not str(info.get('report') or '').strip():
                if self.on_empty_report == 'skip':
                    skipped.append(where)
                    continue
                raise ManifestError(f'{where}: empty report for {info["img_path"]}')
            data_list.append(info)
        if not data_list:
            raise ManifestError(
                f'{self.ann_file}: no rows left after filtering (split={self.split!r}, '
                f'modalities={self.modalities}); check the "split" and "modality" fields')
        self._warn_skipped(skipped, 'an empty report')
        self._warn_skipped(invalid, 'a report that is not valid text (a lone surrogate)')
        return data_list

    def _warn_skipped(self, rows: list[str], why: str) -> None:
        if rows:
            MMLogger.get_current_instance().warning(
                f'{self.ann_file}: skipped {len(rows)} rows with {why}: '
                + ', '.join(rows[:20]) + (' ...' if len(rows) > 20 else ''))

    def _parse_row(self, row: dict, where: str, classes: tuple) -> dict:
        path = row.get('path') or row.get('img_path')
        if not path:
            raise ManifestError(f'{where}: missing "path"; fields are {sorted(row)}')
        modality = check_modality(str(row.get('modality', '')).lower(), where=where,
                                  error=ManifestError)
        info = {k: v for k, v in row.items()
                if k not in ('path', 'labels', 'label', 'mask', 'lesion_slices')}
        info.update(img_path=resolve_path(self.data_root, str(path)), modality=modality)
        if row.get('mask'):
            info['seg_map_path'] = resolve_path(self.data_root, str(row['mask']))
        if row.get('lesion_slices') not in (None, ''):
            try:
                info['lesion_slices'] = [int(v) for v in _split_list(row['lesion_slices'])]
            except ValueError as exc:
                raise ManifestError(f'{where}: lesion_slices must be integers ({exc})') from exc
        if not self.with_labels:
            return info
        if 'labels' in row and (row['labels'] not in (None, '') or classes):
            # an empty labels cell is a case without findings: all zeros
            try:
                labels = _split_list(row['labels'])
            except ValueError as exc:
                raise ManifestError(f'{where}: labels: {exc}') from exc
            info['gt_label'] = self._multi_hot(labels, classes, where)
        elif row.get('label') not in (None, ''):
            info['gt_label'] = self._class_index(row['label'], classes, where)
        return info

    @staticmethod
    def _multi_hot(labels: list, classes: tuple, where: str) -> list[float]:
        if not classes:
            raise ManifestError(f'{where}: rows have labels but metainfo has no "classes"')
        if labels and all(str(v).strip() in ('0', '1', '0.0', '1.0') for v in labels) \
                and len(labels) == len(classes) and not set(map(str, labels)) & set(classes):
            return [float(v) for v in labels]
        unknown = [v for v in labels if v not in classes]
        if unknown:
            raise ManifestError(f'{where}: unknown labels {unknown}; classes are {list(classes)}')
        return [1.0 if name in labels else 0.0 for name in classes]

    @staticmethod
    def _class_index(label: Any, classes: tuple, where: str) -> int:
        if label in classes:
            return classes.index(label)
        try:
            index = int(label)
        except (TypeError, ValueError):
            raise ManifestError(f'{where}: unknown label {label!r}; classes are {list(classes)}')
        if classes and not 0 <= index < len(classes):
            raise ManifestError(f'{where}: label index {index} out of range for {len(classes)} '
                                'classes')
        return index


def finding_names(info: dict, classes) -> list[str]:
    """The finding names of a data info: its multi-hot ``gt_label`` (or class index) over
    ``classes``; ``[]`` without labels."""
    label = info.get('gt_label')
    if label is None or not classes:
        return []
    label = np.asarray(label)
    if label.ndim == 0:
        return [str(classes[int(label)])]
    return [str(classes[i]) for i in np.flatnonzero(label)]
