"""ConvStemPatchEmbed: strides per stage, 2D/3D token shapes, positions, use in the ViT."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from unimedi.models.encoders.unified_vit import UnifiedViT
from unimedi.models.tokenizers import ConvStemPatchEmbed
from unimedi.models.tokenizers.conv_stem import stem_strides
from unimedi.registry import TOKENIZERS


@pytest.mark.parametrize('patch, strides', [
    ((16, 16), [(2, 2)] * 4),
    ((8, 8), [(2, 2)] * 3),
    ((4, 16, 16), [(2, 2, 2), (2, 2, 2), (1, 2, 2), (1, 2, 2)]),
    ((1, 4, 4), [(1, 2, 2), (1, 2, 2)]),
])
def test_stem_strides_multiply_to_the_patch(patch, strides):
    assert stem_strides(patch) == strides
    for axis, size in enumerate(patch):
        assert math.prod(s[axis] for s in strides) == size


def test_non_power_of_two_patch_raises():
    with pytest.raises(ValueError, match='power-of-2 patch sizes'):
        ConvStemPatchEmbed(spatial_dims=2, embed_dim=16, patch_size=12, img_size=48)


@pytest.mark.parametrize('spatial_dims, patch, img, in_shape, grid', [
    (2, 8, 32, (2, 1, 32, 32), (4, 4)),
    (2, 8, 32, (3, 1, 48, 24), (6, 3)),
    (3, (2, 8, 8), (8, 32, 32), (2, 1, 8, 32, 32), (4, 4, 4)),
    (3, (4, 8, 8), (8, 32, 32), (1, 1, 12, 16, 40), (3, 2, 5)),
])
def test_token_shape_grid_and_positions(spatial_dims, patch, img, in_shape, grid):
    embed = ConvStemPatchEmbed(spatial_dims=spatial_dims, embed_dim=16, patch_size=patch,
                               img_size=img)
    tokens, out_grid = embed(torch.randn(in_shape))
    assert out_grid == grid
    assert tokens.shape == (in_shape[0], math.prod(grid), 16)
    # the same position table as PatchEmbed, interpolated to another grid
    assert embed.pos_embed.shape == (1, math.prod(embed.grid_size), 16)
    table = embed.position_embedding(out_grid)
    assert table.shape == (1, math.prod(grid), 16)
    if out_grid == embed.grid_size:
        assert torch.equal(table, embed.pos_embed)


def test_stages_widths_and_norm():
    embed = ConvStemPatchEmbed(spatial_dims=3, embed_dim=128, patch_size=(4, 16, 16),
                               img_size=(32, 64, 64))
    assert embed.num_stages == 4
    convs = [m for m in embed.proj.modules() if isinstance(m, nn.Conv3d)]
    assert [c.out_channels for c in convs] == [16, 32, 64, 128, 128]
    assert [c.stride for c in convs] == [(2, 2, 2), (2, 2, 2), (1, 2, 2), (1, 2, 2), (1, 1, 1)]
    assert convs[-1].kernel_size == (1, 1, 1)
    norms = [m for m in embed.proj.modules() if isinstance(m, nn.GroupNorm)]
    assert len(norms) == 4 and all(n.num_groups == 8 for n in norms)
    plain = ConvStemPatchEmbed(spatial_dims=2, embed_dim=24, patch_size=4, img_size=16,
                               channels=(6, 12), norm=None)
    assert not any(isinstance(m, nn.GroupNorm) for m in plain.modules())
    assert [m.out_channels for m in plain.modules() if isinstance(m, nn.Conv2d)] == [6, 12, 24]
    with pytest.raises(ValueError, match='one width per stage'):
        ConvStemPatchEmbed(spatial_dims=2, embed_dim=24, patch_size=4, img_size=16,
                           channels=(6, ))


def test_output_depends_on_neighbouring_patches():
    """Unlike patchify, a 3 x 3 stem sees across patch borders."""
    embed = ConvStemPatchEmbed(spatial_dims=2, embed_dim=8, patch_size=4, img_size=8).eval()
    x = torch.zeros(1, 1, 8, 8)
    base, _ = embed(x)
    x[0, 0, 0, 4] = 1.0  # first pixel of the top-right patch
    moved, _ = embed(x)
    assert not torch.allclose(base[0, 0], moved[0, 0])  # the top-left token changes too


def test_builds_from_registry_in_the_vit():
    vit = UnifiedViT(arch=dict(embed_dim=32, depth=1, num_heads=2), tokenizers={
        '2d': dict(type='ConvStemPatchEmbed', spatial_dims=2, patch_size=8, img_size=32),
        '3d': dict(type='ConvStemPatchEmbed', spatial_dims=3, patch_size=(2, 8, 8),
                   img_size=(4, 32, 32)),
    })
    assert isinstance(vit.tokenizers['2d'], ConvStemPatchEmbed)
    assert vit(torch.randn(2, 1, 32, 32), '2d')['patch'].shape == (2, 16, 32)
    out = vit(torch.randn(2, 1, 4, 32, 32), '3d', return_attention=True)
    assert out['patch'].shape == (2, 32, 32) and out['cls_attention'].shape == (2, 32)
    built = TOKENIZERS.build(dict(type='ConvStemPatchEmbed', embed_dim=8, patch_size=4,
                                  img_size=8))
    assert built.grid_size == (2, 2)
