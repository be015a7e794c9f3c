"""ROC AUC for multi-label (and binary) classification."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from scipy.stats import rankdata

from unimedi.registry import METRICS


def roc_auc(scores: np.ndarray, targets: np.ndarray) -> float:
    """Area under the ROC curve by the Mann-Whitney U statistic (ties count one half).

    Args:
        scores: ``(N,)`` predicted scores.
        targets: ``(N,)`` binary targets.

    Returns:
        The AUC, or ``nan`` when ``targets`` holds a single class.

    Raises:
        ValueError: ``scores`` and ``targets`` are not 1-D arrays of the same length.
    """
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets)
    if scores.ndim != 1 or scores.shape != targets.shape:
        raise ValueError(f'scores {scores.shape} and targets {targets.shape} must be 1-D '
                         'arrays of the same length')
    targets = targets.astype(bool)
    num_pos = int(targets.sum())
    num_neg = targets.size - num_pos
    if num_pos == 0 or num_neg == 0:
        return float('nan')
    ranks = rankdata(scores)
    return float((ranks[targets].sum() - num_pos * (num_pos + 1) / 2) / (num_pos * num_neg))


def resolve_class_names(metric: BaseMetric, classes: tuple | None, count: int) -> tuple:
    """``classes``, else the dataset's ``classes``, else ``'0', '1', ...``; checked against
    the ``count`` predicted scores per sample."""
    names = classes or tuple((metric.dataset_meta or {}).get('classes') or ()) \
        or tuple(str(i) for i in range(count))
    if len(names) != count:
        raise ValueError(f'{len(names)} class names {names} for {count} predicted scores per '
                         'sample; the model and the classes differ')
    return names


@METRICS.register_module()
class MultiLabelAUC(BaseMetric):
    """Macro and per-class ROC AUC from ``pred_score`` and multi-hot ``gt_label``.

    Classes with only positives or only negatives in the evaluated set have no AUC; they
    are reported as ``nan`` and left out of the macro mean (with a warning).

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
            self.results.append((torch.as_tensor(sample['pred_score']).float().cpu(),
                                 torch.as_tensor(sample['gt_label']).float().cpu()))

    def compute_metrics(self, results: list) -> dict:
        scores = torch.stack([r[0] for r in results]).numpy()
        targets = torch.stack([r[1] for r in results]).numpy()
        if scores.shape != targets.shape:
            raise ValueError(f'pred_score {scores.shape[1:]} and gt_label {targets.shape[1:]} '
                             'must have the same number of classes')
        classes = resolve_class_names(self, self.classes, scores.shape[1])
        per_class = {name: roc_auc(scores[:, i], targets[:, i]) for i, name in enumerate(classes)}
        defined = [v for v in per_class.values() if not np.isnan(v)]
        if len(defined) < len(per_class):
            missing = [k for k, v in per_class.items() if np.isnan(v)]
            MMLogger.get_current_instance().warning(
                f'AUC undefined (one label value only) for classes {missing}; '
                'left out of the macro mean')
        metrics = {'auc': float(np.mean(defined)) if defined else float('nan')}
        metrics.update({f'auc_{name}': value for name, value in per_class.items()})
        return metrics
