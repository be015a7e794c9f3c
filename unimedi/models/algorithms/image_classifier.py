"""``ImageClassifier``: a (pre-trained) vision encoder and a linear head, 2D or 3D."""
from __future__ import annotations

from typing import Sequence

import torch

from unimedi.registry import ENCODERS, HEADS, MODELS
from unimedi.structures import MODALITIES
from ..encoders.pretrained_encoder import PretrainedEncoderMixin
from .base_model import MedBaseModel

POOLINGS = ('cls', 'mean', 'cls+mean')


@MODELS.register_module()
class ImageClassifier(PretrainedEncoderMixin, MedBaseModel):
    """Classify 2D and 3D images with the shared ViT: linear probe or fine-tuning.

    Args:
        backbone: ``ENCODERS`` config of the vision encoder (``UnifiedViT``).
        head: ``HEADS`` config (``LinearClsHead``; ``in_dim`` is filled in).
        pretrained: where the encoder's weights come from: ``None`` (random init: the
            baseline), a checkpoint path, or ``dict(checkpoint=..., prefix=...,
            strict=True)`` (see :func:`load_encoder_checkpoint`: a UniMedI runner
            checkpoint with ``prefix='vision_encoder.'`` or ``'teacher.encoder.'``, or an
            exported encoder). Loaded by :meth:`init_weights`, which the runner calls
            before training (and before a resume or ``load_from``, which win).
        frozen: ``True`` for a linear probe: the encoder gets no gradients and stays in
            eval mode (no drop path), only the head learns.
        pooling: image feature from the encoder: ``'cls'`` the [CLS] token (the one
            UniMedI aligns with reports), ``'mean'`` the mean patch token, ``'cls+mean'``
            both concatenated.
        data_preprocessor: ``MedDataPreprocessor`` config (no text tokenizer needed).
    """

    def __init__(self, backbone: dict, head: dict, pretrained: str | dict | None = None,
                 frozen: bool = False, pooling: str = 'cls',
                 data_preprocessor: dict | None = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pooling not in POOLINGS:
            raise ValueError(f'pooling must be one of {POOLINGS}, got {pooling!r}')
        self.backbone = ENCODERS.build(backbone) if isinstance(backbone, dict) else backbone
        width = self.backbone.embed_dim * (2 if pooling == 'cls+mean' else 1)
        self.head = HEADS.build(dict(head, in_dim=width)) if isinstance(head, dict) else head
        self.pooling = pooling
        self.setup_pretrained_encoder(pretrained, frozen)

    # ------------------------------------------------------------------ features
    def _pool(self, out: dict) -> torch.Tensor:
        if self.pooling == 'cls':
            return out['cls']
        mean = out['patch'].mean(dim=1)
        return mean if self.pooling == 'mean' else torch.cat([out['cls'], mean], dim=1)

    def extract_feat(self, inputs: dict) -> torch.Tensor:
        """``(N, C)`` pooled features of the batch, 2D rows first then 3D (the order of the
        data preprocessor's samples)."""
        feats = []
        for modality in MODALITIES:
            x = inputs.get(modality)
            if x is None:
                continue
            with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
                feats.append(self._pool(self.backbone(x, modality)))
        if not feats:
            raise ValueError('the batch holds no 2D or 3D images')
        return torch.cat(feats)

    @staticmethod
    def _targets(data_samples: Sequence) -> torch.Tensor:
        missing = [s.get('img_path', i) for i, s in enumerate(data_samples)
                   if 'gt_label' not in s]
        if missing:
            raise ValueError(f'samples without gt_label: {missing[:5]}')
        return torch.stack([torch.as_tensor(s.gt_label) for s in data_samples])

    # ------------------------------------------------------------------ modes
    def _forward(self, inputs: dict) -> torch.Tensor:
        """The logits ``(N, num_classes)``."""
        return self.head(self.extract_feat(inputs))

    def loss(self, inputs: dict, data_samples: Sequence) -> dict:
        """``loss_cls`` (BCE or CE) and the batch accuracy (``acc``, multi-class only)."""
        logits = self.head(self.extract_feat(inputs))
        targets = self._targets(data_samples).to(logits.device)
        losses = dict(loss_cls=self.head.loss(logits, targets))
        if not self.head.multi_label:
            with torch.no_grad():
                losses['acc'] = (logits.argmax(dim=1) == targets).float().mean()
        return losses

    def _set_predictions(self, inputs: dict, data_samples: Sequence) -> None:
        """Set ``pred_score`` (probabilities) and ``pred_label`` on every sample."""
        scores = self.head.scores(self.head(self.extract_feat(inputs)))
        for sample, score in zip(data_samples, scores):
            sample.set_pred_score(score)
            label = (score > 0.5).long() if self.head.multi_label else score.argmax()
            sample.set_pred_label(label)
