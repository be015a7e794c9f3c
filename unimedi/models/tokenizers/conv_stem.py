"""``ConvStemPatchEmbed``: a convolutional stem in place of the patchify projection.

Xiao et al. 2021, "Early Convolutions Help Transformers See Better": a few stride-2 3 x 3
convolutions followed by a 1 x 1 projection replace the single ``patch x patch`` convolution.
The stem keeps the token grid of :class:`PatchEmbed` (and its position table), so it is a
drop-in ``TOKENIZERS`` entry for 2D and 3D through ``spatial_dims``.
"""
from __future__ import annotations

import math
from typing import Sequence

from monai.networks.blocks import Convolution
from torch import nn

from unimedi.registry import TOKENIZERS
from .patch_embed import PatchEmbed


def stem_strides(patch_size: Sequence[int]) -> list[tuple[int, ...]]:
    """Per-stage strides that multiply to ``patch_size`` on every axis.

    Each stage halves every axis that still has a factor of 2 left (Xiao et al.: four
    stride-2 stages for 16 x 16 patches; a 4 x 16 x 16 CT patch is halved in depth only in
    the first two stages).

    Raises:
        ValueError: when a patch size is not a power of 2.
    """
    for size in patch_size:
        if size < 1 or size & (size - 1):
            raise ValueError(f'a convolutional stem needs power-of-2 patch sizes, got '
                             f'{tuple(patch_size)}')
    stages = int(math.log2(max(patch_size)))
    return [tuple(2 if size >> stage > 1 else 1 for size in patch_size)
            for stage in range(stages)]


@TOKENIZERS.register_module()
class ConvStemPatchEmbed(PatchEmbed):
    """:class:`PatchEmbed` whose projection is a convolutional stem.

    ``log2(max(patch_size))`` stages of 3 x 3 (x 3) convolution + norm + GELU, each halving
    the axes that still need it, then a 1 x 1 convolution to ``embed_dim``. The default
    widths double up to ``embed_dim`` (128 wide: 16, 32, 64, 128), as in Xiao et al.

    The norm defaults to a batch-independent ``GroupNorm``, a deviation from the paper's
    BatchNorm: the EMA teacher runs in eval mode and follows the student's parameters only,
    and a UniMedI batch may hold a handful of CTs.

    Args:
        spatial_dims: 2 or 3.
        in_channels: input channels.
        embed_dim: token width.
        patch_size: int or per-axis powers of 2 (default 16 in 2D, ``(4, 16, 16)`` in 3D).
        img_size: the input size the position table is laid out for.
        channels: widths of the stages (default: doubling up to ``embed_dim``).
        norm: ``'group'`` (GroupNorm with ``gcd(8, width)`` groups), another MONAI norm
            name or ``(name, kwargs)``, or ``None`` for no norm.
        act: a MONAI activation name or ``(name, kwargs)``.
    """

    def __init__(self, spatial_dims: int = 2, in_channels: int = 1, embed_dim: int = 768,
                 patch_size: int | Sequence[int] | None = None,
                 img_size: int | Sequence[int] | None = None,
                 channels: Sequence[int] | None = None,
                 norm: str | tuple | None = 'group',
                 act: str | tuple | None = 'gelu'):
        super().__init__(spatial_dims=spatial_dims, in_channels=in_channels,
                         embed_dim=embed_dim, patch_size=patch_size, img_size=img_size)
        strides = stem_strides(self.patch_size)
        if channels is None:
            channels = [max(embed_dim // 2**(len(strides) - 1 - i), 8)
                        for i in range(len(strides))]
        channels = [int(c) for c in channels]
        if len(channels) != len(strides):
            raise ValueError(f'channels needs one width per stage ({len(strides)} for patch '
                             f'{self.patch_size}), got {channels}')
        layers, width = [], in_channels
        for stride, out in zip(strides, channels):
            stage_norm = ('group', dict(num_groups=math.gcd(8, out))) if norm == 'group' else norm
            layers.append(Convolution(spatial_dims, width, out, strides=stride, kernel_size=3,
                                      adn_ordering='NA', norm=stage_norm, act=act,
                                      bias=norm is None))
            width = out
        layers.append(Convolution(spatial_dims, width, embed_dim, kernel_size=1,
                                  conv_only=True))
        self.proj = nn.Sequential(*layers)

    @property
    def num_stages(self) -> int:
        """The number of strided stages (the final 1 x 1 projection not counted)."""
        return len(self.proj) - 1
