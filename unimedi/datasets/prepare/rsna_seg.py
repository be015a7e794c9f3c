"""RSNA Pneumonia as segmentation: the opacity boxes -> 0/1 mask PNGs, the same splits.

The classification split files of :func:`~unimedi.datasets.prepare.rsna_pneumonia.
split_rsna_pneumonia` (``patientId,Target,boxes``) define the samples, so the
segmentation train / val / test patients are the classification ones.
"""
from __future__ import annotations

import math
import os.path as osp
from typing import Sequence

import numpy as np

from unimedi.io.paths import require_annotation
from unimedi.io.readers import dicom_header
from unimedi.io.split_lists import write_split_list
from unimedi.io.tables import read_table
from unimedi.io.writers import write_mask_png
from ..rsna_pneumonia import parse_boxes, parse_target
from .summary import PrepareSummary

RSNA_SEG_CLASSES = ('background', 'pneumonia')
RSNA_SPLITS = ('train', 'val', 'test')


def boxes_to_mask(boxes: Sequence[Sequence[float]], shape: Sequence[int]) -> np.ndarray:
    """Fill ``[x, y, w, h]`` pixel boxes (x: column, y: row) into an ``(H, W)`` 0/1 mask.

    A box covers rows ``floor(y) .. ceil(y + h) - 1`` and columns ``floor(x) ..
    ceil(x + w) - 1`` (every pixel it touches), clipped to the image.

    Raises:
        ValueError: a box with a negative width or height.
    """
    height, width = (int(s) for s in shape)
    mask = np.zeros((height, width), dtype=np.uint8)
    for box in boxes:
        x, y, w, h = (float(v) for v in box)
        if w < 0 or h < 0:
            raise ValueError(f'box {list(box)} has a negative width or height')
        top, bottom = max(0, math.floor(y)), min(height, math.ceil(y + h))
        left, right = max(0, math.floor(x)), min(width, math.ceil(x + w))
        mask[top:bottom, left:right] = 1
    return mask


def prepare_rsna_seg(splits_dir: str, img_dir: str, out_dir: str,
                     splits: Sequence[str] = RSNA_SPLITS) -> PrepareSummary:
    """Write ``<out_dir>/masks/<patientId>.png`` and ``<out_dir>/splits/<split>.txt``.

    Each patient of ``<splits_dir>/<split>.csv`` gets a mask of its boxes
    (:func:`boxes_to_mask`) at its DICOM's Rows x Columns (header only); each split list
    holds ``<patientId>\\t<Target>``.

    Args:
        splits_dir: folder of the classification split CSVs
            (``tools/data/prepare_rsna_pneumonia.py``).
        img_dir: ``stage_2_train_images`` (``<patientId>.dcm``).
        out_dir: output folder (created).
        splits: the split names to convert.
    """
    report = PrepareSummary('RSNA Pneumonia (segmentation)', ('pneumonia', 'normal'))
    for split in splits:
        csv_path = osp.join(splits_dir, f'{split}.csv')
        require_annotation(csv_path)
        entries = []
        for number, row in read_table(csv_path, ('patientId', 'Target', 'boxes'),
                                      delimiter=','):
            where = f'{csv_path}:{number}'
            patient = (row['patientId'] or '').strip()
            target = parse_target(row['Target'], where)
            boxes = parse_boxes(row['boxes'], where)
            if bool(boxes) != bool(target):
                raise ValueError(f'{where}: Target {target} with {len(boxes)} boxes')
            dicom = osp.join(img_dir, f'{patient}.dcm')
            if not osp.isfile(dicom):
                raise FileNotFoundError(f'{where}: image file not found: {dicom}')
            header = dicom_header(dicom)
            mask = boxes_to_mask(boxes, (header['rows'], header['columns']))
            write_mask_png(osp.join(out_dir, 'masks', f'{patient}.png'), mask)
            entries.append((patient, target))
            report.keep(split, ['pneumonia' if target else 'normal'])
        if not entries:
            raise ValueError(f'{csv_path}: holds no rows')
        report.files[split] = osp.join(out_dir, 'splits', f'{split}.txt')
        write_split_list(report.files[split], entries)
    return report
