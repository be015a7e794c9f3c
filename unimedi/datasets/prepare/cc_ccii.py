"""CC-CCII: the raw tree of slice images -> one NIfTI volume per scan and ``cc_ccii.csv``
with patient-level splits, read by ``CCCIIDataset``."""
from __future__ import annotations

import os
import os.path as osp
import re
import sys
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from mmengine.logging import MMLogger

from unimedi.io.readers import MedicalImageError
from unimedi.io.tables import write_csv
from ..cc_ccii import CC_CCII_CLASSES
from ..splits import split_by_patient
from .summary import PrepareSummary

CSV_COLUMNS = ('path', 'label', 'patient_id', 'scan_id', 'split')
SLICE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
DEFAULT_FRACTIONS = {'train': 0.7, 'val': 0.1, 'test': 0.2}


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
                    progress: bool = True) -> PrepareSummary:
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
    report = PrepareSummary('CC-CCII', CC_CCII_CLASSES)
    scans = []
    for scan in find_cc_ccii_scans(root):
        if len(scan.slices) < min_slices:
            logger.warning(f'skipping scan {scan.folder}: {len(scan.slices)} slices < '
                           f'min_slices={min_slices}')
            report.skip(f'fewer than min_slices={min_slices} slices', scan.folder)
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
        report.keep(split, [scan.label])
    report.count_patients({scan.patient_id: split for scan, split in zip(scans, splits)})
    volumes = osp.join(out_dir, 'volumes')
    report.notes['wrote'] = (f'{csv_path} and {len(scans)} volumes under {volumes} '
                             f'(spacing {tuple(spacing)} mm assumed)')
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
