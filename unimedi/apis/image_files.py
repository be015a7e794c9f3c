"""Find the images of a folder: image files, NIfTI volumes and DICOM series folders."""
from __future__ import annotations

import os
import os.path as osp
import warnings

from unimedi.io.readers import MedicalImageError, file_kind

# DICOM media directories index a study; they hold no pixels
_NOT_IMAGES = ('DICOMDIR', )


def _image_kind(path: str) -> str | None:
    """``'image2d'``, ``'nifti'``, ``'dicom'`` or ``None`` for a file that is no image."""
    if osp.basename(path).upper() in _NOT_IMAGES:
        return None
    try:
        return file_kind(path)
    except MedicalImageError:
        return None


def _series_uid(path: str) -> str:
    """The file's SeriesInstanceUID; a unique stand-in when the header cannot be read."""
    import pydicom

    try:
        header = pydicom.dcmread(path, stop_before_pixels=True,
                                 specific_tags=['SeriesInstanceUID'])
    except Exception:  # a broken file is its own entry; the loader reports why it fails
        return f'<unreadable {path}>'
    return str(header.get('SeriesInstanceUID', ''))


def _dicom_entries(folder: str, dicoms: list[str]) -> list[str]:
    """The folder when its DICOM files are the slices of one series, else the files."""
    if len(dicoms) < 2:
        return dicoms
    uids = [_series_uid(path) for path in dicoms]
    if len(set(uids)) == 1:
        return [folder]
    if len(set(uids)) == len(uids):  # unrelated single images, e.g. radiographs
        return dicoms
    warnings.warn(f'{folder}: holds {len(set(uids))} DICOM series, some of several files; '
                  'the series reader needs one series per folder, so it is listed as one '
                  'entry and will fail to load until the series are put in folders of their own')
    return [folder]


def _visit(folder: str, recursive: bool, found: list[str]) -> None:
    entries = sorted((e for e in os.scandir(folder) if not e.name.startswith('.')),
                     key=lambda e: e.name)
    dicoms, others = [], []
    for entry in entries:
        if entry.is_file():
            kind = _image_kind(entry.path)
            if kind == 'dicom':
                dicoms.append(entry.path)
            elif kind is not None:
                others.append(entry.path)
    found.extend(_dicom_entries(folder, dicoms))
    found.extend(others)
    if recursive:
        for entry in entries:
            if entry.is_dir():
                _visit(entry.path, recursive, found)


def list_image_files(folder: str | os.PathLike, recursive: bool = True) -> list[str]:
    """List the images under ``folder``, one entry per image the loader reads.

    - PNG/JPEG/BMP/TIFF files and NIfTI volumes (``.nii``, ``.nii.gz``): one entry each.
    - DICOM files (``.dcm``/``.dicom``, or any file with the DICOM preamble): a folder
      whose DICOM files (two or more) share one ``SeriesInstanceUID`` is one 3D series,
      listed as the folder; a single DICOM file, or files of different single-file series
      (e.g. radiographs side by side), are listed one by one (2D images).
    - Hidden files and folders, ``DICOMDIR`` indexes and other files are ignored.

    Args:
        folder: the folder to search; a DICOM series folder itself gives ``[folder]``.
        recursive: also search sub-folders.

    Returns:
        sorted paths (files and series folders).

    Raises:
        FileNotFoundError: ``folder`` is not a folder.
    """
    folder = os.fspath(folder)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{folder}: not a folder')
    found: list[str] = []
    _visit(folder, recursive, found)
    return sorted(found)
