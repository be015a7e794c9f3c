"""UNETRDecoder: the output has the input's shape for isotropic and anisotropic patches."""
import math

import pytest
import torch

from unimedi.models.heads.unetr_decoder import UNETRDecoder, upsample_factors


@pytest.mark.parametrize('patch, volume', [
    ((4, 16, 16), (8, 32, 32)),
    ((4, 16, 16), (12, 64, 48)),
    ((16, 16, 16), (16, 32, 48)),
    ((2, 8, 8), (6, 16, 24)),
])
def test_output_has_the_input_shape(patch, volume):
    decoder = UNETRDecoder(in_channels=16, num_classes=3, patch_size=patch, feature_size=4)
    grid = tuple(s // p for s, p in zip(volume, patch))
    features = [torch.randn(2, 16, *grid) for _ in range(4)]
    logits = decoder(features, torch.randn(2, 1, *volume))
    assert logits.shape == (2, 3, *volume)


def test_upsample_factors_restore_the_patch_deep_stages_in_plane_first():
    assert upsample_factors((4, 16, 16)) == [(1, 2, 2), (1, 2, 2), (2, 2, 2), (2, 2, 2)]
    assert upsample_factors((16, 16, 16)) == [(2, 2, 2)] * 4
    factors = upsample_factors((1, 8, 32))
    assert tuple(math.prod(f[a] for f in factors) for a in range(3)) == (1, 8, 32)


def test_explicit_factors_allow_other_patches():
    factors = [(1, 2, 2), (1, 2, 2), (2, 2, 2), (3, 2, 2)]
    decoder = UNETRDecoder(8, 2, patch_size=(6, 16, 16), feature_size=4,
                           upsample_factors=factors)
    features = [torch.randn(1, 8, 2, 2, 2) for _ in range(4)]
    assert decoder(features, torch.randn(1, 1, 12, 32, 32)).shape == (1, 2, 12, 32, 32)


def test_gradients_reach_every_feature_map_and_the_image_skip():
    decoder = UNETRDecoder(8, 2, patch_size=(4, 16, 16), feature_size=4)
    features = [torch.randn(1, 8, 2, 2, 2, requires_grad=True) for _ in range(4)]
    image = torch.randn(1, 1, 8, 32, 32, requires_grad=True)
    decoder(features, image).sum().backward()
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in features + [image])


def test_bad_arguments_and_inputs_raise():
    with pytest.raises(ValueError, match='power of two'):
        UNETRDecoder(8, 2, patch_size=(6, 16, 16))
    with pytest.raises(ValueError, match='product'):
        UNETRDecoder(8, 2, patch_size=(4, 16, 16), upsample_factors=[(2, 2, 2)] * 4)
    with pytest.raises(ValueError, match='num_classes'):
        UNETRDecoder(8, 1)
    decoder = UNETRDecoder(8, 2, patch_size=(4, 16, 16), feature_size=4)
    with pytest.raises(ValueError, match='4 feature maps'):
        decoder([torch.randn(1, 8, 2, 2, 2)] * 3, torch.randn(1, 1, 8, 32, 32))
    with pytest.raises(ValueError, match='divisible'):
        decoder([torch.randn(1, 8, 2, 2, 2)] * 4, torch.randn(1, 1, 8, 32, 30))
