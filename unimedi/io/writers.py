"""Writers of labels: a 2D mask as PNG, a predicted label volume back onto the grid of the
file it came from."""
from __future__ import annotations

import os
import os.path as osp

import numpy as np

from .readers import NIFTI_SUFFIXES, read_medical_image


def strip_image_suffix(path: str) -> str:
    """The file or folder name of ``path`` without ``.nii.gz`` / ``.nii`` / ``.dcm`` / ..."""
    name = osp.basename(osp.normpath(str(path)))
    for suffix in NIFTI_SUFFIXES[::-1] + ('.dcm', '.png', '.jpg', '.jpeg'):
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def _reference_grid(reference_path: str):
    """``(shape_xyz, affine_xyz, header)`` of the file's own voxel grid; the RAS grid of
    our reader (and no header) for DICOM series."""
    import nibabel as nib

    if str(reference_path).lower().endswith(NIFTI_SUFFIXES):
        header = nib.load(reference_path).header
        return tuple(int(s) for s in header.get_data_shape()[:3]), header.get_best_affine(), \
            header
    image = read_medical_image(reference_path, modality='3d')
    shape_dhw = image.array.shape[1:]
    return tuple(shape_dhw[::-1]), image.affine[:, [2, 1, 0, 3]], None


def save_seg_nifti(labels: np.ndarray, affine: np.ndarray, reference_path: str,
                   out_path: str) -> str:
    """Write a label volume as NIfTI on the voxel grid of ``reference_path``.

    The labels live on the pipeline's grid (reoriented to RAS, maybe resampled or
    cropped), described by ``affine``; they are mapped onto the reference file's grid by
    nearest-neighbour resampling in world coordinates
    (``nibabel.processing.resample_from_to``, ``order=0``), so the output has the input
    file's shape, affine and orientation (qform/sform codes copied) and opens over the
    image in any viewer. Reference voxels outside the label grid get 0 (background).

    Args:
        labels: ``(D, H, W)`` integer labels.
        affine: ``(4, 4)`` voxel ``(d, h, w)`` -> RAS world of ``labels`` (the sample's
            ``affine`` meta).
        reference_path: the input image: a NIfTI file (its own grid), or a DICOM series
            folder (our reader's RAS grid of it).
        out_path: the ``.nii.gz`` file to write (folders are created).

    Returns:
        ``out_path``.
    """
    import nibabel as nib
    from nibabel.processing import resample_from_to

    labels = np.asarray(labels)
    affine = np.asarray(affine, dtype=np.float64)
    if labels.ndim != 3 or affine.shape != (4, 4):
        raise ValueError(f'{reference_path}: labels must be (D, H, W) with a (4, 4) affine, got '
                         f'{labels.shape} and {affine.shape}')
    if labels.size and (labels.min() < 0 or labels.max() > np.iinfo(np.int16).max):
        raise ValueError(f'{reference_path}: labels out of range {labels.min()}..{labels.max()}')
    dtype = np.uint8 if labels.max(initial=0) <= 255 else np.int16
    source = nib.Nifti1Image(np.transpose(labels, (2, 1, 0)).astype(dtype),
                             affine[:, [2, 1, 0, 3]])
    shape, ref_affine, header = _reference_grid(reference_path)
    moved = resample_from_to(source, (shape, ref_affine), order=0, mode='constant', cval=0)
    out = nib.Nifti1Image(np.asarray(moved.dataobj).astype(dtype), ref_affine)
    if header is not None:
        out.set_qform(header.get_qform(), code=int(header['qform_code']))
        out.set_sform(header.get_sform(), code=int(header['sform_code']))
        out.header.set_xyzt_units(*header.get_xyzt_units())
    out.set_data_dtype(dtype)
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    nib.save(out, out_path)
    return out_path


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
