"""Vision tokenizers: patch embeddings for 2D images and 3D volumes (``TOKENIZERS``)."""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from unimedi.registry import TOKENIZERS


def ensure_tuple(value: int | Sequence[int], spatial_dims: int, name: str) -> tuple[int, ...]:
    """An int or a sequence of ``spatial_dims`` ints -> a tuple of ``spatial_dims`` ints."""
    if isinstance(value, int):
        return (value, ) * spatial_dims
    value = tuple(int(v) for v in value)
    if len(value) != spatial_dims:
        raise ValueError(f'{name} needs {spatial_dims} values for spatial_dims={spatial_dims}, '
                         f'got {value}')
    return value


def resample_pos_embed(pos_embed: torch.Tensor, old_grid: Sequence[int],
                       new_grid: Sequence[int]) -> torch.Tensor:
    """Interpolate a ``(1, prod(old_grid), C)`` position table to ``new_grid``.

    Bicubic for 2D grids, trilinear for 3D grids.
    """
    if tuple(old_grid) == tuple(new_grid):
        return pos_embed
    dims = len(old_grid)
    channels = pos_embed.shape[-1]
    table = pos_embed.reshape(1, *old_grid, channels).movedim(-1, 1)
    mode = 'bicubic' if dims == 2 else 'trilinear'
    table = F.interpolate(table.float(), size=tuple(new_grid), mode=mode, align_corners=False)
    return table.movedim(1, -1).reshape(1, -1, channels).to(pos_embed.dtype)


@TOKENIZERS.register_module()
class PatchEmbed(nn.Module):
    """Split an image or volume into patches and embed them, with learned positions.

    One class for 2D and 3D through ``spatial_dims``; the position table is learned on the
    grid of ``img_size`` and interpolated for other input sizes.

    Args:
        spatial_dims: 2 (``(N, C, H, W)``) or 3 (``(N, C, D, H, W)``).
        in_channels: input channels.
        embed_dim: token width.
        patch_size: int or per-axis sizes (default 16 in 2D, ``(4, 16, 16)`` in 3D).
        img_size: the input size the position table is laid out for.
    """

    def __init__(self, spatial_dims: int = 2, in_channels: int = 1, embed_dim: int = 768,
                 patch_size: int | Sequence[int] | None = None,
                 img_size: int | Sequence[int] | None = None):
        super().__init__()
        if spatial_dims not in (2, 3):
            raise ValueError(f'spatial_dims must be 2 or 3, got {spatial_dims}')
        if patch_size is None:
            patch_size = 16 if spatial_dims == 2 else (4, 16, 16)
        if img_size is None:
            img_size = 224 if spatial_dims == 2 else (32, 128, 128)
        self.spatial_dims = spatial_dims
        self.in_channels = in_channels
        self.embed_dim = embed_dim
        self.patch_size = ensure_tuple(patch_size, spatial_dims, 'patch_size')
        self.img_size = ensure_tuple(img_size, spatial_dims, 'img_size')
        for size, patch in zip(self.img_size, self.patch_size):
            if size % patch:
                raise ValueError(f'img_size {self.img_size} must be divisible by patch_size '
                                 f'{self.patch_size}')
        self.grid_size = tuple(s // p for s, p in zip(self.img_size, self.patch_size))
        conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
        self.proj = conv(in_channels, embed_dim, kernel_size=self.patch_size,
                         stride=self.patch_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, math.prod(self.grid_size), embed_dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)

    def grid_for(self, spatial_shape: Sequence[int]) -> tuple[int, ...]:
        """The token grid of an input of ``spatial_shape`` (checks divisibility)."""
        if len(spatial_shape) != self.spatial_dims:
            raise ValueError(
                f'expected {self.spatial_dims} spatial dims, got {tuple(spatial_shape)}')
        for size, patch in zip(spatial_shape, self.patch_size):
            if size % patch:
                raise ValueError(f'input size {tuple(spatial_shape)} is not divisible by '
                                 f'patch_size {self.patch_size}')
        return tuple(s // p for s, p in zip(spatial_shape, self.patch_size))

    def position_embedding(self, grid: Sequence[int]) -> torch.Tensor:
        """``(1, prod(grid), C)`` positions for a token grid."""
        return resample_pos_embed(self.pos_embed, self.grid_size, grid)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
        """Embed patches (positions are added by the encoder, after token masking).

        Args:
            x: ``(N, C, H, W)`` or ``(N, C, D, H, W)``.

        Returns:
            tokens ``(N, L, embed_dim)`` with ``L = prod(grid)``, and the grid.
        """
        if x.ndim != self.spatial_dims + 2:
            raise ValueError(f'{self.spatial_dims}D patch embedding expects '
                             f'{self.spatial_dims + 2} dims, got shape {tuple(x.shape)}')
        if x.shape[1] != self.in_channels:
            raise ValueError(f'expected {self.in_channels} input channels, got {x.shape[1]}')
        grid = self.grid_for(x.shape[2:])
        tokens = self.proj(x).flatten(2).transpose(1, 2)
        return tokens, grid


@TOKENIZERS.register_module()
class PatchEmbed2D(PatchEmbed):
    """:class:`PatchEmbed` with ``spatial_dims=2`` (16 x 16 patches, 224 x 224 positions)."""

    def __init__(self, **kwargs):
        super().__init__(spatial_dims=2, **kwargs)


@TOKENIZERS.register_module()
class PatchEmbed3D(PatchEmbed):
    """:class:`PatchEmbed` with ``spatial_dims=3`` (4 x 16 x 16 patches, 32 x 128 x 128)."""

    def __init__(self, **kwargs):
        super().__init__(spatial_dims=3, **kwargs)
