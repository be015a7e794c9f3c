"""``ViTSegBackbone``: the shared ViT as an mmsegmentation backbone (multi-level maps)."""
from __future__ import annotations

import math
from typing import Sequence

import torch
from mmengine.model import BaseModule

from unimedi.registry import ENCODERS, MODELS
from .pretrained_encoder import PretrainedEncoderMixin


def evenly_spaced_blocks(depth: int, count: int = 4) -> tuple[int, ...]:
    """``count`` block indices spread over ``depth`` blocks, ending at the last one
    (12 blocks: ``(2, 5, 8, 11)``; 4 blocks: ``(0, 1, 2, 3)``; 2 blocks: ``(0, 0, 1, 1)``)."""
    return tuple(max(0, math.ceil((i + 1) * depth / count) - 1) for i in range(count))


@MODELS.register_module()
class ViTSegBackbone(PretrainedEncoderMixin, BaseModule):
    """Feature maps of intermediate ViT blocks, for mmseg's ``EncoderDecoder``.

    Each map is the output of one transformer block (the residual stream, before the
    encoder's final norm) with the patch tokens laid back on their grid: ``(B, C, H/16,
    W/16)`` for 16 x 16 patches. Multi-scale maps for FPN-like heads (``UPerHead``) come
    from mmseg's ``Feature2Pyramid`` neck; SETR heads use these single-scale maps directly.

    Channels: the ViT takes 1-channel images. A 3-channel input (e.g. an RGB pipeline of
    mmseg) is averaged over its channels to one grey channel; any other channel count that
    differs from the tokenizer's is an error.

    Args:
        encoder: ``ENCODERS`` config of a ``UnifiedViT`` (or a built one).
        out_indices: the blocks whose outputs are returned, in this order; negative indices
            count from the end. ``None``: 4 evenly spaced blocks ending with the last
            (:func:`evenly_spaced_blocks`). Repeats are allowed.
        modality: the encoder's tokenizer to use (``'2d'``: mmseg is 2D).
        pretrained: as ``ImageClassifier.pretrained``: ``None`` (random init), a checkpoint
            path, or ``dict(checkpoint=..., prefix='vision_encoder.', strict=True)`` (see
            :func:`load_encoder_checkpoint`), loaded by :meth:`init_weights` (the runner
            calls it before training; a resume or ``load_from`` wins).
        frozen: the encoder gets no gradients and stays in eval mode (no drop path):
            only the neck and decode head learn.
    """

    encoder_attr = 'encoder'

    def __init__(self, encoder: dict | torch.nn.Module, out_indices: Sequence[int] | None = None,
                 modality: str = '2d', pretrained: str | dict | None = None,
                 frozen: bool = False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.encoder = ENCODERS.build(encoder) if isinstance(encoder, dict) else encoder
        if modality not in self.encoder.tokenizers:
            raise ValueError(f'modality {modality!r} has no tokenizer in the encoder; it has '
                             f'{list(self.encoder.tokenizers)}')
        depth = self.encoder.depth
        if out_indices is None:
            out_indices = evenly_spaced_blocks(depth)
        out_indices = tuple(int(i) for i in out_indices)
        bad = [i for i in out_indices if not -depth <= i < depth]
        if not out_indices or bad:
            raise ValueError(f'out_indices must be block indices in [-{depth}, {depth - 1}], '
                             f'got {out_indices}')
        self.out_indices = tuple(i % depth for i in out_indices)
        self.modality = modality
        self.setup_pretrained_encoder(pretrained, frozen)

    @property
    def embed_dim(self) -> int:
        """Channels of every returned map."""
        return self.encoder.embed_dim

    @property
    def in_channels(self) -> int:
        return self.encoder.tokenizers[self.modality].in_channels

    def _match_channels(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        if channels == self.in_channels:
            return x
        if channels == 3 and self.in_channels == 1:
            return x.mean(dim=1, keepdim=True)
        raise ValueError(f'ViTSegBackbone expects {self.in_channels} input channels (or 3, '
                         f'averaged to 1), got shape {tuple(x.shape)}')

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """
        Args:
            x: ``(B, C, H, W)`` images (``(B, C, D, H, W)`` with a 3D tokenizer); H and W
                multiples of the patch size.

        Returns:
            one ``(B, embed_dim, H / p, W / p)`` map per entry of ``out_indices``.
        """
        x = self._match_channels(x)
        unique = sorted(set(self.out_indices))
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            maps = self.encoder.get_intermediate_layers(x, self.modality, unique)
        by_block = dict(zip(unique, maps))
        return tuple(by_block[i] for i in self.out_indices)
