"""Shared pieces of the 2D segmentation datasets and their prepare tools.

Split lists (one sample a line, optionally with its stratification label), 0/1 mask PNGs,
image sizes read from DICOM headers, and the metainfo (classes, palette) mmseg's visualiser uses.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Iterable, Sequence

import numpy as np

from unimedi.utils.palette import make_palette


def seg_metainfo(classes: Sequence[str], palette: Sequence | None = None) -> dict:
    """``dict(classes, palette)`` for a dataset whose label ``i`` is ``classes[i]``.

    Raises:
        ValueError: fewer than two classes, or a palette of another length.
    """
    classes = tuple(classes)
    if len(classes) < 2:
        raise ValueError(f'a segmentation dataset needs at least 2 classes (background '
                         f'first), got {classes}')
    palette = [list(c) for c in palette] if palette is not None else make_palette(len(classes))
    if len(palette) != len(classes):
        raise ValueError(f'palette has {len(palette)} colours for {len(classes)} classes')
    return dict(classes=classes, palette=palette)


def read_split_list(path: str) -> list[tuple[str, int | None]]:
    """Read a split list: one sample a line, ``<stem>`` or ``<stem>\\t<label>``.

    ``stem`` is the image path relative to the image folder without its suffix; ``label``
    an integer used to stratify label fractions (e.g. 1 when the mask has foreground).
    Blank lines and lines starting with ``#`` are skipped.

    Raises:
        FileNotFoundError: ``path`` is missing.
        ValueError: a label is not an integer, or a stem repeats (names file and line).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: split list not found')
    entries: list[tuple[str, int | None]] = []
    seen: dict[str, int] = {}
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip('\r\n')
            if not line.strip() or line.startswith('#'):
                continue
            stem, _, label_text = line.partition('\t')
            stem = stem.strip()
            label = None
            if label_text.strip():
                try:
                    label = int(label_text.strip())
                except ValueError as exc:
                    raise ValueError(f'{path}:{number}: the label after the tab must be an '
                                     f'integer, got {label_text.strip()!r}') from exc
            if stem in seen:
                raise ValueError(f'{path}:{number}: {stem!r} is listed twice (first on line '
                                 f'{seen[stem]})')
            seen[stem] = number
            entries.append((stem, label))
    if not entries:
        raise ValueError(f'{path}: the split list is empty')
    return entries


def write_split_list(path: str, entries: Iterable[tuple[str, int | None]]) -> int:
    """Write ``<stem>\\t<label>`` lines (see :func:`read_split_list`); return the count."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    count = 0
    with open(path, 'w', encoding='utf-8') as f:
        for stem, label in entries:
            f.write(stem if label is None else f'{stem}\t{int(label)}')
            f.write('\n')
            count += 1
    return count


def write_mask_png(path: str, mask: np.ndarray) -> None:
    """Save an ``(H, W)`` label mask (values 0..255, e.g. 0/1) as an 8-bit grey PNG."""
    from PIL import Image

    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'{path}: a mask must be (H, W), got shape {mask.shape}')
    if mask.size and (mask.min() < 0 or mask.max() > 255):
        raise ValueError(f'{path}: mask labels must be in [0, 255]')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    Image.fromarray(mask.astype(np.uint8), mode='L').save(path)


def mask_has_foreground(path: str) -> int:
    """1 when the 2D mask file holds a non-zero label, else 0."""
    from unimedi.io.readers import read_medical_image

    return int(bool(np.any(read_medical_image(path, modality='2d', as_mask=True).array)))


def dicom_header(path: str) -> dict:
    """``rows``, ``columns`` and ``patient_id`` of a DICOM file, without its pixels.

    Raises:
        ValueError: unreadable file, or no Rows / Columns (names the file).
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError) as exc:
        raise ValueError(f'{path}: not a readable DICOM file ({exc})') from exc
    rows, columns = ds.get('Rows'), ds.get('Columns')
    if not rows or not columns:
        raise ValueError(f'{path}: the DICOM header has no Rows / Columns')
    return dict(rows=int(rows), columns=int(columns),
                patient_id=str(ds.get('PatientID', '') or ''))
