"""Spatial transforms for 2D ``(C, H, W)`` and 3D ``(C, D, H, W)`` samples.

Every transform moves the image, its mask (``gt_seg``) and its geometry together:
``spacing``, ``affine`` (voxel -> world, 3D) and ``lesion_slices`` (indices along D), so a
mask stays voxel-aligned with its image and a lesion slice list stays true after any chain
of transforms. Each transform describes itself by an *index map*: the homogeneous matrix
that takes an output voxel index to the input voxel index it samples. Masks are resampled
with ``nearest-exact``, which picks the input voxel ``round_half_up(index_map @ i)``; lesion
slices follow the same rule (one float64 computation, :func:`_source_indices`, for both), so
they match the mask exactly.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from monai.transforms import Resize as MonaiResize

from unimedi.registry import TRANSFORMS


def _spatial_shape(results: dict) -> tuple[int, ...]:
    return tuple(results['img'].shape[1:])


def _normalise_size(size: int | Sequence[int | None], ndim: int, name: str,
                    current: Sequence[int]) -> tuple[int, ...]:
    """An int or one entry per axis (``None``/-1 keeps that axis) -> a full size tuple."""
    if isinstance(size, int):
        size = (size, ) * ndim
    if len(size) != ndim:
        raise ValueError(f'{name} needs {ndim} values for a {ndim}D image, got {tuple(size)}')
    out = tuple(int(c) if s in (None, -1) else int(s) for s, c in zip(size, current))
    if any(s <= 0 for s in out):
        raise ValueError(f'{name} must be positive, got {tuple(size)}')
    return out


def crop_or_pad(array: np.ndarray, offsets: Sequence[int], size: Sequence[int],
                value: float = 0) -> np.ndarray:
    """Take the window ``[offset, offset + size)`` of the trailing spatial axes.

    Negative offsets or windows past the end are filled with ``value`` (padding).

    Args:
        array: ``(..., *spatial)``.
        offsets: start of the window along each spatial axis (may be negative).
        size: output spatial size.
    """
    ndim = len(size)
    spatial = array.shape[-ndim:]
    out = np.full(array.shape[:-ndim] + tuple(size), value, dtype=array.dtype)
    src, dst = [], []
    for offset, n, m in zip(offsets, spatial, size):
        start, stop = max(offset, 0), min(offset + m, n)
        stop = max(stop, start)
        src.append(slice(start, stop))
        dst.append(slice(start - offset, stop - offset))
    out[(Ellipsis, *dst)] = array[(Ellipsis, *src)]
    return out


def _source_indices(index_map: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Input index that each output index along ``axis`` samples (nearest, round half up)."""
    ndim = index_map.shape[0] - 1
    return np.floor(index_map[axis, axis] * np.arange(size) + index_map[axis, ndim] +
                    0.5).astype(np.int64)


def update_geometry(results: dict, index_map: np.ndarray, new_shape: Sequence[int]) -> None:
    """Update ``spacing``, ``affine``, ``lesion_slices`` and ``img_shape`` for an index map.

    Args:
        results: the sample.
        index_map: ``(ndim + 1, ndim + 1)`` homogeneous map output index -> input index
            (axis-aligned: scaling, flips and translations only).
        new_shape: the output spatial shape.
    """
    ndim = len(new_shape)
    if results.get('spacing') is not None:
        results['spacing'] = tuple(
            float(s) * abs(float(index_map[i, i])) for i, s in enumerate(results['spacing']))
    if ndim == 3 and results.get('affine') is not None:
        results['affine'] = np.asarray(results['affine'], dtype=np.float64) @ index_map
    if ndim == 3 and results.get('lesion_slices') is not None:
        old = _source_indices(index_map, 0, new_shape[0])
        keep = np.isin(old, np.asarray(results['lesion_slices'], np.int64))
        results['lesion_slices'] = np.flatnonzero(keep).tolist()
    results['img_shape'] = tuple(int(s) for s in new_shape)


def _translation_map(offsets: Sequence[int]) -> np.ndarray:
    index_map = np.eye(len(offsets) + 1)
    index_map[:-1, -1] = offsets
    return index_map


class _CropOrPadBase(BaseTransform):
    """Crop or pad to ``size`` with per-axis offsets chosen by :meth:`_offsets`."""

    def __init__(self, size: int | Sequence[int | None], pad_value: float = 0.0,
                 seg_pad_value: int = 0):
        self.size = size
        self.pad_value = pad_value
        self.seg_pad_value = seg_pad_value

    def _offsets(self, shape: Sequence[int], size: Sequence[int]) -> list[int]:
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        shape = _spatial_shape(results)
        size = _normalise_size(self.size, len(shape), 'size', shape)
        offsets = self._offsets(shape, size)
        results['img'] = crop_or_pad(results['img'], offsets, size, self.pad_value)
        if results.get('gt_seg') is not None:
            results['gt_seg'] = crop_or_pad(results['gt_seg'], offsets, size, self.seg_pad_value)
        update_geometry(results, _translation_map(offsets), size)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size={self.size}, pad_value={self.pad_value})'


@TRANSFORMS.register_module()
class CenterCropOrPad(_CropOrPadBase):
    """Crop (centred) or pad (evenly) every spatial axis to ``size``.

    Required keys: ``img``. Modified keys: ``img``, ``gt_seg``, ``img_shape``, ``affine``,
    ``lesion_slices``.

    Args:
        size: output spatial size, ``(H, W)`` or ``(D, H, W)``; ``None`` keeps an axis.
        pad_value: image fill value (use the windowed minimum, e.g. 0 after ``HUWindow``).
        seg_pad_value: mask fill value.
    """

    def _offsets(self, shape, size):
        return [(n - m) // 2 for n, m in zip(shape, size)]


@TRANSFORMS.register_module()
class MedRandomCrop(_CropOrPadBase):
    """Crop a random window of ``size``; axes shorter than ``size`` are padded evenly.

    Required keys: ``img``. Modified keys: as :class:`CenterCropOrPad`.
    """

    def _offsets(self, shape, size):
        return [int(np.random.randint(0, n - m + 1)) if n > m else (n - m) // 2
                for n, m in zip(shape, size)]


@TRANSFORMS.register_module()
class MedRandomFlip(BaseTransform):
    """Flip along each of ``axes`` with probability ``prob`` (independently).

    Required keys: ``img``. Modified keys: ``img``, ``gt_seg``, ``affine``,
    ``lesion_slices``. Added keys: ``flipped_axes`` (list[int]).

    Args:
        prob: probability of flipping each axis.
        axes: spatial axes (0 = D for 3D, H for 2D; -1 = W). Default: W only (left-right).
    """

    def __init__(self, prob: float = 0.5, axes: Sequence[int] = (-1, )):
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob
        self.axes = tuple(axes)

    def transform(self, results: dict) -> dict:
        shape = _spatial_shape(results)
        ndim = len(shape)
        axes = sorted({a % ndim for a in self.axes})
        flipped = [a for a in axes if np.random.rand() < self.prob]
        index_map = np.eye(ndim + 1)
        for axis in flipped:
            results['img'] = np.flip(results['img'], axis=axis + 1)
            if results.get('gt_seg') is not None:
                results['gt_seg'] = np.flip(results['gt_seg'], axis=axis)
            index_map[axis, axis] = -1.0
            index_map[axis, ndim] = shape[axis] - 1
        results['img'] = np.ascontiguousarray(results['img'])
        if results.get('gt_seg') is not None:
            results['gt_seg'] = np.ascontiguousarray(results['gt_seg'])
        update_geometry(results, index_map, shape)
        results['flipped_axes'] = flipped
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob}, axes={self.axes})'


def _resize_sample(results: dict, size: Sequence[int], anti_aliasing: bool,
                   image_mode: str = 'linear') -> dict:
    """Resize image (linear or area), mask (nearest-exact) and geometry to ``size``."""
    if image_mode not in ('linear', 'area'):
        raise ValueError(f"image_mode must be 'linear' or 'area', got {image_mode!r}")
    shape = _spatial_shape(results)
    ndim = len(shape)
    if tuple(size) == tuple(shape):
        return results
    mode = 'area' if image_mode == 'area' else ('bilinear' if ndim == 2 else 'trilinear')
    anti_aliasing = anti_aliasing and image_mode == 'linear'
    image = MonaiResize(size, mode=mode, anti_aliasing=anti_aliasing)(
        torch.as_tensor(np.ascontiguousarray(results['img'])))
    results['img'] = np.asarray(torch.as_tensor(image), dtype=np.float32)
    scale = np.array(shape, dtype=np.float64) / np.array(size, dtype=np.float64)
    index_map = np.eye(ndim + 1)
    index_map[:ndim, :ndim] = np.diag(scale)
    index_map[:ndim, ndim] = 0.5 * scale - 0.5  # half-voxel centres (align_corners=False)
    if results.get('gt_seg') is not None:
        # nearest-exact by indexing, with the very numbers update_geometry uses for
        # lesion_slices (torch's float32 version rounds ties, e.g. at 1.5x, differently)
        sources = [np.clip(_source_indices(index_map, a, size[a]), 0, shape[a] - 1)
                   for a in range(ndim)]
        results['gt_seg'] = np.ascontiguousarray(
            np.asarray(results['gt_seg'])[np.ix_(*sources)], dtype=np.int64)
    update_geometry(results, index_map, size)
    return results


@TRANSFORMS.register_module()
class MedResize(BaseTransform):
    """Resize to a fixed spatial size (image: (bi/tri)linear, mask: nearest-exact).

    Required keys: ``img``. Modified keys: ``img``, ``gt_seg``, ``img_shape``, ``spacing``,
    ``affine``, ``lesion_slices``.

    Args:
        size: ``(H, W)`` or ``(D, H, W)``; an int for every axis; ``None`` keeps an axis.
        anti_aliasing: Gaussian smoothing before downsampling the image (linear mode).
        image_mode: ``'linear'`` ((bi/tri)linear) or ``'area'`` (box averaging: fast,
            alias-free downsampling by integer factors).
    """

    def __init__(self, size: int | Sequence[int | None], anti_aliasing: bool = True,
                 image_mode: str = 'linear'):
        if image_mode not in ('linear', 'area'):
            raise ValueError(f"image_mode must be 'linear' or 'area', got {image_mode!r}")
        self.size = size
        self.anti_aliasing = anti_aliasing
        self.image_mode = image_mode

    def transform(self, results: dict) -> dict:
        shape = _spatial_shape(results)
        return _resize_sample(results, _normalise_size(self.size, len(shape), 'size', shape),
                              self.anti_aliasing, self.image_mode)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size={self.size})'


@TRANSFORMS.register_module()
class Resample(BaseTransform):
    """Resample to a target voxel spacing in mm (image linear, mask nearest-exact).

    Required keys: ``img``, ``spacing``. Modified keys: as :class:`MedResize`.

    Args:
        spacing: target mm per voxel, ``(H, W)`` or ``(D, H, W)``; ``None`` keeps an axis.
        anti_aliasing: Gaussian smoothing before downsampling the image.
    """

    def __init__(self, spacing: float | Sequence[float | None], anti_aliasing: bool = True):
        self.spacing = spacing
        self.anti_aliasing = anti_aliasing

    def transform(self, results: dict) -> dict:
        shape = _spatial_shape(results)
        target = self.spacing
        if isinstance(target, (int, float)):
            target = (float(target), ) * len(shape)
        if len(target) != len(shape):
            raise ValueError(f'spacing needs {len(shape)} values for {results.get("img_path")}, '
                             f'got {tuple(target)}')
        current = results.get('spacing')
        if current is None:
            raise KeyError(f'{results.get("img_path")}: Resample needs the voxel "spacing" '
                           '(load the image with LoadMedicalImage first)')
        size = tuple(n if t is None else max(1, int(round(n * c / float(t))))
                     for n, c, t in zip(shape, current, target))
        return _resize_sample(results, size, self.anti_aliasing)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(spacing={self.spacing})'
