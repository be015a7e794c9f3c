"""An example plugin: a linear classifier on intensity histograms, for 2D and 3D images.

It shows the parts of a unimedi model: registration in ``unimedi.registry.MODELS``, the
``MedDataPreprocessor`` output (``inputs['2d']`` / ``inputs['3d']`` and the samples in the
same order), ``forward(mode=...)`` with ``loss`` and ``predict``. It is also a sanity
baseline: anything pre-trained should beat a histogram.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from unimedi.registry import MODELS


@MODELS.register_module()
class IntensityHistogramClassifier(BaseModel):
    """Multi-label logistic regression on each image's intensity histogram.

    Args:
        num_classes: number of labels.
        bins: histogram bins over ``value_range``.
        value_range: intensities outside are clipped into the end bins.
        data_preprocessor: a ``MedDataPreprocessor`` config.
    """

    def __init__(self, num_classes: int, bins: int = 32, value_range=(0.0, 1.0),
                 data_preprocessor: dict | None = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='MedDataPreprocessor'),
                         init_cfg=init_cfg)
        self.bins = bins
        self.value_range = tuple(value_range)
        self.head = nn.Linear(bins, num_classes)

    def histogram(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, C, *spatial)`` -> ``(N, bins)`` normalised histograms."""
        low, high = self.value_range
        flat = images.flatten(1).clamp(low, high)
        index = ((flat - low) / (high - low) * self.bins).long().clamp_(0, self.bins - 1)
        counts = F.one_hot(index, self.bins).float().mean(dim=1)
        return counts

    def extract_feat(self, inputs: dict) -> torch.Tensor:
        feats = [self.histogram(inputs[m]) for m in ('2d', '3d') if inputs.get(m) is not None]
        return torch.cat(feats)

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        logits = self.head(self.extract_feat(inputs))
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            targets = torch.stack([s.gt_label for s in data_samples]).to(logits)
            return dict(loss_cls=F.binary_cross_entropy_with_logits(logits, targets))
        if mode == 'predict':
            for sample, score in zip(data_samples, logits.sigmoid()):
                sample.set_pred_score(score)
            return data_samples
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")
