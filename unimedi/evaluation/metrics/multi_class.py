"""Accuracy and one-vs-rest AUC for multi-class classification."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from unimedi.registry import METRICS
from .auc import resolve_class_names, roc_auc


@METRICS.register_module()
class MultiClassMetric(BaseMetric):
    """Top-1 accuracy, macro one-vs-rest AUC and per-class AUC / recall.

    Reads ``pred_score`` ``(num_classes,)`` (probabilities or logits: only their order
    matters) and ``gt_label`` (a class index) of every sample.

    Keys: ``acc`` (top-1 accuracy), ``balanced_acc`` (mean per-class recall), ``auc``
    (mean of the per-class one-vs-rest AUCs, as scikit-learn's ``roc_auc_score(...,
    multi_class='ovr', average='macro')`` on probabilities), ``auc_<class>`` and
    ``recall_<class>``. A class absent from the evaluated set has no AUC/recall (``nan``,
    left out of the means, with a warning).

    Args:
        classes: class names for the per-class keys (default: the dataset's ``classes``).
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: metric name prefix.
    """

    default_prefix = 'cls'

    def __init__(self, classes: Sequence[str] | None = None, collect_device: str = 'cpu',
                 prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.classes = tuple(classes) if classes is not None else None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            label = torch.as_tensor(sample['gt_label'])
            if label.numel() != 1:
                raise ValueError(f'MultiClassMetric needs one class index per sample, got '
                                 f'gt_label of shape {tuple(label.shape)} '
                                 f'({sample.get("img_path", "<sample>")}); use MultiLabelAUC '
                                 'for multi-label data')
            self.results.append((torch.as_tensor(sample['pred_score']).float().cpu(),
                                 int(label.reshape(-1)[0])))

    def compute_metrics(self, results: list) -> dict:
        scores = torch.stack([r[0] for r in results]).numpy()
        targets = np.asarray([r[1] for r in results])
        num_classes = scores.shape[1]
        if targets.min() < 0 or targets.max() >= num_classes:
            raise ValueError(f'gt_label values must be in [0, {num_classes}), got '
                             f'{targets.min()}..{targets.max()}')
        classes = resolve_class_names(self, self.classes, num_classes)
        predicted = scores.argmax(axis=1)
        metrics = {'acc': float((predicted == targets).mean())}
        aucs, recalls = {}, {}
        for index, name in enumerate(classes):
            present = targets == index
            aucs[name] = roc_auc(scores[:, index], present)
            recalls[name] = float((predicted[present] == index).mean()) if present.any() \
                else float('nan')
        missing = [name for name, value in recalls.items() if np.isnan(value)]
        if missing:
            MMLogger.get_current_instance().warning(
                f'classes {missing} do not occur in the evaluated set: no AUC / recall for '
                'them, left out of the means')
        defined = [v for v in aucs.values() if not np.isnan(v)]
        metrics['auc'] = float(np.mean(defined)) if defined else float('nan')
        present_recalls = [v for v in recalls.values() if not np.isnan(v)]
        metrics['balanced_acc'] = float(np.mean(present_recalls))
        metrics.update({f'auc_{name}': value for name, value in aucs.items()})
        metrics.update({f'recall_{name}': value for name, value in recalls.items()})
        return metrics
