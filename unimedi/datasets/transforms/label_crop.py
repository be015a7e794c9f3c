"""``RandomCropByLabel``: foreground-aware random crops for segmentation training."""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from monai.transforms.utils import generate_pos_neg_label_crop_centers, map_binary_to_indices

from unimedi.registry import TRANSFORMS
from .spatial import _normalise_size, _translation_map, crop_or_pad, update_geometry


@TRANSFORMS.register_module()
class RandomCropByLabel(BaseTransform):
    """Crop ``size`` around a foreground voxel with odds ``pos : neg``, else a background one.

    MONAI's ``RandCropByPosNegLabel`` for unimedi samples (one crop per call): the
    centre is drawn by ``generate_pos_neg_label_crop_centers`` from the voxels of
    ``gt_seg`` (foreground: label > 0), then the window is moved inside the image; axes
    shorter than ``size`` are padded evenly. Image, mask and geometry (``affine``,
    ``spacing``, ``lesion_slices``, ``img_shape``) stay in step as in ``MedRandomCrop``. A
    mask without foreground (or without background) draws from the other set.

    Required keys: ``img``, ``gt_seg``. Modified keys: ``img``, ``gt_seg``, ``img_shape``,
    ``affine``, ``lesion_slices``.

    Args:
        size: crop size, ``(H, W)`` or ``(D, H, W)``; ``None`` keeps an axis.
        pos: weight of foreground centres.
        neg: weight of background centres.
        image_threshold: background centres only where the image's first channel is above
            this (e.g. inside the body); ``None``: anywhere.
        pad_value: image fill value where the crop passes the border.
        seg_pad_value: mask fill value there.
    """

    def __init__(self, size: int | Sequence[int | None], pos: float = 1.0, neg: float = 1.0,
                 image_threshold: float | None = None, pad_value: float = 0.0,
                 seg_pad_value: int = 0):
        if pos < 0 or neg < 0 or pos + neg == 0:
            raise ValueError(f'pos and neg must be >= 0 and not both 0, got {pos}, {neg}')
        self.size = size
        self.pos_ratio = pos / (pos + neg)
        self.image_threshold = image_threshold
        self.pad_value = pad_value
        self.seg_pad_value = seg_pad_value

    def _center(self, results: dict, size: Sequence[int]) -> list[int]:
        labels = np.asarray(results['gt_seg'])
        image = None
        if self.image_threshold is not None:
            image = np.asarray(results['img'])[:1]
        fg, bg = map_binary_to_indices(labels[None] > 0, image, self.image_threshold or 0.0)
        if len(fg) == 0 and len(bg) == 0:  # everything below the image threshold
            fg, bg = map_binary_to_indices(labels[None] > 0)
        with warnings.catch_warnings():  # MONAI warns for masks without foreground
            warnings.simplefilter('ignore')
            (center, ) = generate_pos_neg_label_crop_centers(
                size, 1, self.pos_ratio, labels.shape, fg, bg, allow_smaller=True)
        return [int(c) for c in center]

    def transform(self, results: dict) -> dict:
        if results.get('gt_seg') is None:
            raise KeyError(f'{results.get("img_path")}: RandomCropByLabel needs "gt_seg" (put '
                           'it after LoadMedicalMask)')
        shape = tuple(results['img'].shape[1:])
        size = _normalise_size(self.size, len(shape), 'size', shape)
        center = self._center(results, size)
        offsets = [int(np.clip(c - m // 2, 0, n - m)) if n >= m else (n - m) // 2
                   for c, n, m in zip(center, shape, size)]
        results['img'] = crop_or_pad(results['img'], offsets, size, self.pad_value)
        results['gt_seg'] = crop_or_pad(np.asarray(results['gt_seg']), offsets, size,
                                        self.seg_pad_value)
        update_geometry(results, _translation_map(offsets), size)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, pos_ratio={self.pos_ratio:.2f}, '
                f'image_threshold={self.image_threshold})')
