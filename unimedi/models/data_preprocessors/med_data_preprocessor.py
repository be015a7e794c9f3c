"""``MedDataPreprocessor``: one batch holding 2D and 3D samples -> per-modality tensors."""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from unimedi.registry import MODELS, TEXT_TOKENIZERS
from unimedi.structures import MODALITIES


def _per_modality(value, name: str) -> dict:
    """``None``, a number/list for both modalities, or a dict keyed by modality."""
    if isinstance(value, dict):
        unknown = set(value) - set(MODALITIES)
        if unknown:
            raise ValueError(f'{name} keys must be in {MODALITIES}, got {sorted(unknown)}')
        return {m: value.get(m) for m in MODALITIES}
    return {m: value for m in MODALITIES}


def restore_batch_order(data_samples: Sequence) -> list:
    """Samples back in the sampler's order (undoes the 2D-first grouping by ``batch_index``),
    which result collection across processes relies on."""
    return sorted(data_samples, key=lambda s: s.get('batch_index', 0))


@MODELS.register_module()
class MedDataPreprocessor(BaseDataPreprocessor):
    """Stack each modality of a mixed batch and tokenize the reports.

    Input (from ``pseudo_collate``): ``inputs`` a list of ``(C, H, W)`` / ``(C, D, H, W)``
    tensors, ``data_samples`` a list of :class:`MedDataSample`.

    Output:
        - ``inputs`` (dict):
            - ``'2d'``: ``(N2, C, H, W)`` float tensor or ``None``;
            - ``'3d'``: ``(N3, C, D, H, W)`` float tensor or ``None``;
            - ``'text'``: ``{'input_ids': (N, L), 'attention_mask': (N, L)}`` or ``None``
              (when no tokenizer is configured or a sample has no report).
        - ``data_samples`` (list): reordered to 2D samples first, then 3D, each in batch
          order, so ``torch.cat([feat_2d, feat_3d])`` lines up with the samples and the
          report tokens. Each sample's original position is in its ``batch_index`` meta.

    Args:
        text_tokenizer: a ``TEXT_TOKENIZERS`` config (or built tokenizer), or ``None``.
        mean: subtracted from images: a number, per-channel list, or ``{'2d': .., '3d': ..}``.
        std: divides images, same forms as ``mean``.
        non_blocking: asynchronous host-to-device copies.
    """

    def __init__(self, text_tokenizer: dict | None = None, mean=None, std=None,
                 non_blocking: bool = False):
        super().__init__(non_blocking=non_blocking)
        if isinstance(text_tokenizer, dict):
            text_tokenizer = TEXT_TOKENIZERS.build(text_tokenizer)
        self.text_tokenizer = text_tokenizer
        self.mean = _per_modality(mean, 'mean')
        self.std = _per_modality(std, 'std')

    def _normalise(self, images: torch.Tensor, modality: str) -> torch.Tensor:
        mean, std = self.mean[modality], self.std[modality]
        shape = (1, -1) + (1, ) * (images.ndim - 2)
        if mean is not None:
            images = images - torch.as_tensor(mean, dtype=images.dtype,
                                              device=images.device).reshape(shape)
        if std is not None:
            images = images / torch.as_tensor(std, dtype=images.dtype,
                                              device=images.device).reshape(shape)
        return images

    @staticmethod
    def _stack(images: Sequence[torch.Tensor], samples: Sequence, modality: str) -> torch.Tensor:
        expected_ndim = 3 if modality == '2d' else 4
        first = images[0].shape
        for image, sample in zip(images, samples):
            if image.ndim != expected_ndim:
                raise ValueError(f'{sample.get("img_path", "<sample>")}: a {modality} input must '
                                 f'have {expected_ndim} dims, got shape {tuple(image.shape)}')
            if image.shape != first:
                raise ValueError(
                    f'{modality} inputs of one batch must share a shape; '
                    f'{samples[0].get("img_path", "<sample 0>")} is {tuple(first)} but '
                    f'{sample.get("img_path", "<sample>")} is {tuple(image.shape)}. '
                    'Add a MedResize/CenterCropOrPad to the pipeline.')
        return torch.stack(list(images)).float()

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs, samples = data['inputs'], data.get('data_samples')
        if samples is None or len(samples) != len(inputs):
            raise ValueError('MedDataPreprocessor needs one data sample per input '
                             '(the modality is read from it)')
        out: dict = {}
        ordered = []
        for modality in MODALITIES:
            index = [i for i, s in enumerate(samples) if s.get('modality') == modality]
            if not index:
                out[modality] = None
                continue
            group = [samples[i] for i in index]
            images = self._stack([inputs[i] for i in index], group, modality)
            out[modality] = self._normalise(images, modality)
            for i in index:
                samples[i].set_metainfo(dict(batch_index=i))
            ordered.extend(group)
        if len(ordered) != len(samples):
            bad = [s.get('img_path', i) for i, s in enumerate(samples)
                   if s.get('modality') not in MODALITIES]
            raise ValueError(f'samples without a valid modality: {bad}')
        out['text'] = None
        if self.text_tokenizer is not None and all('report' in s for s in ordered):
            tokens = self.text_tokenizer([s.report for s in ordered])
            out['text'] = {k: v.to(self.device) for k, v in tokens.items()}
        return dict(inputs=out, data_samples=ordered)
