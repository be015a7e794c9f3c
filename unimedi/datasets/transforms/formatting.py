"""Formatting: the pipeline's dict -> ``{'inputs': Tensor, 'data_samples': MedDataSample}``."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from unimedi.registry import TRANSFORMS
from unimedi.structures import MedDataSample


def to_plain_tensor(value) -> torch.Tensor:
    """A plain ``torch.Tensor`` from an ndarray, a Tensor or a MONAI MetaTensor."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, torch.Tensor):
        return value.as_tensor() if hasattr(value, 'as_tensor') else value
    raise TypeError(f'expected an ndarray or Tensor, got {type(value)}')


@TRANSFORMS.register_module()
class PackMedInputs(BaseTransform):
    """Pack a sample for the model.

    Required keys:
        - ``img`` (np.ndarray | Tensor): ``(C, H, W)`` or ``(C, D, H, W)``.
        - ``modality`` (str): ``'2d'`` or ``'3d'`` (must match ``img``).

    Optional keys: ``report``, ``gt_label``, ``gt_seg``, ``lesion_slices`` and every key
    in ``meta_keys``.

    Deleted keys: everything else (paths of masks, raw sections, intermediate arrays).

    Added keys:
        - ``inputs`` (Tensor): the image as a plain float32 tensor (MetaTensor stripped).
        - ``data_samples`` (MedDataSample): modality, report, spacing and meta keys as
          metainfo; ``gt_label``, ``gt_seg``, ``lesion_slices`` as data fields.

    Args:
        meta_keys: keys copied into the sample's metainfo when present.
    """

    DEFAULT_META_KEYS = ('sample_idx', 'img_path', 'seg_map_path', 'report_id', 'spacing',
                         'ori_shape', 'img_shape', 'affine', 'img_unit', 'flipped_axes',
                         'dataset_name')

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError(f'PackMedInputs needs "img"; the sample has {sorted(results)}')
        inputs = to_plain_tensor(results['img']).float()
        modality = results.get('modality')
        expected_ndim = {'2d': 3, '3d': 4}.get(modality)
        if expected_ndim is None:
            raise ValueError(f'{results.get("img_path")}: modality must be "2d" or "3d", '
                             f'got {modality!r}')
        if inputs.ndim != expected_ndim:
            raise ValueError(f'{results.get("img_path")}: a {modality} image must have '
                             f'{expected_ndim} dims (C, ...), got shape {tuple(inputs.shape)}')
        sample = MedDataSample().set_modality(modality)
        if results.get('report') is not None:
            sample.set_report(results['report'])
        sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        if results.get('gt_label') is not None:
            sample.set_gt_label(results['gt_label'])
        if results.get('gt_seg') is not None:
            sample.set_gt_seg(results['gt_seg'])
        if results.get('lesion_slices') is not None:
            sample.set_lesion_slices(results['lesion_slices'])
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
