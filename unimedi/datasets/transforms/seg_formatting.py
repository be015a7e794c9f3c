"""Formatting for mmsegmentation: unimedi's 2D pipeline -> mmseg's ``SegDataSample``.

The 2D segmentation configs load with unimedi's transforms (DICOM, 16-bit PNG, the
pre-training intensities) and hand mmseg what its ``SegDataPreProcessor``,
``EncoderDecoder``, decode heads and ``IoUMetric`` expect, unchanged.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from unimedi.registry import TRANSFORMS
from .formatting import to_plain_tensor

#: ``flipped_axes`` of ``MedRandomFlip`` on a 2D image -> mmseg's ``flip_direction``
FLIP_DIRECTIONS = {(): None, (0, ): 'vertical', (1, ): 'horizontal'}


@TRANSFORMS.register_module()
class KeepOriginalMask(BaseTransform):
    """Keep the mask at the loaded size, for evaluation at the original image size.

    mmseg's ``EncoderDecoder`` resizes its predictions back to ``ori_shape`` and
    ``IoUMetric`` compares them with ``gt_sem_seg``, so validation and test samples need
    the mask as loaded (mmseg's own test pipelines load annotations after ``Resize`` for
    this reason). Put this transform after ``LoadMedicalMask`` (and ``RemapLabels``) and
    before the geometric transforms of a validation / test pipeline.

    Required keys: ``gt_seg`` (skipped when absent). Added keys: ``ori_gt_seg`` (a copy).
    """

    def transform(self, results: dict) -> dict:
        if results.get('gt_seg') is not None:
            results['ori_gt_seg'] = np.array(results['gt_seg'], copy=True)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


@TRANSFORMS.register_module()
class PackSegInputs2D(BaseTransform):
    """Pack a 2D sample as ``{'inputs': (C, H, W) float, 'data_samples': SegDataSample}``.

    Required keys:
        - ``img`` (np.ndarray | Tensor): ``(C, H, W)`` (``LoadMedicalImage(modality='2d')``
          and unimedi's ``MedResize`` / ``MedRandomFlip`` ...).
        - ``ori_shape`` (tuple): the loaded image's ``(H, W)``: predictions are resized
          back to it.

    Optional keys:
        - ``gt_seg`` (np.ndarray): ``(H, W)`` int labels at the input size (training), or
        - ``ori_gt_seg`` (np.ndarray): the mask at ``ori_shape`` (``KeepOriginalMask``),
          preferred when present (validation / test at the original size).
        - ``flipped_axes`` (list[int]): from ``MedRandomFlip``; axis 1 (W) becomes
          ``flip_direction='horizontal'``, axis 0 (H) ``'vertical'`` (one axis at most).
        - every key of ``meta_keys``.

    Added keys:
        - ``inputs`` (Tensor): the image, plain float32.
        - ``data_samples`` (SegDataSample): ``gt_sem_seg`` (``PixelData``, ``(1, H, W)``
          int64) and metainfo: ``img_shape`` (input size, for the decode head),
          ``ori_shape``, ``reduce_zero_label=False`` (label 0 is the background class,
          as in the datasets' ``classes``), ``flip``/``flip_direction`` and ``meta_keys``.

    Deleted keys: everything else.

    Args:
        meta_keys: keys copied into the sample's metainfo when present.
    """

    DEFAULT_META_KEYS = ('sample_idx', 'sample_id', 'img_path', 'seg_map_path', 'ori_shape',
                         'img_shape', 'spacing', 'img_unit')

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS):
        self.meta_keys = tuple(meta_keys)
        try:
            from mmseg.structures import SegDataSample
        except ImportError as exc:  # optional dependency: only the 2D segmentation needs it
            raise ImportError('PackSegInputs2D needs mmsegmentation: pip install '
                              '"mmsegmentation==1.2.2" ftfy regex') from exc
        self._sample_type = SegDataSample

    def _mask(self, results: dict, where: str):
        key = 'ori_gt_seg' if results.get('ori_gt_seg') is not None else 'gt_seg'
        seg = results.get(key)
        if seg is None:
            return None
        seg = np.asarray(seg)
        expected = tuple(results['ori_shape'] if key == 'ori_gt_seg' else
                         results['img'].shape[1:])
        if seg.shape != expected:
            raise ValueError(f'{where}: {key} has shape {seg.shape}, expected {expected} '
                             f'({"ori_shape" if key == "ori_gt_seg" else "the image"})')
        return to_plain_tensor(np.ascontiguousarray(seg, dtype=np.int64))[None]

    def transform(self, results: dict) -> dict:
        from mmengine.structures import PixelData

        where = results.get('img_path', '<sample>')
        if 'img' not in results:
            raise KeyError(f'PackSegInputs2D needs "img"; the sample has {sorted(results)}')
        inputs = to_plain_tensor(results['img']).float()
        if inputs.ndim != 3:
            raise ValueError(f'{where}: PackSegInputs2D packs 2D images (C, H, W), got shape '
                             f'{tuple(inputs.shape)}')
        results.setdefault('ori_shape', tuple(inputs.shape[1:]))
        results['img_shape'] = tuple(inputs.shape[1:])
        flipped = tuple(sorted(results.get('flipped_axes') or ()))
        if flipped not in FLIP_DIRECTIONS:
            raise ValueError(f'{where}: mmseg undoes one flip direction only; the image was '
                             f'flipped along axes {list(flipped)}')
        sample = self._sample_type()
        mask = self._mask(results, where)
        if mask is not None:
            sample.gt_sem_seg = PixelData(data=mask)
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.update(reduce_zero_label=False, flip=bool(flipped),
                    flip_direction=FLIP_DIRECTIONS[flipped])
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
