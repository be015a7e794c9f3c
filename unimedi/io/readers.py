"""Readers of medical image files into arrays with spacing and orientation.

One job: turn a file (PNG/JPEG, DICOM, NIfTI) or a DICOM series folder into a
:class:`MedicalImage`. Every failure raises :class:`MedicalImageError` whose message names
the file and the problem. The registered loading transforms call these functions.

Array layouts:
    - 2D: ``(C, H, W)`` (C = 1 for radiographs).
    - 3D: ``(C, D, H, W)``. Volumes are reoriented to ``axcodes`` (default ``'RAS'``) and
      their axes stored in reverse order, as ITK/SimpleITK arrays: for RAS, D runs
      inferior -> superior (axial slices), H posterior -> anterior, W left -> right.
      ``affine`` maps ``(d, h, w, 1)`` voxel indices to RAS world millimetres.
"""
from __future__ import annotations

import os
import os.path as osp
import warnings
from dataclasses import dataclass, field

import numpy as np

from unimedi.structures import check_modality

IMAGE_2D_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
NIFTI_SUFFIXES = ('.nii', '.nii.gz')
DICOM_SUFFIXES = ('.dcm', '.dicom')


class MedicalImageError(ValueError):
    """A medical file could not be read; the message names the file and the problem."""

    def __init__(self, path: str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f'{path}: {problem}')


@dataclass
class MedicalImage:
    """An image array with its geometry.

    Attributes:
        array (np.ndarray): ``(C, H, W)`` or ``(C, D, H, W)``.
        spacing (tuple[float]): mm per voxel, one value per spatial axis (array order).
        affine (np.ndarray): ``(4, 4)`` voxel -> RAS world for 3D (``None`` for 2D).
        unit (str): ``'HU'`` for CT intensities, ``'unit'`` for radiographs scaled to
            [0, 1], ``'raw'`` otherwise (masks, unscaled files).
        meta (dict): extra facts (photometric interpretation, window used, series UID...).
    """

    array: np.ndarray
    spacing: tuple
    affine: np.ndarray | None = None
    unit: str = 'raw'
    meta: dict = field(default_factory=dict)

    @property
    def spatial_dims(self) -> int:
        return self.array.ndim - 1


def file_kind(path: str) -> str:
    """Classify ``path`` as ``'image2d'``, ``'dicom'``, ``'nifti'`` or ``'dicom_series'``."""
    if osp.isdir(path):
        return 'dicom_series'
    if not osp.exists(path):
        raise MedicalImageError(path, 'file or folder not found')
    lower = path.lower()
    if lower.endswith(NIFTI_SUFFIXES):
        return 'nifti'
    if lower.endswith(IMAGE_2D_SUFFIXES):
        return 'image2d'
    if lower.endswith(DICOM_SUFFIXES) or _is_dicom(path):
        return 'dicom'
    known = IMAGE_2D_SUFFIXES + NIFTI_SUFFIXES + DICOM_SUFFIXES
    raise MedicalImageError(
        path, f'unknown file type; expected one of {known}, '
        'a DICOM file or a folder holding one DICOM series')


def _is_dicom(path: str) -> bool:
    """Whether ``path`` has the DICOM preamble (``DICM`` at byte 128); files without one
    need a DICOM suffix. An unreadable file is not DICOM (its reader names the problem)."""
    from pydicom.misc import is_dicom

    try:
        return is_dicom(path)
    except OSError:
        return False


def _check_exists(path: str, folder: bool = False) -> None:
    if folder:
        if not osp.isdir(path):
            raise MedicalImageError(path, 'folder not found')
    elif not osp.isfile(path):
        raise MedicalImageError(path, 'file not found')


def _check_finite(path: str, array: np.ndarray) -> None:
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise MedicalImageError(path, f'{bad} voxels are NaN or infinite')


# ----------------------------------------------------------------------------- 2D files
def read_image_2d(path: str, scale: bool = True) -> MedicalImage:
    """Read a PNG/JPEG/BMP/TIFF radiograph (8 or 16 bit, grey or RGB; float TIFF).

    An image of more than ``PIL.Image.MAX_IMAGE_PIXELS`` pixels (PIL's guard against
    decompression bombs) is refused with :class:`MedicalImageError`, also in the range where
    PIL itself only warns (up to twice the limit), because Python shows a warning once per
    place and later large files would pass unnoticed. Raise the limit for trusted files
    (``PIL.Image.MAX_IMAGE_PIXELS = None`` disables it).

    Args:
        path: the image file.
        scale: divide by the bit depth's maximum (255 or 65535) to get [0, 1]; ``False``
            keeps raw values (masks).

    Returns:
        MedicalImage with ``array`` of shape ``(1, H, W)`` float32 and spacing ``(1, 1)``.

    Raises:
        MedicalImageError: unreadable, too large, not 2D, or NaN / infinite pixels.
    """
    from PIL import Image, UnidentifiedImageError

    _check_exists(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                mode = img.mode
                if mode in ('RGB', 'RGBA', 'P', 'LA', 'CMYK', 'YCbCr'):
                    img = img.convert('L')
                array = np.array(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MedicalImageError(
            path, f'the image is larger than PIL\'s limit Image.MAX_IMAGE_PIXELS = '
            f'{Image.MAX_IMAGE_PIXELS} pixels ({exc}); if the file is trusted, raise the limit '
            'before reading: PIL.Image.MAX_IMAGE_PIXELS = <more pixels> (None disables the '
            'check)') from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MedicalImageError(path, f'corrupt or unreadable image ({exc})') from exc
    if array.ndim != 2:
        raise MedicalImageError(path, f'expected a 2D image, got shape {array.shape}')
    _check_finite(path, array)
    depth_max = 255.0 if array.dtype == np.uint8 else 65535.0
    if array.dtype not in (np.uint8, np.uint16) and array.max(initial=0) > 65535:
        depth_max = float(array.max())
    array = array.astype(np.float32)
    unit = 'raw'
    if scale:
        array /= depth_max
        unit = 'unit'
    return MedicalImage(array[None], (1.0, 1.0), None, unit, dict(mode=mode))


def _dicom_dataset(path: str):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path)
    except InvalidDicomError as exc:
        raise MedicalImageError(path, f'not a valid DICOM file ({exc})') from exc
    except (OSError, EOFError, ValueError, KeyError) as exc:
        raise MedicalImageError(path, f'corrupt DICOM file ({exc})') from exc


def _dicom_pixels(path: str, ds) -> np.ndarray:
    from pydicom.pixels import apply_modality_lut

    if 'PixelData' not in ds:
        raise MedicalImageError(path, 'DICOM file holds no pixel data')
    try:
        raw = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for broken pixel data
        raise MedicalImageError(path, f'cannot decode DICOM pixel data ({exc})') from exc
    pixels = np.asarray(apply_modality_lut(raw, ds), dtype=np.float32)
    _check_finite(path, pixels)  # e.g. a NaN rescale slope
    return pixels


def _first(value) -> float:
    try:
        return float(value[0])
    except TypeError:
        return float(value)


def _apply_voi(path: str, pixels: np.ndarray, ds) -> tuple[np.ndarray, tuple | str] | None:
    """The file's window (preferred) or VOI LUT Sequence, by pydicom, mapped to [0, 1].

    A window's output range is pydicom's (the stored bits, rescaled: PS3.3 C.11.2); it is
    found by windowing the two extremes, so LINEAR, LINEAR_EXACT and SIGMOID all map to it.
    A VOI LUT's output is min-max scaled.

    Args:
        pixels (np.ndarray): ``(H, W)`` after the modality LUT.

    Returns:
        ``(H, W)`` float32 in [0, 1] and what was applied: ``(center, width)`` or
        ``'VOILUTSequence'``; ``None`` when the file has neither.
    """
    from pydicom.pixels import apply_voi_lut

    windowed = ds.get('WindowCenter') is not None and ds.get('WindowWidth') is not None
    if not windowed and not ds.get('VOILUTSequence'):
        return None
    if not windowed and np.array_equal(pixels, np.round(pixels)):
        pixels = pixels.astype(np.int64)  # a VOI LUT indexes by integer values
    try:
        values = np.asarray(apply_voi_lut(pixels, ds, prefer_lut=False), dtype=np.float64)
        if windowed:
            with np.errstate(over='ignore'):  # exp() of the extremes in SIGMOID
                low, high = apply_voi_lut(np.array([-1e300, 1e300]), ds, prefer_lut=False)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError,
            NotImplementedError) as exc:
        raise MedicalImageError(path, f'cannot apply the DICOM window / VOI LUT ({exc}); '
                                'read it with apply_window=False to ignore them') from exc
    if not windowed:
        low, high = float(values.min()), float(values.max())
    values = np.clip((values - low) / max(high - low, 1e-6), 0.0, 1.0)
    applied = (_first(ds.WindowCenter), _first(ds.WindowWidth)) if windowed else 'VOILUTSequence'
    return values.astype(np.float32), applied


def read_dicom_2d(path: str, apply_window: bool = True) -> MedicalImage:
    """Read a single-frame DICOM image.

    CT images (``Modality == 'CT'``) come out in Hounsfield units (rescale slope and
    intercept applied), ``unit='HU'``. Radiographs (CR, DX, ...) come out in [0, 1]:
    rescale applied, then, when ``apply_window``, the file's window (its VOI LUT Function:
    LINEAR, LINEAR_EXACT or SIGMOID) or else its VOI LUT Sequence, by pydicom's
    ``apply_voi_lut``; without either, min-max. MONOCHROME1 images are inverted so that
    bone is bright.

    Returns:
        MedicalImage with ``array`` ``(1, H, W)`` float32 and spacing ``(row, col)`` in mm.

    Raises:
        MedicalImageError: unreadable, multi-frame, NaN / infinite values, or a window
            pydicom refuses (e.g. a LINEAR width below 1).
    """
    _check_exists(path)
    ds = _dicom_dataset(path)
    frames = int(ds.get('NumberOfFrames', 1) or 1)
    if frames > 1:
        raise MedicalImageError(path, f'expected a single-frame 2D DICOM, got {frames} frames')
    array = _dicom_pixels(path, ds)
    if array.ndim != 2:
        raise MedicalImageError(path, f'expected a 2D grey image, got pixel shape {array.shape}')
    spacing = ds.get('PixelSpacing') or ds.get('ImagerPixelSpacing') or (1.0, 1.0)
    spacing = tuple(float(s) if float(s) > 0 else 1.0 for s in spacing)
    photometric = str(ds.get('PhotometricInterpretation', 'MONOCHROME2'))
    meta = dict(photometric=photometric, modality=str(ds.get('Modality', '')))
    if meta['modality'] == 'CT':
        return MedicalImage(array[None], spacing, None, 'HU', meta)

    voi = _apply_voi(path, array, ds) if apply_window else None
    if voi is not None:
        array, meta['window'] = voi
    else:
        low, high = float(array.min()), float(array.max())
        array = (array - low) / max(high - low, 1e-6)
    if photometric == 'MONOCHROME1':
        array = 1.0 - array
    return MedicalImage(array[None].astype(np.float32), spacing, None, 'unit', meta)


# ----------------------------------------------------------------------------- 3D files
def _to_dhw(path: str, data_xyz: np.ndarray, affine_xyz: np.ndarray, axcodes: str):
    """Reorient an ``(X, Y, Z)`` array to ``axcodes``; return ``(D, H, W)`` = reversed axes."""
    import nibabel.orientations as nio

    try:
        target = nio.axcodes2ornt(tuple(axcodes))
    except Exception as exc:
        raise ValueError(
            f'axcodes must be three letters of R/L, A/P, S/I, got {axcodes!r}') from exc
    current = nio.io_orientation(affine_xyz)
    transform = nio.ornt_transform(current, target)
    data = nio.apply_orientation(data_xyz, transform)
    affine = affine_xyz @ nio.inv_ornt_aff(transform, data_xyz.shape)
    data_dhw = np.ascontiguousarray(np.transpose(data, (2, 1, 0)))
    affine_dhw = affine[:, [2, 1, 0, 3]]
    spacing = tuple(float(v) for v in np.linalg.norm(affine_dhw[:3, :3], axis=0))
    return data_dhw, affine_dhw, spacing


def read_nifti(path: str, axcodes: str = 'RAS', as_mask: bool = False) -> MedicalImage:
    """Read a 3D NIfTI volume, reoriented to ``axcodes``.

    Returns:
        MedicalImage with ``array`` ``(1, D, H, W)`` (float32, or int64 for masks), spacing
        ``(D, H, W)`` in mm, ``affine`` for the ``(d, h, w)`` indices. CT intensities are kept
        as stored (``unit='HU'`` unless ``as_mask``).
    """
    import nibabel as nib

    _check_exists(path)
    try:
        img = nib.load(path)
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises ImageFileError, EOFError, zlib errors...
        raise MedicalImageError(path, f'corrupt or unreadable NIfTI ({exc})') from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise MedicalImageError(path, f'expected a 3D volume, got shape {data.shape}')
    _check_finite(path, data)  # before the cast: NaN masks would become huge integers
    data = data.astype(np.int64 if as_mask else np.float32)
    _check_finite(path, data)
    data, affine, spacing = _to_dhw(path, data, img.affine, axcodes)
    unit = 'raw' if as_mask else 'HU'
    return MedicalImage(data[None], spacing, affine, unit, dict(axcodes=axcodes))


def read_dicom_series(folder: str, axcodes: str = 'RAS') -> MedicalImage:
    """Read a folder holding one DICOM series (one file per slice) as a volume in HU.

    Slices are ordered by their position along the slice normal (``ImagePositionPatient``
    projected on the cross product of ``ImageOrientationPatient``), not by file name or
    instance number. The slice spacing is measured from the positions.

    Returns:
        MedicalImage with ``array`` ``(1, D, H, W)`` float32 in HU, reoriented to ``axcodes``.
    """
    _check_exists(folder, folder=True)
    files = sorted(f for f in os.listdir(folder) if not f.startswith('.'))
    files = [osp.join(folder, f) for f in files if osp.isfile(osp.join(folder, f))]
    if not files:
        raise MedicalImageError(folder, 'folder holds no files')
    slices = [(f, _dicom_dataset(f)) for f in files]
    series = {str(ds.get('SeriesInstanceUID', '')) for _, ds in slices}
    if len(series) > 1:
        raise MedicalImageError(folder, f'folder holds {len(series)} DICOM series; expected one')
    for f, ds in slices:
        for tag in ('ImagePositionPatient', 'ImageOrientationPatient', 'PixelSpacing'):
            if tag not in ds:
                raise MedicalImageError(f, f'missing {tag}; cannot place the slice in a volume')
    orientation = np.asarray(slices[0][1].ImageOrientationPatient, dtype=np.float64)
    row_dir, col_dir = orientation[:3], orientation[3:]
    normal = np.cross(row_dir, col_dir)
    positions = np.array([np.dot(np.asarray(ds.ImagePositionPatient, float), normal)
                          for _, ds in slices])
    order = np.argsort(positions)
    slices = [slices[i] for i in order]
    positions = positions[order]
    if len(slices) > 1:
        steps = np.diff(positions)
        if np.any(steps < 1e-4):
            raise MedicalImageError(folder, 'two slices share one position')
        if np.ptp(steps) > 0.05 * np.median(steps):
            warnings.warn(f'{folder}: slice spacing varies ({steps.min():.3f}-{steps.max():.3f} '
                          'mm); the median is used')
        slice_step = float(np.median(steps))
    else:
        slice_step = float(slices[0][1].get('SliceThickness', 1.0) or 1.0)
    arrays = []
    for f, ds in slices:
        pixels = _dicom_pixels(f, ds)
        if arrays and pixels.shape != arrays[0].shape:
            raise MedicalImageError(f, f'slice shape {pixels.shape} differs from {arrays[0].shape}')
        arrays.append(pixels)
    volume_krc = np.stack(arrays)  # (slice, row, col); each slice checked finite
    row_spacing, col_spacing = (float(v) for v in slices[0][1].PixelSpacing)
    origin = np.asarray(slices[0][1].ImagePositionPatient, dtype=np.float64)
    # Voxel (col, row, slice) -> LPS world, then LPS -> RAS by negating x and y.
    affine_lps = np.eye(4)
    affine_lps[:3, 0] = row_dir * col_spacing
    affine_lps[:3, 1] = col_dir * row_spacing
    affine_lps[:3, 2] = normal * slice_step
    affine_lps[:3, 3] = origin
    affine_ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine_lps
    data_xyz = np.transpose(volume_krc, (2, 1, 0))
    data, affine, spacing = _to_dhw(folder, data_xyz, affine_ras, axcodes)
    meta = dict(axcodes=axcodes, series_uid=series.pop(), num_slices=len(slices))
    return MedicalImage(data[None], spacing, affine, 'HU', meta)


def read_medical_image(path: str, modality: str | None = None, as_mask: bool = False,
                       axcodes: str = 'RAS', apply_window: bool = True) -> MedicalImage:
    """Read any supported file and check it has the dimensionality ``modality`` asks for.

    Args:
        path: PNG/JPEG/BMP/TIFF, DICOM file, NIfTI file or DICOM series folder.
        modality: ``'2d'``, ``'3d'`` or ``None`` (accept either).
        as_mask: read integer labels without any intensity processing.
        axcodes: orientation of 3D volumes.
        apply_window: for DICOM radiographs, use the file's window.
    """
    path = str(path)
    check_modality(modality, optional=True)
    kind = file_kind(path)
    if kind == 'image2d':
        image = read_image_2d(path, scale=not as_mask)
    elif kind == 'dicom':
        if as_mask:
            ds = _dicom_dataset(path)
            image = MedicalImage(_dicom_pixels(path, ds)[None], (1.0, 1.0))
        else:
            image = read_dicom_2d(path, apply_window=apply_window)
    elif kind == 'nifti':
        image = read_nifti(path, axcodes=axcodes, as_mask=as_mask)
    else:
        if as_mask:
            raise MedicalImageError(path, 'masks must be NIfTI or image files, not DICOM folders')
        image = read_dicom_series(path, axcodes=axcodes)
    expected = {'2d': 2, '3d': 3}.get(modality)
    if expected is not None and image.spatial_dims != expected:
        raise MedicalImageError(
            path, f'expected a {modality} image, got {image.spatial_dims}D data of shape '
            f'{image.array.shape[1:]}')
    if as_mask:
        image.array = image.array.astype(np.int64)
        image.unit = 'raw'
    return image


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
