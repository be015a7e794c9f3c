"""SIIM-ACR Pneumothorax Segmentation: Kaggle RLE -> 0/1 mask PNGs and split lists.

The images stay DICOM (the pipeline reads DICOM); :func:`prepare_siim` writes a mask PNG
beside each image's relative path and the split lists read by ``SegImageFolderDataset``.
"""
from __future__ import annotations

import csv
import os
import os.path as osp
from typing import Mapping, Sequence

import numpy as np

from unimedi.io.paths import require_annotation
from unimedi.io.readers import dicom_header
from unimedi.io.split_lists import write_split_list
from unimedi.io.writers import write_mask_png
from ..splits import split_by_patient
from .summary import PrepareSummary

SIIM_CLASSES = ('background', 'pneumothorax')
#: MGCA's SIIM protocol: a 70 / 15 / 15 split
SIIM_FRACTIONS = {'train': 0.7, 'val': 0.15, 'test': 0.15}
EMPTY_RLE = '-1'


def rle_decode(rle: str, shape: Sequence[int]) -> np.ndarray:
    """Decode one SIIM (Kaggle) run-length string into an ``(H, W)`` 0/1 mask.

    The string is pairs ``start length``; pixels are numbered column by column (down the
    first column, then the second...: ``mask.flatten(order='F')``), and each ``start`` is
    the offset from the end of the previous run (from pixel 0 for the first). ``'-1'`` (or
    blank) is an empty mask.

    Raises:
        ValueError: an odd number of values, a negative value, or a run past the image.
    """
    height, width = (int(s) for s in shape)
    flat = np.zeros(height * width, dtype=np.uint8)
    text = (rle or '').strip()
    if text in ('', EMPTY_RLE):
        return flat.reshape(width, height).T
    try:
        values = [int(v) for v in text.split()]
    except ValueError as exc:
        raise ValueError(f'RLE must hold integers, got {text[:40]!r}...') from exc
    if len(values) % 2 or min(values) < 0:
        raise ValueError(f'RLE must be non-negative "start length" pairs, got {len(values)} '
                         'values')
    position = 0
    for start, length in zip(values[0::2], values[1::2]):
        position += start
        if position + length > flat.size:
            raise ValueError(f'RLE run {position}+{length} is past the {height}x{width} image')
        flat[position:position + length] = 1
        position += length
    return flat.reshape(width, height).T


def rle_encode(mask: np.ndarray) -> str:
    """Encode an ``(H, W)`` mask (non-zero = foreground) as :func:`rle_decode` reads it;
    ``'-1'`` when empty."""
    flat = (np.asarray(mask) > 0).flatten(order='F').astype(np.int8)
    edges = np.diff(np.concatenate([[0], flat, [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not starts.size:
        return EMPTY_RLE
    previous_end = np.concatenate([[0], ends[:-1]])
    pairs = np.stack([starts - previous_end, ends - starts], axis=1).reshape(-1)
    return ' '.join(str(int(v)) for v in pairs)


def read_siim_rle(csv_path: str) -> dict[str, list[str]]:
    """``train-rle.csv`` (``ImageId, EncodedPixels``) -> ImageId -> its RLE strings.

    Header names are stripped (the official header is ``ImageId, EncodedPixels``). An
    image with several rows has several pneumothorax regions; ``'-1'`` rows add nothing.
    """
    require_annotation(csv_path)
    images: dict[str, list[str]] = {}
    with open(csv_path, encoding='utf-8', newline='') as f:
        reader = csv.reader(f)
        header = [name.strip() for name in next(reader, [])]
        if 'ImageId' not in header or 'EncodedPixels' not in header:
            raise ValueError(f'{csv_path}: needs columns ImageId and EncodedPixels; the header '
                             f'is {header}')
        id_col, rle_col = header.index('ImageId'), header.index('EncodedPixels')
        for number, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) <= max(id_col, rle_col):
                raise ValueError(f'{csv_path}:{number}: expected {len(header)} columns, got '
                                 f'{len(row)}')
            image_id = row[id_col].strip()
            if not image_id:
                raise ValueError(f'{csv_path}:{number}: empty ImageId')
            rle = row[rle_col].strip()
            runs = images.setdefault(image_id, [])
            if rle not in ('', EMPTY_RLE):
                runs.append(rle)
    if not images:
        raise ValueError(f'{csv_path}: holds no rows')
    return images


def find_dicoms(folder: str) -> dict[str, str]:
    """SOPInstanceUID (file stem) -> path of the ``.dcm`` relative to ``folder``, searched
    recursively (the Kaggle tree is ``<study>/<series>/<SOPInstanceUID>.dcm``)."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{folder}: DICOM folder not found')
    found: dict[str, str] = {}
    for current, folders, files in os.walk(folder):
        folders.sort()
        for name in sorted(files):
            if not name.lower().endswith('.dcm'):
                continue
            stem = name[:-4]
            relative = osp.relpath(osp.join(current, name), folder).replace(os.sep, '/')
            if stem in found:
                raise ValueError(f'{folder}: two DICOM files are named {name}: {found[stem]} '
                                 f'and {relative}')
            found[stem] = relative
    return found


def prepare_siim(rle_csv: str, dicom_dir: str, out_dir: str,
                 fractions: Mapping[str, float] = SIIM_FRACTIONS, seed: int = 0) -> PrepareSummary:
    """Write the 0/1 masks and ``train`` / ``val`` / ``test`` split lists of SIIM-ACR.

    For each ImageId of ``rle_csv`` found under ``dicom_dir`` (``<ImageId>.dcm`` anywhere):
    the union of its RLE rows, decoded at the DICOM's Rows x Columns, is written to
    ``<out_dir>/masks/<relative path>.png`` (0 background, 1 pneumothorax), mirroring the
    DICOM tree. Images are split by patient (DICOM PatientID; the ImageId when blank),
    stratified by "has pneumothorax", seeded (default 70 / 15 / 15, MGCA). Each split list
    ``<out_dir>/splits/<split>.txt`` holds ``<relative path without .dcm>\\t<0|1>``.

    ImageIds without a DICOM file are skipped and reported.

    Args:
        rle_csv: ``train-rle.csv``.
        dicom_dir: the DICOM tree (``dicom-images-train``).
        out_dir: output folder (created).
        fractions: split -> fraction of the patients; the first split takes the rest.
        seed: the split's seed.
    """
    rles = read_siim_rle(rle_csv)
    dicoms = find_dicoms(dicom_dir)
    report = PrepareSummary('SIIM-ACR Pneumothorax', ('pneumothorax', 'normal'))
    stems, patients, labels = [], [], []
    for image_id, runs in rles.items():
        relative = dicoms.get(image_id)
        if relative is None:
            report.skip(f'no <ImageId>.dcm under {dicom_dir}', image_id)
            continue
        header = dicom_header(osp.join(dicom_dir, relative))
        shape = (header['rows'], header['columns'])
        mask = np.zeros(shape, dtype=np.uint8)
        for rle in runs:
            try:
                mask |= rle_decode(rle, shape)
            except ValueError as exc:
                raise ValueError(f'{rle_csv}: ImageId {image_id}: {exc}') from exc
        stem = relative[:-len('.dcm')]
        write_mask_png(osp.join(out_dir, 'masks', stem + '.png'), mask)
        stems.append(stem)
        patients.append(header['patient_id'] or image_id)
        labels.append(int(mask.any()))
    if not stems:
        raise ValueError(f'{rle_csv}: none of its images is under {dicom_dir}')
    splits = split_by_patient(patients, labels, fractions, seed)
    for split in fractions:
        path = osp.join(out_dir, 'splits', f'{split}.txt')
        write_split_list(path, [(s, y) for s, y, p in zip(stems, labels, splits) if p == split])
        report.files[split] = path
    for label, split in zip(labels, splits):
        report.keep(split, ['pneumothorax' if label else 'normal'])
    report.count_patients(dict(zip(patients, splits)))
    return report
