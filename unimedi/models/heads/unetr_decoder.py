"""``UNETRDecoder``: MONAI's UNETR decoder on a ViT's intermediate 3D maps (``HEADS``)."""
from __future__ import annotations

import math
from typing import Sequence

import torch
from monai.networks.blocks import UnetOutBlock, UnetrBasicBlock, UnetrPrUpBlock, UnetrUpBlock
from torch import nn

from unimedi.registry import HEADS
from ..tokenizers.patch_embed import ensure_tuple

NUM_STAGES = 4


def upsample_factors(patch_size: Sequence[int], num_stages: int = NUM_STAGES
                     ) -> list[tuple[int, ...]]:
    """Per-stage up-sampling factors whose product per axis is ``patch_size``.

    Each axis' patch must be a power of two; its doublings go to the stages nearest the
    full resolution (``(4, 16, 16)`` -> ``(1, 2, 2), (1, 2, 2), (2, 2, 2), (2, 2, 2)``), so
    the deep stages of an anisotropic patch first restore the coarse in-plane axes.
    Patches above ``2 ** num_stages`` put the extra doublings in the last stages.

    Returns:
        ``num_stages`` tuples, deepest stage (the ViT grid) first.
    """
    per_axis = []
    for size in patch_size:
        exponent = int(round(math.log2(size))) if size > 0 else -1
        if exponent < 0 or 2**exponent != size:
            raise ValueError(f'patch_size {tuple(patch_size)}: every size must be a power of '
                             'two to derive the up-sampling stages; give upsample_factors')
        base, extra = divmod(exponent, num_stages)
        per_axis.append([2**(base + (stage >= num_stages - extra)) for stage in range(num_stages)])
    return [tuple(axis[stage] for axis in per_axis) for stage in range(num_stages)]


@HEADS.register_module()
class UNETRDecoder(nn.Module):
    """The UNETR decoder (Hatamizadeh et al. 2022) for ViT maps of any 3D patch.

    As MONAI's ``UNETR``: of four ViT maps (shallow to deep, e.g. blocks 3/6/9/12 of ViT-B)
    the first three (UNETR's ``z3``, ``z6``, ``z9``) are projected up by transposed
    convolutions (MONAI's ``UnetrPrUpBlock``) to the resolutions of the decoder stages, and
    ``UnetrUpBlock`` stages fuse them with the last map, deepest first; the last skip is a
    conv block on the input volume (``UnetrBasicBlock``). MONAI's ``UNETR`` assumes 16^3
    patches (2x per stage on every axis); here the per-stage factors come from
    ``patch_size`` (:func:`upsample_factors`), so the anisotropic 4 x 16 x 16 patch works
    and the output has the input's shape. A projection path whose stages differ (e.g.
    ``(1,2,2)`` then ``(2,2,2)``) is a chain of one-step ``UnetrPrUpBlock`` s with
    ``UnetrBasicBlock`` convs in between: the same layers as one multi-step
    ``UnetrPrUpBlock(conv_block=True)``, which supports a single factor only.

    Shapes (``G = input / patch_size``, ``f = feature_size``, ``s0..s3`` the stage factors,
    deepest first)::

        skip4  = up(s0)(features[2])            (B, 8f, G * s0)
        skip3  = up(s0, s1)(features[1])        (B, 4f, G * s0 * s1)
        skip2  = up(s0, s1, s2)(features[0])    (B, 2f, G * s0 * s1 * s2)
        skip1  = conv(image)                    (B, f, D, H, W)
        x      = features[3]                    (B, C, *G)
        x      = decoder_i(x, skip_(4-i))       up by s_i, concatenate, conv; i = 0..3
        logits = out(x)                         (B, num_classes, D, H, W)

    Args:
        in_channels: width ``C`` of the ViT maps (filled in by ``VolumeSegmentor``).
        num_classes: output channels (background included).
        patch_size: the ViT's 3D patch ``(D, H, W)`` (filled in by ``VolumeSegmentor``).
        image_channels: channels of the input volume (the first skip).
        feature_size: ``f``, the width of the full-resolution stage (UNETR: 16).
        norm_name: MONAI norm of the conv blocks: ``'instance'``, ``'batch'``, ...
        res_block: residual conv blocks (UNETR's default).
        upsample_factors: ``NUM_STAGES`` per-axis factors, deepest first, whose product is
            ``patch_size``; ``None`` derives them (:func:`upsample_factors`).
    """

    def __init__(self, in_channels: int, num_classes: int,
                 patch_size: int | Sequence[int] = (4, 16, 16), image_channels: int = 1,
                 feature_size: int = 16, norm_name: str | tuple = 'instance',
                 res_block: bool = True,
                 upsample_factors: Sequence[Sequence[int]] | None = None):
        super().__init__()
        if num_classes < 2:
            raise ValueError(f'num_classes must be >= 2 (background + classes), got {num_classes}')
        self.patch_size = ensure_tuple(patch_size, 3, 'patch_size')
        factors = self._check_factors(upsample_factors)
        self.upsample_factors = factors
        self.num_classes = num_classes
        conv = dict(spatial_dims=3, kernel_size=3, norm_name=norm_name, res_block=res_block)
        widths = [feature_size * 2**i for i in range(NUM_STAGES)]  # f, 2f, 4f, 8f
        self.encoder1 = UnetrBasicBlock(in_channels=image_channels, out_channels=widths[0],
                                        stride=1, **conv)
        # encoder{2,3,4}: the maps of features[0, 1, 2], up by the first 3 / 2 / 1 stages
        self.encoder2 = self._projection(in_channels, widths[1], factors[:3], conv)
        self.encoder3 = self._projection(in_channels, widths[2], factors[:2], conv)
        self.encoder4 = self._projection(in_channels, widths[3], factors[:1], conv)
        ups = [in_channels] + widths[::-1]  # C -> 8f -> 4f -> 2f -> f
        self.decoders = nn.ModuleList(
            UnetrUpBlock(spatial_dims=3, in_channels=ups[i], out_channels=ups[i + 1],
                         kernel_size=3, upsample_kernel_size=factors[i], norm_name=norm_name,
                         res_block=res_block) for i in range(NUM_STAGES))
        self.out = UnetOutBlock(spatial_dims=3, in_channels=feature_size,
                                out_channels=num_classes)

    def _check_factors(self, factors) -> list[tuple[int, ...]]:
        if factors is None:
            return upsample_factors(self.patch_size)
        factors = [ensure_tuple(f, 3, 'upsample_factors') for f in factors]
        product = tuple(math.prod(f[axis] for f in factors) for axis in range(3))
        if len(factors) != NUM_STAGES or product != self.patch_size:
            raise ValueError(f'upsample_factors must be {NUM_STAGES} per-axis factors whose '
                             f'product is patch_size {self.patch_size}, got {factors}')
        return factors

    @staticmethod
    def _projection(in_channels: int, out_channels: int, factors: Sequence[tuple],
                    conv: dict) -> nn.Sequential:
        """UNETR's ``UnetrPrUpBlock(num_layer=len(factors) - 1, conv_block=True)`` with one
        factor per step."""
        layers = [UnetrPrUpBlock(spatial_dims=3, in_channels=in_channels,
                                 out_channels=out_channels, num_layer=0, kernel_size=3, stride=1,
                                 upsample_kernel_size=factors[0], norm_name=conv['norm_name'])]
        for factor in factors[1:]:
            layers.append(UnetrPrUpBlock(spatial_dims=3, in_channels=out_channels,
                                         out_channels=out_channels, num_layer=0, kernel_size=3,
                                         stride=1, upsample_kernel_size=factor,
                                         norm_name=conv['norm_name']))
            layers.append(UnetrBasicBlock(in_channels=out_channels, out_channels=out_channels,
                                          stride=1, **conv))
        return nn.Sequential(*layers)

    def forward(self, features: Sequence[torch.Tensor], image: torch.Tensor) -> torch.Tensor:
        """
        Args:
            features: 4 ViT maps ``(B, C, *G)``, shallow to deep, ``G = image / patch``.
            image: the input volume ``(B, image_channels, D, H, W)``.

        Returns:
            logits ``(B, num_classes, D, H, W)``.
        """
        if len(features) != NUM_STAGES:
            raise ValueError(f'UNETRDecoder needs {NUM_STAGES} feature maps, got {len(features)}')
        grid = tuple(s // p for s, p in zip(image.shape[2:], self.patch_size))
        if image.ndim != 5 or any(tuple(f.shape[2:]) != grid for f in features) or any(
                s % p for s, p in zip(image.shape[2:], self.patch_size)):
            raise ValueError(f'image {tuple(image.shape)} must be (B, C, D, H, W) divisible by '
                             f'patch_size {self.patch_size}, with feature maps on its grid '
                             f'{grid}; got {[tuple(f.shape) for f in features]}')
        skips = [self.encoder4(features[2]), self.encoder3(features[1]),
                 self.encoder2(features[0]), self.encoder1(image)]
        x = features[3]
        for decoder, skip in zip(self.decoders, skips):
            x = decoder(x, skip)
        return self.out(x)
