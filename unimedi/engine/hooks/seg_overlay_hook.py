"""``SaveSegOverlaysHook``: PNG overlays of ground truth and prediction at test time."""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook

from unimedi.registry import HOOKS
from unimedi.utils.palette import label_colour


def _labels(sample, name: str) -> torch.Tensor | None:
    """``pred_seg``/``gt_seg`` of a ``MedDataSample`` or ``pred_sem_seg``/``gt_sem_seg``
    of mmseg's ``SegDataSample`` (``PixelData`` ``(1, H, W)``), as a CPU label tensor."""
    value = sample.get(f'{name}_seg')
    if value is None:
        value = sample.get(f'{name}_sem_seg')
        value = None if value is None else value.data[0]
    return None if value is None else torch.as_tensor(value).detach().long().cpu()


def to_grey(image: torch.Tensor, shape: Sequence[int]) -> np.ndarray:
    """An input image ``(C, *spatial)`` as uint8 grey of ``shape`` (channel mean, 1-99 %
    percentile stretch, resized (bi/tri)linearly when it differs from ``shape``)."""
    image = torch.as_tensor(image).detach().float().cpu().mean(dim=0)
    if tuple(image.shape) != tuple(shape):
        mode = 'bilinear' if image.ndim == 2 else 'trilinear'
        image = F.interpolate(image[None, None], size=tuple(shape), mode=mode,
                              align_corners=False)[0, 0]
    array = image.numpy()
    low, high = np.percentile(array, (1, 99)) if array.size else (0.0, 1.0)
    scaled = np.clip((array - low) / max(high - low, 1e-6), 0, 1)
    return (scaled * 255).astype(np.uint8)


def overlay(grey: np.ndarray, labels: np.ndarray | None, alpha: float) -> np.ndarray:
    """RGB ``(H, W, 3)``: ``grey`` with each label as a translucent fill and a solid outline."""
    rgb = np.repeat(grey[..., None], 3, axis=2).astype(np.float32)
    if labels is None:
        return rgb.astype(np.uint8)
    colours = np.zeros((int(labels.max(initial=0)) + 1, 3), np.float32)
    for label in range(1, len(colours)):
        colours[label] = label_colour(label)
    inside = labels > 0
    rgb[inside] = (1 - alpha) * rgb[inside] + alpha * colours[labels[inside]]
    padded = np.pad(labels, 1, mode='edge')
    edge = np.zeros_like(inside)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        edge |= padded[dy:dy + labels.shape[0], dx:dx + labels.shape[1]] != labels
    edge &= inside
    rgb[edge] = colours[labels[edge]]
    return rgb.astype(np.uint8)


def top_slices(masks: Sequence[np.ndarray], count: int) -> list[int]:
    """The ``count`` indices along axis 0 with the most foreground in any of ``masks``
    (sorted); the middle ones when there is none."""
    depth = masks[0].shape[0]
    foreground = sum((m > 0).reshape(depth, -1).sum(axis=1) for m in masks)
    count = min(count, depth)
    if foreground.max(initial=0) == 0:
        start = (depth - count) // 2
        return list(range(start, start + count))
    return sorted(np.argsort(-foreground, kind='stable')[:count].tolist())


@HOOKS.register_module()
class SaveSegOverlaysHook(Hook):
    """Write overlay PNGs of every test sample: ground truth | prediction, side by side.

    The image is grey (its 1-99 % range), labels are coloured fills with outlines
    (``unimedi.utils.palette``). 3D samples (``MedDataSample``: ``gt_seg``/``pred_seg``
    ``(D, H, W)``) give one mosaic per volume, one row per axial slice: the
    ``num_slices`` slices with the most foreground (ground truth or prediction), shown
    in radiological convention (anterior up, the patient's right on the left) for RAS
    volumes. 2D samples (mmseg's ``SegDataSample``: ``pred_sem_seg``/``gt_sem_seg``, or
    a 2D ``MedDataSample``) give one PNG each; the input image (``data_batch['inputs']``)
    is resized to the prediction's size when they differ. Without ground truth only the
    prediction is drawn. Files: ``<out_dir>/<image name>.png``.

    Args:
        out_dir: output folder; relative paths are under the runner's work dir.
        num_slices: axial slices per volume.
        alpha: opacity of the fills.
        radiological: flip axial slices of RAS volumes to the radiological view.
    """

    priority = 'LOW'

    def __init__(self, out_dir: str = 'seg_overlays', num_slices: int = 3, alpha: float = 0.4,
                 radiological: bool = True):
        if num_slices < 1:
            raise ValueError(f'num_slices must be >= 1, got {num_slices}')
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}')
        self.out_dir = out_dir
        self.num_slices = num_slices
        self.alpha = alpha
        self.radiological = radiological

    def _panels(self, grey: np.ndarray, gt, pred) -> np.ndarray:
        """One row: [ground truth |] prediction, each an overlay of ``grey``."""
        panels = [overlay(grey, labels, self.alpha) for labels in (gt, pred)
                  if labels is not None]
        gap = np.zeros((grey.shape[0], 2, 3), np.uint8)
        return np.concatenate([x for panel in panels for x in (panel, gap)][:-1], axis=1)

    def render(self, image: torch.Tensor, gt: torch.Tensor | None,
               pred: torch.Tensor) -> np.ndarray:
        """The RGB picture of one sample: image ``(C, *spatial)``, labels ``(*spatial)``."""
        if gt is not None and gt.shape != pred.shape:
            gt = F.interpolate(gt[None, None].float(), size=tuple(pred.shape),
                               mode='nearest')[0, 0].long()
        grey = to_grey(image, pred.shape)
        pred_np = pred.numpy()
        gt_np = None if gt is None else gt.numpy()
        if pred.ndim == 2:
            return self._panels(grey, gt_np, pred_np)
        masks = [pred_np] + ([gt_np] if gt_np is not None else [])
        rows = []
        for index in top_slices(masks, self.num_slices):
            view = (lambda a: a[index, ::-1, ::-1]) if self.radiological else \
                (lambda a: a[index])
            row = self._panels(np.ascontiguousarray(view(grey)),
                               None if gt_np is None else np.ascontiguousarray(view(gt_np)),
                               np.ascontiguousarray(view(pred_np)))
            rows.extend([row, np.zeros((2, row.shape[1], 3), np.uint8)])
        return np.concatenate(rows[:-1], axis=0)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        from PIL import Image

        from unimedi.io.writers import strip_image_suffix

        if not outputs or data_batch is None:
            return
        folder = osp.join(runner.work_dir, self.out_dir)  # an absolute out_dir stays as is
        os.makedirs(folder, exist_ok=True)
        inputs = data_batch['inputs']
        for position, sample in enumerate(outputs):
            pred = _labels(sample, 'pred')
            if pred is None:
                continue
            gt = _labels(sample, 'gt')
            name = strip_image_suffix(sample.get('img_path') or f'{batch_idx}_{position}')
            picture = self.render(inputs[position], gt, pred)
            Image.fromarray(picture).save(osp.join(folder, f'{name}.png'))
