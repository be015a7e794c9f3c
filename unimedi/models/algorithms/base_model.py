"""The base of unimedi's models: what ``UniMedI`` and the downstream models share."""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.model import BaseModel

from unimedi.registry import MODELS
from ..data_preprocessors.med_data_preprocessor import restore_batch_order

MODES = ('loss', 'predict', 'tensor')


class MedBaseModel(BaseModel):
    """MMEngine's ``BaseModel`` with unimedi's conventions (as mmpretrain's
    ``BaseClassifier`` / ``BaseSelfSupervisor``):

    - the data preprocessor config (default ``MedDataPreprocessor``) is built here, so a
      model also builds outside a runner's default scope;
    - :meth:`forward` dispatches ``mode`` to :meth:`loss`, :meth:`predict` or
      :meth:`_forward` (``'tensor'``);
    - :meth:`predict` hands the samples back in the sampler's order
      (``MedDataPreprocessor`` groups a mixed batch by modality).

    Subclasses implement :meth:`loss`, :meth:`_forward` and :meth:`_set_predictions`.
    """

    def __init__(self, data_preprocessor: dict | torch.nn.Module | None = None, init_cfg=None):
        data_preprocessor = data_preprocessor or dict(type='MedDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)

    def forward(self, inputs: dict, data_samples: Sequence | None = None, mode: str = 'tensor'):
        """``inputs``: ``{'2d': (N2, C, H, W), '3d': (N3, C, D, H, W), ...}`` from the
        preprocessor; ``mode``: ``'loss'`` (a dict of losses), ``'predict'`` (the samples
        with predictions) or ``'tensor'`` (the raw outputs)."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: dict, data_samples: Sequence) -> dict:
        """The losses (``loss*`` keys are summed by MMEngine) and logged values."""
        raise NotImplementedError

    def _forward(self, inputs: dict):
        """The network's outputs without post-processing (``mode='tensor'``)."""
        raise NotImplementedError

    def _set_predictions(self, inputs: dict, data_samples: Sequence) -> None:
        """Write the predictions into ``data_samples`` (in the batch's model order)."""
        raise NotImplementedError

    @torch.no_grad()
    def predict(self, inputs: dict, data_samples: Sequence) -> list:
        """The samples with their predictions, in the sampler's order."""
        self._set_predictions(inputs, data_samples)
        return restore_batch_order(data_samples)
