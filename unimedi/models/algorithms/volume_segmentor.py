"""``VolumeSegmentor``: 3D segmentation with the shared ViT and a UNETR decoder."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from monai.inferers import sliding_window_inference

from unimedi.registry import ENCODERS, HEADS, LOSSES, MODELS
from ..encoders.pretrained_encoder import PretrainedEncoderMixin
from .base_model import MedBaseModel

INFER_DEFAULTS = dict(roi_size=None, sw_batch_size=1, overlap=0.25, mode='gaussian',
                      pad_value='min')
NOT_3D = ('VolumeSegmentor segments 3D volumes only; segment 2D images with '
          "mmsegmentation's EncoderDecoder and ViTSegBackbone (configs/segmentation/phantom2d)")


def default_out_indices(depth: int) -> tuple[int, ...]:
    """UNETR's choice, blocks 3/6/9/12 of 12, for any depth: the ends of its 4 quarters."""
    return tuple(max(0, round(depth * (i + 1) / 4) - 1) for i in range(4))


@MODELS.register_module()
class VolumeSegmentor(PretrainedEncoderMixin, MedBaseModel):
    """Segment CT volumes with the (pre-trained) ``UnifiedViT`` and a ``UNETRDecoder``.

    Training crops go through the whole network; at test time (``predict``) MONAI's
    ``sliding_window_inference`` tiles volumes of any size with ``roi_size`` windows.

    Args:
        backbone: ``ENCODERS`` config of the vision encoder (``UnifiedViT`` with a ``'3d'``
            tokenizer).
        decode_head: ``HEADS`` config (``UNETRDecoder``; ``in_channels``, ``patch_size``
            and ``image_channels`` are filled in from the backbone).
        out_indices: the 4 blocks whose outputs feed the decoder, shallow to deep;
            ``None``: :func:`default_out_indices` (ViT-B: 2, 5, 8, 11).
        loss: ``LOSSES`` config (default ``DiceCELoss``: softmax Dice + cross-entropy).
        pretrained: the encoder's weights: ``None`` (random init), a checkpoint path, or
            ``dict(checkpoint=..., prefix='vision_encoder.', strict=True)`` (see
            :func:`load_encoder_checkpoint`), loaded by :meth:`init_weights`.
        frozen: the encoder gets no gradients and stays in eval mode (only the decoder
            learns).
        infer_cfg: sliding-window inference: ``roi_size`` ``(D, H, W)`` (divisible by the
            patch; ``None``: the whole volume in one pass), ``sw_batch_size``, ``overlap``,
            ``mode`` (``'gaussian'`` | ``'constant'``), ``pad_value`` (``'min'``: the
            volume's minimum, or a number, in the normalised input's units) for volumes
            smaller than ``roi_size`` or not divisible by the patch.
        data_preprocessor: ``MedDataPreprocessor`` config.

    Data: ``inputs['3d']`` ``(B, C, D, H, W)``; samples carry ``gt_seg`` ``(D, H, W)``
    (training) and get ``pred_seg`` ``(D, H, W)`` int64 on the same grid (``predict``).
    """

    def __init__(self, backbone: dict, decode_head: dict,
                 out_indices: Sequence[int] | None = None, loss: dict | None = None,
                 pretrained: str | dict | None = None, frozen: bool = False,
                 infer_cfg: dict | None = None, data_preprocessor: dict | None = None,
                 init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = ENCODERS.build(backbone) if isinstance(backbone, dict) else backbone
        tokenizers = getattr(self.backbone, 'tokenizers', {})
        if '3d' not in tokenizers:
            raise ValueError(f'the backbone needs a 3D tokenizer; it has {list(tokenizers)}')
        tokenizer = tokenizers['3d']
        self.patch_size = tuple(tokenizer.patch_size)
        depth = self.backbone.depth
        out_indices = default_out_indices(depth) if out_indices is None else out_indices
        self.out_indices = tuple(int(i) % depth for i in out_indices)
        if len(self.out_indices) != 4:
            raise ValueError(f'out_indices needs 4 block indices (shallow to deep), got '
                             f'{tuple(out_indices)}')
        if isinstance(decode_head, dict):
            decode_head = HEADS.build(dict(decode_head, in_channels=self.backbone.embed_dim,
                                           patch_size=self.patch_size,
                                           image_channels=tokenizer.in_channels))
        self.decode_head = decode_head
        self.num_classes = self.decode_head.num_classes
        self.loss_module = LOSSES.build(loss or dict(type='DiceCELoss'))
        self.setup_pretrained_encoder(pretrained, frozen)
        self.infer_cfg = self._check_infer_cfg(infer_cfg or {})

    def _check_infer_cfg(self, cfg: dict) -> dict:
        unknown = set(cfg) - set(INFER_DEFAULTS)
        if unknown:
            raise ValueError(f'infer_cfg: unknown keys {sorted(unknown)}; allowed '
                             f'{sorted(INFER_DEFAULTS)}')
        cfg = dict(INFER_DEFAULTS, **cfg)
        roi = cfg['roi_size']
        if roi is not None:
            roi = tuple(int(s) for s in roi)
            if len(roi) != 3 or any(s <= 0 or s % p for s, p in zip(roi, self.patch_size)):
                raise ValueError(f'infer_cfg.roi_size must be 3 positive sizes divisible by '
                                 f'the patch {self.patch_size}, got {cfg["roi_size"]}')
            cfg['roi_size'] = roi
        if cfg['mode'] not in ('gaussian', 'constant'):
            raise ValueError(f"infer_cfg.mode must be 'gaussian' or 'constant', got "
                             f"{cfg['mode']!r}")
        if cfg['pad_value'] != 'min' and not isinstance(cfg['pad_value'], (int, float)):
            raise ValueError(f"infer_cfg.pad_value must be 'min' or a number, got "
                             f"{cfg['pad_value']!r}")
        return cfg

    # ------------------------------------------------------------------ network
    @staticmethod
    def _volumes(inputs: dict) -> torch.Tensor:
        if inputs.get('2d') is not None:
            raise ValueError(NOT_3D)
        volumes = inputs.get('3d')
        if volumes is None:
            raise ValueError('the batch holds no 3D volumes')
        return volumes

    def extract_feat(self, volumes: torch.Tensor) -> list[torch.Tensor]:
        """The 4 ViT maps ``(B, C, *grid)`` of ``out_indices``, shallow to deep."""
        unique = sorted(set(self.out_indices))
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            maps = self.backbone.get_intermediate_layers(volumes, '3d', unique)
        by_index = dict(zip(unique, maps))
        return [by_index[i] for i in self.out_indices]

    def segment(self, volumes: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K, D, H, W)`` of volumes ``(B, C, D, H, W)`` divisible by the patch."""
        return self.decode_head(self.extract_feat(volumes), volumes)

    def _pad(self, volumes: torch.Tensor, minimum: Sequence[int]) -> tuple[torch.Tensor, list]:
        """Pad (end of each axis) to at least ``minimum`` and to patch multiples."""
        shape = volumes.shape[2:]
        target = [max(s, m) for s, m in zip(shape, minimum)]
        target = [-(-t // p) * p for t, p in zip(target, self.patch_size)]
        if list(shape) == target:
            return volumes, list(shape)
        value = self.infer_cfg['pad_value']
        value = float(volumes.amin()) if value == 'min' else float(value)
        pads = []
        for s, t in zip(reversed(shape), reversed(target)):
            pads += [0, t - s]
        return F.pad(volumes, pads, value=value), list(shape)

    def inference(self, volumes: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, K, D, H, W)`` of volumes of any size: sliding windows of
        ``roi_size`` (or one pass), padded as needed and cropped back."""
        cfg = self.infer_cfg
        roi = cfg['roi_size']
        padded, shape = self._pad(volumes, roi or (1, 1, 1))
        if roi is None:
            logits = self.segment(padded)
        else:
            logits = sliding_window_inference(
                padded, roi, cfg['sw_batch_size'], self.segment, overlap=cfg['overlap'],
                mode=cfg['mode'])
        return logits[(Ellipsis, *(slice(0, s) for s in shape))]

    # ------------------------------------------------------------------ modes
    def _forward(self, inputs: dict) -> torch.Tensor:
        """The logits ``(N, num_classes, D, H, W)`` of the whole input (no sliding window)."""
        return self.segment(self._volumes(inputs))

    @staticmethod
    def _targets(data_samples: Sequence, shape: Sequence[int]) -> torch.Tensor:
        missing = [s.get('img_path', i) for i, s in enumerate(data_samples) if 'gt_seg' not in s]
        if missing:
            raise ValueError(f'samples without gt_seg: {missing[:5]} (add LoadMedicalMask)')
        bad = [(s.get('img_path'), tuple(s.gt_seg.shape)) for s in data_samples
               if tuple(s.gt_seg.shape) != tuple(shape)]
        if bad:
            raise ValueError(f'gt_seg must have the input shape {tuple(shape)}; got {bad[:3]}')
        return torch.stack([s.gt_seg for s in data_samples])

    def loss(self, inputs: dict, data_samples: Sequence) -> dict:
        """``loss_seg`` (``loss`` config, Dice + CE) of crops divisible by the patch."""
        volumes = self._volumes(inputs)
        logits = self.segment(volumes)
        targets = self._targets(data_samples, volumes.shape[2:]).to(logits.device)
        return dict(loss_seg=self.loss_module(logits, targets))

    def _set_predictions(self, inputs: dict, data_samples: Sequence) -> None:
        """Set ``pred_seg`` ``(D, H, W)`` int64 (argmax over classes, on the sample's input
        grid) on every sample."""
        logits = self.inference(self._volumes(inputs))
        for sample, labels in zip(data_samples, logits.argmax(dim=1)):
            sample.set_pred_seg(labels)
