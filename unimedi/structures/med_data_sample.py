"""``MedDataSample``: the data interface between unimedi's datasets, models and metrics."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmengine.structures import BaseDataElement

from .modality import check_modality


def _as_tensor(value, dtype: torch.dtype, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.to(dtype)
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value)).to(dtype)
    if isinstance(value, (Sequence, int, float, np.integer, np.floating)):
        return torch.as_tensor(value, dtype=dtype)
    raise TypeError(f'{name} must be a Tensor, ndarray, sequence or number, got {type(value)}')


class MedDataSample(BaseDataElement):
    """One 2D or 3D medical image with its report and annotations.

    Meta fields (set once, describe the sample):
        - ``modality`` (str): ``'2d'`` (X-ray, image ``(C, H, W)``) or ``'3d'``
          (CT volume ``(C, D, H, W)``).
        - ``report`` (str): the cleaned report text (findings + impression).
        - ``spacing`` (tuple[float]): voxel size in mm, ``(H, W)`` or ``(D, H, W)`` order.
        - ``img_path`` (str), ``sample_idx`` (int), ``ori_shape`` (tuple),
          ``img_shape`` (tuple), ``affine`` (ndarray 4x4, for 3D), ``classes`` (tuple[str]),
          and any other meta key the pipeline keeps.

    Data fields (tensors, may be absent):
        - ``gt_label`` (Tensor): ``(num_classes,)`` multi-hot float for multi-label tasks,
          or ``()`` long class index for multi-class tasks.
        - ``gt_seg`` (Tensor): integer mask, ``(H, W)`` or ``(D, H, W)``, aligned with the image.
        - ``lesion_slices`` (Tensor): ``(K,)`` long, indices along D of the slices that hold a
          lesion (3D only).
        - ``pred_score`` (Tensor): ``(num_classes,)`` predicted scores.
        - ``pred_label`` (Tensor): predicted label(s).
        - ``pred_seg`` (Tensor): predicted mask with the shape of ``gt_seg``.
        - ``selected_slices`` (Tensor): ``(k,)`` slice indices picked by a selector.
    """

    # ---- meta -----------------------------------------------------------------
    def set_modality(self, value: str) -> 'MedDataSample':
        """Set ``modality`` to ``'2d'`` or ``'3d'``."""
        self.set_metainfo(dict(modality=check_modality(value)))
        return self

    def set_report(self, value: str) -> 'MedDataSample':
        """Set ``report``, the cleaned report text."""
        if not isinstance(value, str):
            raise TypeError(f'report must be a str, got {type(value)}')
        self.set_metainfo(dict(report=value))
        return self

    def set_spacing(self, value: Sequence[float]) -> 'MedDataSample':
        """Set ``spacing`` in mm, one value per spatial axis."""
        self.set_metainfo(dict(spacing=tuple(float(v) for v in value)))
        return self

    # ---- data -----------------------------------------------------------------
    def set_gt_label(self, value) -> 'MedDataSample':
        """Set ``gt_label``: a multi-hot vector (float) or a class index (long)."""
        tensor = _as_tensor(value, torch.float32, 'gt_label')
        if tensor.ndim == 0:
            tensor = tensor.long()
        self.set_field(tensor, 'gt_label', dtype=torch.Tensor)
        return self

    def set_gt_seg(self, value) -> 'MedDataSample':
        """Set ``gt_seg``: an integer mask ``(H, W)`` or ``(D, H, W)``."""
        self.set_field(_as_tensor(value, torch.long, 'gt_seg'), 'gt_seg', dtype=torch.Tensor)
        return self

    def set_lesion_slices(self, value) -> 'MedDataSample':
        """Set ``lesion_slices``: slice indices along D that hold a lesion."""
        tensor = _as_tensor(value, torch.long, 'lesion_slices').reshape(-1)
        self.set_field(tensor, 'lesion_slices', dtype=torch.Tensor)
        return self

    def set_pred_score(self, value) -> 'MedDataSample':
        self.set_field(_as_tensor(value, torch.float32, 'pred_score'), 'pred_score',
                       dtype=torch.Tensor)
        return self

    def set_pred_label(self, value) -> 'MedDataSample':
        self.set_field(_as_tensor(value, torch.long, 'pred_label'), 'pred_label',
                       dtype=torch.Tensor)
        return self

    def set_pred_seg(self, value) -> 'MedDataSample':
        self.set_field(_as_tensor(value, torch.long, 'pred_seg'), 'pred_seg',
                       dtype=torch.Tensor)
        return self

    def set_selected_slices(self, value) -> 'MedDataSample':
        self.set_field(_as_tensor(value, torch.long, 'selected_slices').reshape(-1),
                       'selected_slices', dtype=torch.Tensor)
        return self
