"""PatchEmbed: 2D/3D token shapes, position-table interpolation and input checks."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from unimedi.models.tokenizers.patch_embed import (PatchEmbed, PatchEmbed2D, PatchEmbed3D,
                                                   resample_pos_embed)
from unimedi.registry import TOKENIZERS


@pytest.mark.parametrize('spatial_dims, patch, img, in_shape, grid', [
    (2, 8, 32, (2, 1, 32, 32), (4, 4)),
    (2, (4, 8), (16, 32), (2, 1, 16, 32), (4, 4)),
    (2, 8, 32, (3, 1, 48, 24), (6, 3)),
    (3, (2, 8, 8), (8, 32, 32), (2, 1, 8, 32, 32), (4, 4, 4)),
    (3, (4, 8, 8), (8, 32, 32), (1, 1, 12, 16, 40), (3, 2, 5)),
])
def test_token_shape_and_grid(spatial_dims, patch, img, in_shape, grid):
    embed = PatchEmbed(spatial_dims=spatial_dims, in_channels=1, embed_dim=12,
                       patch_size=patch, img_size=img)
    tokens, out_grid = embed(torch.randn(in_shape))
    assert out_grid == grid
    assert tokens.shape == (in_shape[0], math.prod(grid), 12)
    # the position table matches the grid of img_size, and the grid of an input size too
    assert embed.pos_embed.shape == (1, math.prod(embed.grid_size), 12)
    assert embed.position_embedding(out_grid).shape == (1, math.prod(grid), 12)


def test_tokens_are_the_patch_projection_in_row_major_order():
    embed = PatchEmbed(spatial_dims=3, in_channels=2, embed_dim=5, patch_size=(2, 4, 4),
                       img_size=(4, 8, 8))
    x = torch.randn(1, 2, 4, 8, 12)
    tokens, grid = embed(x)
    assert grid == (2, 2, 3)
    weight, bias = embed.proj.weight, embed.proj.bias
    for index in (0, 4, 11):
        d, rest = divmod(index, grid[1] * grid[2])
        h, w = divmod(rest, grid[2])
        patch = x[0, :, 2 * d:2 * d + 2, 4 * h:4 * h + 4, 4 * w:4 * w + 4]
        expected = (weight * patch).flatten(1).sum(1) + bias
        torch.testing.assert_close(tokens[0, index], expected, atol=1e-5, rtol=1e-5)


def test_defaults_and_subclasses():
    two = PatchEmbed2D(embed_dim=8)
    three = PatchEmbed3D(embed_dim=8)
    assert (two.patch_size, two.img_size, two.grid_size) == ((16, 16), (224, 224), (14, 14))
    assert (three.patch_size, three.img_size, three.grid_size) == ((4, 16, 16), (32, 128, 128),
                                                                   (8, 8, 8))
    built = TOKENIZERS.build(dict(type='PatchEmbed3D', embed_dim=8, patch_size=(2, 8, 8),
                                  img_size=(4, 16, 16)))
    assert isinstance(built, PatchEmbed3D) and built.grid_size == (2, 2, 2)


@pytest.mark.parametrize('spatial_dims, patch, img', [(2, 8, (32, 32)),
                                                      (3, (2, 8, 8), (8, 32, 32))])
def test_position_table_identity_on_same_grid(spatial_dims, patch, img):
    embed = PatchEmbed(spatial_dims=spatial_dims, embed_dim=6, patch_size=patch, img_size=img)
    same = embed.position_embedding(embed.grid_size)
    assert torch.equal(same, embed.pos_embed)
    assert torch.equal(resample_pos_embed(embed.pos_embed, embed.grid_size, embed.grid_size),
                       embed.pos_embed)


@pytest.mark.parametrize('spatial_dims, patch, img, new_grid', [
    (2, 8, (32, 32), (6, 3)),
    (2, 8, (32, 32), (8, 8)),
    (3, (2, 8, 8), (8, 32, 32), (2, 5, 6)),
])
def test_position_table_interpolation(spatial_dims, patch, img, new_grid):
    embed = PatchEmbed(spatial_dims=spatial_dims, embed_dim=6, patch_size=patch, img_size=img)
    table = embed.position_embedding(new_grid)
    assert table.shape == (1, math.prod(new_grid), 6)
    assert table.dtype == embed.pos_embed.dtype
    # agrees with interpolating the (1, C, *grid) table directly
    grid_table = embed.pos_embed.reshape(1, *embed.grid_size, 6).movedim(-1, 1)
    mode = 'bicubic' if spatial_dims == 2 else 'trilinear'
    expected = F.interpolate(grid_table, size=new_grid, mode=mode, align_corners=False)
    torch.testing.assert_close(table, expected.movedim(1, -1).reshape(1, -1, 6))
    # the gradient flows back to the learned table
    table.sum().backward()
    assert embed.pos_embed.grad is not None and embed.pos_embed.grad.abs().sum() > 0


def test_constant_table_stays_constant_after_interpolation():
    embed = PatchEmbed(spatial_dims=3, embed_dim=3, patch_size=(2, 4, 4), img_size=(4, 8, 8))
    with torch.no_grad():
        embed.pos_embed.copy_(torch.tensor([1.0, -2.0, 0.5]).expand_as(embed.pos_embed))
    table = embed.position_embedding((3, 5, 1))
    torch.testing.assert_close(table, torch.tensor([1.0, -2.0, 0.5]).expand(1, 15, 3))


@pytest.mark.parametrize('spatial_dims, shape, match', [
    (2, (1, 1, 1, 32, 32), 'expects 4 dims'),
    (2, (1, 32, 32), 'expects 4 dims'),
    (3, (1, 1, 32, 32), 'expects 5 dims'),
    (2, (1, 3, 32, 32), 'expected 1 input channels, got 3'),
    (3, (1, 2, 8, 32, 32), 'expected 1 input channels, got 2'),
    (2, (1, 1, 30, 32), 'not divisible by patch_size'),
    (3, (1, 1, 7, 32, 32), 'not divisible by patch_size'),
])
def test_bad_inputs_raise(spatial_dims, shape, match):
    patch = 8 if spatial_dims == 2 else (2, 8, 8)
    img = 32 if spatial_dims == 2 else (8, 32, 32)
    embed = PatchEmbed(spatial_dims=spatial_dims, embed_dim=4, patch_size=patch, img_size=img)
    with pytest.raises(ValueError, match=match):
        embed(torch.zeros(shape))


@pytest.mark.parametrize('kwargs, match', [
    (dict(spatial_dims=1), 'spatial_dims must be 2 or 3'),
    (dict(spatial_dims=2, patch_size=8, img_size=30), 'must be divisible by patch_size'),
    (dict(spatial_dims=3, patch_size=(4, 8), img_size=(8, 32, 32)), 'patch_size needs 3'),
    (dict(spatial_dims=2, patch_size=8, img_size=(8, 32, 32)), 'img_size needs 2'),
])
def test_bad_constructor_args_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PatchEmbed(embed_dim=4, **kwargs)


def test_grid_for_checks_spatial_rank():
    embed = PatchEmbed(spatial_dims=2, embed_dim=4, patch_size=8, img_size=32)
    assert embed.grid_for((16, 40)) == (2, 5)
    with pytest.raises(ValueError, match='expected 2 spatial dims'):
        embed.grid_for((8, 16, 40))
