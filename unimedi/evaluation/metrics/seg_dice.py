"""Dice per class and mean Dice of label masks, 2D or 3D (and NIfTI predictions)."""
from __future__ import annotations

import os.path as osp
from typing import Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from unimedi.registry import METRICS


def confusion_matrix(pred: torch.Tensor, gt: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``(K, K)`` voxel counts, rows ground truth, columns prediction."""
    index = gt.reshape(-1).long() * num_classes + pred.reshape(-1).long()
    return torch.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


def dice_per_class(pred: torch.Tensor, gt: torch.Tensor, num_classes: int) -> np.ndarray:
    """Dice ``2 |P & G| / (|P| + |G|)`` of classes ``1 .. K-1`` in one image or volume.

    A class absent from both the prediction and the ground truth has no Dice: ``nan``. A
    class in only one of them scores 0.

    Args:
        pred: predicted labels, any shape.
        gt: ground-truth labels, the same shape.
        num_classes: ``K``, background (0) included.

    Returns:
        ``(K - 1,)`` float64.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {tuple(pred.shape)} and ground truth {tuple(gt.shape)} '
                         'differ in shape')
    for name, labels in (('prediction', pred), ('ground truth', gt)):
        if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
            raise ValueError(f'{name} labels must be in [0, {num_classes}), got '
                             f'{int(labels.min())}..{int(labels.max())}; the classes and the '
                             'masks disagree (see RemapLabels / binary)')
    counts = confusion_matrix(pred, gt, num_classes).double().numpy()
    overlap = np.diag(counts)[1:]
    total = counts.sum(axis=0)[1:] + counts.sum(axis=1)[1:]
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(total > 0, 2.0 * overlap / total, np.nan)


def _label_maps(sample: dict, where: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(prediction, ground truth)`` label maps of a ``MedDataSample`` or an mmseg
    ``SegDataSample`` (``pred_sem_seg`` / ``gt_sem_seg`` pixel data, ``(1, H, W)``)."""
    if 'pred_seg' not in sample and 'pred_sem_seg' in sample:
        if 'gt_sem_seg' not in sample:
            raise KeyError(f'{where}: no gt_sem_seg to score against (add LoadMedicalMask to '
                           'the test pipeline)')
        return (torch.as_tensor(sample['pred_sem_seg']['data']).cpu().squeeze(0),
                torch.as_tensor(sample['gt_sem_seg']['data']).cpu().squeeze(0))
    if 'pred_seg' not in sample:
        raise KeyError(f'{where}: no pred_seg to score (a segmentation model sets it)')
    if 'gt_seg' not in sample:
        raise KeyError(f'{where}: no gt_seg to score against (add LoadMedicalMask to '
                       'the test pipeline)')
    return torch.as_tensor(sample['pred_seg']).cpu(), torch.as_tensor(sample['gt_seg']).cpu()


@METRICS.register_module()
class SegDiceMetric(BaseMetric):
    """Per-class and mean Dice from ``pred_seg`` and ``gt_seg`` (``MedDataSample``, 3D)
    or ``pred_sem_seg`` and ``gt_sem_seg`` (mmseg's ``SegDataSample``, 2D).

    Unlike mmseg's ``IoUMetric`` (``mDice`` over all pixels of the split, background
    included), the Dice here is per image or volume and over the foreground classes, the
    way lesion and organ Dice are reported.

    Each image or volume gets a Dice per foreground class (:func:`dice_per_class`); a
    class absent from both its ground truth and its prediction is ``nan`` there and left
    out. ``dice/<class>`` is the mean over the volumes where the class is defined;
    ``dice/mean`` the mean of those per-class values (classes never defined are left out,
    with a warning). Background is never scored.

    Predictions can be written as NIfTI (``output_dir``): ``<case>_pred.nii.gz`` on the
    voxel grid of the sample's input file (``img_path``: same shape, affine and
    orientation, see :func:`~unimedi.io.writers.save_seg_nifti`), using the
    sample's ``affine`` meta for the prediction's grid.

    Args:
        classes: class names, background first (default: the dataset's ``classes``).
        num_classes: the number of labels when no names are known.
        output_dir: folder for the NIfTI predictions (``None``: none written).
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: metric name prefix (default ``'dice'``).
    """

    default_prefix = 'dice'

    def __init__(self, classes: Sequence[str] | None = None, num_classes: int | None = None,
                 output_dir: str | None = None, collect_device: str = 'cpu',
                 prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.classes = tuple(classes) if classes is not None else None
        self.num_classes = num_classes
        self.output_dir = output_dir

    def _class_names(self) -> tuple[str, ...]:
        names = self.classes or tuple((self.dataset_meta or {}).get('classes') or ())
        if names:
            if self.num_classes is not None and len(names) != self.num_classes:
                raise ValueError(f'{len(names)} class names {names} but num_classes='
                                 f'{self.num_classes}')
            return names
        if self.num_classes is None:
            raise ValueError('SegDiceMetric needs class names (background first) from '
                             '`classes` or the dataset meta, or `num_classes`')
        return ('background', ) + tuple(str(i) for i in range(1, self.num_classes))

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        num_classes = len(self._class_names())
        for sample in data_samples:
            where = sample.get('img_path', '<sample>')
            pred, gt = _label_maps(sample, where)
            try:
                self.results.append(dice_per_class(pred, gt, num_classes))
            except ValueError as exc:
                raise ValueError(f'{where}: {exc}') from exc
            if self.output_dir is not None:
                self._save(sample, pred)

    def _save(self, sample: dict, pred: torch.Tensor) -> None:
        from unimedi.io.writers import save_seg_nifti, strip_image_suffix

        path, affine = sample.get('img_path'), sample.get('affine')
        if path is None or affine is None or pred.ndim != 3:
            raise ValueError(f'{path}: saving a NIfTI prediction needs a 3D pred_seg with the '
                             'sample\'s img_path and affine meta')
        out = osp.join(self.output_dir, f'{strip_image_suffix(path)}_pred.nii.gz')
        save_seg_nifti(pred.numpy(), np.asarray(affine), path, out)

    def compute_metrics(self, results: list) -> dict:
        names = self._class_names()[1:]
        table = np.stack(results)  # (num_volumes, K - 1)
        defined = ~np.isnan(table)
        counts = defined.sum(axis=0)
        sums = np.where(defined, table, 0.0).sum(axis=0)
        with np.errstate(invalid='ignore', divide='ignore'):
            per_class = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        missing = [name for name, n in zip(names, counts) if n == 0]
        if missing:
            MMLogger.get_current_instance().warning(
                f'classes {missing} occur in no ground truth or prediction of the {len(table)} '
                'evaluated samples: no Dice for them, left out of the mean')
        valid = per_class[~np.isnan(per_class)]
        metrics = {'mean': float(valid.mean()) if valid.size else float('nan')}
        metrics.update({name: float(value) for name, value in zip(names, per_class)})
        return metrics
