"""``CCCIIDataset``: CC-CCII chest CT scans (slice folders stacked into NIfTI volumes)."""
from __future__ import annotations

import os
import os.path as osp
import re
import sys
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from mmengine.logging import MMLogger

from unimedi.io.paths import resolve_path
from unimedi.io.readers import MedicalImageError
from unimedi.io.tables import read_table
from unimedi.registry import DATASETS
from .base_dataset import MedBaseDataset
from .downstream_common import SplitReport, require_annotation, require_file, write_csv
from .manifest_dataset import ManifestError
from .splits import split_by_patient

#: normal, common pneumonia, novel coronavirus pneumonia (label order)
CC_CCII_CLASSES = ('Normal', 'CP', 'NCP')
CSV_COLUMNS = ('path', 'label', 'patient_id', 'scan_id', 'split')
SLICE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
DEFAULT_FRACTIONS = {'train': 0.7, 'val': 0.1, 'test': 0.2}


@DATASETS.register_module()
class CCCIIDataset(MedBaseDataset):
    """CC-CCII chest CTs, multi-class Normal / CP / NCP, one NIfTI volume per scan.

    Layout (written by ``tools/data/prepare_cc_ccii.py``, see :func:`prepare_cc_ccii`)::

        data_root/
            cc_ccii.csv                      (path,label,patient_id,scan_id,split)
            volumes/NCP/<patient_id>/<scan_id>.nii.gz
            ...

    ``path`` is relative to ``data_root`` unless absolute; ``label`` is a class name.
    Volumes load as ``(1, D, H, W)`` with each ``(H, W)`` slice as in its source file.
    Their values are the slice files' grey levels 0-255 (CC-CCII is already windowed), not
    Hounsfield units, although ``LoadMedicalImage`` reports NIfTI as ``'HU'``: map them to
    [0, 1] with ``HUWindow(windows=[(127.5, 255)])``, not a lung window.

    Labels: ``gt_label`` is the index of ``label`` in ``metainfo['classes']`` (default
    ``('Normal', 'CP', 'NCP')``); an unknown label is an error naming the line.
    ``sample_id`` is the ``path``; samples also carry ``patient_id`` and ``scan_id``.

    Args:
        ann_file: the CSV, relative to ``data_root`` unless absolute.
        data_root: the prepared folder.
        split: keep only rows whose ``split`` column equals this (``None`` keeps all).
        check_files: raise (naming the line) when a volume is missing.
        **kwargs: :class:`MedBaseDataset` arguments (``pipeline``, ``data_fraction``...).
    """

    METAINFO = dict(classes=CC_CCII_CLASSES)

    def __init__(self, ann_file: str, data_root: str, split: str | None = None,
                 check_files: bool = True, **kwargs):
        self.split = split
        self.check_files = check_files
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> list[dict]:
        require_annotation(self.ann_file)
        classes = tuple(self.metainfo['classes'])
        required = ('path', 'label') + (('split', ) if self.split is not None else ())
        data_list = []
        for number, row in read_table(self.ann_file, required, delimiter=','):
            where = f'{self.ann_file}:{number}'
            if self.split is not None and row['split'] != self.split:
                continue
            label = (row['label'] or '').strip()
            if label not in classes:
                raise ManifestError(f'{where}: unknown label {label!r}; classes are '
                                    f'{list(classes)}')
            path = (row['path'] or '').strip()
            if not path:
                raise ManifestError(f'{where}: empty path')
            img_path = resolve_path(self.data_root, path)
            if self.check_files:
                require_file(img_path, where)
            data_list.append(dict(img_path=img_path, modality='3d',
                                  gt_label=classes.index(label), sample_id=path,
                                  patient_id=row.get('patient_id', ''),
                                  scan_id=row.get('scan_id', '')))
        if not data_list:
            raise ManifestError(f'{self.ann_file}: no rows left after filtering '
                                f'(split={self.split!r})')
        return data_list


# ----------------------------------------------------------------------------- preparation
@dataclass
class CCCIIScan:
    """One CT scan of the raw CC-CCII tree: its slice files in slice order."""

    label: str
    patient_id: str
    scan_id: str
    folder: str
    slices: list[str]

    @property
    def volume_path(self) -> str:
        """Where the volume goes, relative to the output folder."""
        return f'volumes/{self.label}/{self.patient_id}/{self.scan_id}.nii.gz'


def slice_number(path: str) -> int:
    """The last integer in a slice file's stem (``'IMG-0001-00012.png'`` -> 12)."""
    numbers = re.findall(r'\d+', osp.splitext(osp.basename(path))[0])
    if not numbers:
        raise ValueError(f'{path}: the slice file name holds no number to order slices by')
    return int(numbers[-1])


def _visible(folder: str) -> list[str]:
    return sorted(name for name in os.listdir(folder) if not name.startswith('.'))


def find_cc_ccii_scans(root: str, classes: Sequence[str] = CC_CCII_CLASSES
                       ) -> list[CCCIIScan]:
    """List the scans of ``<root>/<class>/<patient_id>/<scan_id>/<slice files>``.

    Slices are ordered by :func:`slice_number`. Hidden entries (``.``) are ignored; any
    other file where a folder is expected, or a non-image file in a scan folder, is an
    error naming it.
    """
    scans = []
    for label in classes:
        class_dir = osp.join(root, label)
        if not osp.isdir(class_dir):
            raise FileNotFoundError(f'{class_dir}: class folder not found (expected '
                                    f'{list(classes)} under {root})')
        for patient in _visible(class_dir):
            patient_dir = osp.join(class_dir, patient)
            if not osp.isdir(patient_dir):
                raise ValueError(f'{patient_dir}: expected a patient folder, found a file')
            for scan in _visible(patient_dir):
                scan_dir = osp.join(patient_dir, scan)
                if not osp.isdir(scan_dir):
                    raise ValueError(f'{scan_dir}: expected a scan folder of slices, '
                                     'found a file')
                scans.append(CCCIIScan(label, patient, scan, scan_dir, _scan_slices(scan_dir)))
    return scans


def _scan_slices(scan_dir: str) -> list[str]:
    slices = []
    for name in _visible(scan_dir):
        path = osp.join(scan_dir, name)
        if osp.isdir(path) or not name.lower().endswith(SLICE_SUFFIXES):
            raise ValueError(f'{path}: not an image slice (expected {SLICE_SUFFIXES}) in '
                             'a scan folder')
        slices.append(path)
    numbers = {}
    for path in slices:
        number = slice_number(path)
        if number in numbers:
            raise ValueError(f'{path}: slice number {number} also in {numbers[number]}')
        numbers[number] = path
    return [numbers[number] for number in sorted(numbers)]


def load_scan_volume(scan: CCCIIScan) -> np.ndarray:
    """Stack a scan's slices (8-bit grey) into a ``(W, H, D)`` uint8 array.

    NIfTI's first axis is x; with x = image column and y = image row, a reader that
    returns ``(D, H, W)`` (as :func:`~unimedi.io.readers.read_nifti` does for this
    diagonal affine) gives each slice back as stored in its file.
    """
    from PIL import Image, UnidentifiedImageError

    arrays = []
    for path in scan.slices:
        try:
            with Image.open(path) as img:
                array = np.asarray(img.convert('L'))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise MedicalImageError(path, f'corrupt or unreadable slice ({exc})') from exc
        if arrays and array.shape != arrays[0].shape:
            raise MedicalImageError(path, f'slice shape {array.shape} differs from '
                                    f'{arrays[0].shape} of {scan.slices[0]}')
        arrays.append(array)
    return np.ascontiguousarray(np.stack(arrays, axis=-1).transpose(1, 0, 2))


def write_scan_volume(task: tuple) -> str:
    """Write one scan as NIfTI; ``task = (scan, out_path, spacing)``. Returns the path."""
    import nibabel as nib

    scan, out_path, spacing = task
    os.makedirs(osp.dirname(out_path), exist_ok=True)
    image = nib.Nifti1Image(load_scan_volume(scan), np.diag([*map(float, spacing), 1.0]))
    image.header.set_xyzt_units('mm')
    nib.save(image, out_path)
    return out_path


def prepare_cc_ccii(root: str, out_dir: str, fractions: Mapping[str, float] = DEFAULT_FRACTIONS,
                    seed: int = 0, min_slices: int = 16,
                    spacing: Sequence[float] = (1.0, 1.0, 1.0), workers: int = 1,
                    progress: bool = True) -> SplitReport:
    """Convert a raw CC-CCII tree into NIfTI volumes and ``cc_ccii.csv`` with splits.

    Every scan with at least ``min_slices`` slices becomes
    ``<out_dir>/volumes/<class>/<patient_id>/<scan_id>.nii.gz``: slices sorted by
    :func:`slice_number`, stacked as described in :func:`load_scan_volume`, uint8. CC-CCII
    has no voxel spacing, so the affine is ``diag(*spacing, 1)`` (an assumption, not the
    scanner's geometry). Scans with fewer slices are skipped with a logged warning.
    Splits are drawn by patient (:func:`split_by_patient`), stratified by class, seeded.

    Args:
        root: the folder holding ``NCP/``, ``CP/`` and ``Normal/``.
        out_dir: the output folder (the dataset's ``data_root``).
        fractions: split -> fraction of patients; the first split takes the rest.
        seed: the split's seed.
        min_slices: skip scans with fewer slices.
        spacing: voxel size (x = column, y = row, z = slice) in mm written in the affine.
        workers: processes converting scans in parallel.
        progress: show a progress bar.
    """
    if len(spacing) != 3 or min(float(s) for s in spacing) <= 0:
        raise ValueError(f'spacing must be 3 positive numbers, got {spacing}')
    logger = MMLogger.get_current_instance()
    report = SplitReport('CC-CCII', CC_CCII_CLASSES)
    scans = []
    for scan in find_cc_ccii_scans(root):
        if len(scan.slices) < min_slices:
            message = f'{scan.folder}: {len(scan.slices)} slices < min_slices={min_slices}'
            logger.warning(f'skipping scan {message}')
            report.skipped.append(message)
        else:
            scans.append(scan)
    if not scans:
        raise ValueError(f'{root}: no scan with at least {min_slices} slices')
    splits = split_by_patient([scan.patient_id for scan in scans],
                              [CC_CCII_CLASSES.index(scan.label) for scan in scans],
                              fractions, seed)
    tasks = [(scan, osp.join(out_dir, scan.volume_path), tuple(spacing)) for scan in scans]
    _run(tasks, workers, progress)
    csv_path = osp.join(out_dir, 'cc_ccii.csv')
    write_csv(csv_path, CSV_COLUMNS, (
        dict(path=scan.volume_path, label=scan.label, patient_id=scan.patient_id,
             scan_id=scan.scan_id, split=split) for scan, split in zip(scans, splits)))
    for scan, split in zip(scans, splits):
        report.count(split, [scan.label])
    report.count_patients({scan.patient_id: split for scan, split in zip(scans, splits)})
    report.notes.append(f'wrote {csv_path} and {len(scans)} volumes under '
                        f'{osp.join(out_dir, "volumes")} (spacing {tuple(spacing)} mm assumed)')
    return report


def _run(tasks: list, workers: int, progress: bool) -> None:
    from mmengine.utils import track_iter_progress, track_parallel_progress

    if workers > 1:
        if progress:
            track_parallel_progress(write_scan_volume, tasks, workers, file=sys.stdout)
        else:
            from multiprocessing import Pool
            with Pool(workers) as pool:
                pool.map(write_scan_volume, tasks)
        return
    for task in (track_iter_progress(tasks, file=sys.stdout) if progress else tasks):
        write_scan_volume(task)
