"""MonaiIntensity: MONAI's intensity augmentations on ``img``, seeded by the run's NumPy seed."""
from __future__ import annotations

import numpy as np
import pytest
from monai.transforms import RandScaleIntensity, ScaleIntensityRange

from unimedi.datasets.transforms import MonaiIntensity
from unimedi.registry import TRANSFORMS


def _sample(dims: str) -> dict:
    shape = (1, 4, 6, 5) if dims == '3d' else (1, 6, 5)
    img = np.random.default_rng(0).random(shape, dtype=np.float32)
    return dict(img=img, img_path=f'case_{dims}', lesion_slices=[1, 2])


@pytest.mark.parametrize('dims', ['2d', '3d'])
def test_deterministic_transform_matches_monai(dims):
    sample = _sample(dims)
    expected = ScaleIntensityRange(0.0, 1.0, -1.0, 1.0)(sample['img'].copy())
    out = MonaiIntensity(dict(type='ScaleIntensityRange', a_min=0.0, a_max=1.0, b_min=-1.0,
                              b_max=1.0))(dict(sample))
    assert isinstance(out['img'], np.ndarray) and out['img'].dtype == np.float32
    np.testing.assert_allclose(out['img'], np.asarray(expected), atol=1e-6)
    assert out['lesion_slices'] == [1, 2]


def test_random_transform_follows_numpy_seed():
    transform = TRANSFORMS.build(dict(type='MonaiIntensity',
                                      transform=dict(type='RandScaleIntensity', factors=0.5,
                                                     prob=1.0)))
    draws = []
    for seed in (0, 0, 1):
        np.random.seed(seed)
        draws.append(transform(_sample('2d'))['img'])
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.allclose(draws[0], draws[2])
    # the same factor for every pixel, as MONAI's transform with that seed draws it
    np.random.seed(0)
    seed = np.random.randint(0, 2**31 - 1)
    reference = RandScaleIntensity(factors=0.5, prob=1.0)
    reference.set_random_state(seed=seed)
    np.testing.assert_allclose(draws[0], np.asarray(reference(_sample('2d')['img'])), atol=1e-6)


@pytest.mark.parametrize('transform, message', [
    (dict(type='RandAffine', prob=1.0), 'spatial transform'),
    (dict(type='RandScaleIntensityd', keys='img', factors=0.1), 'dictionary transform'),
    (dict(type='NoSuchTransform'), 'has no transform'),
    ('RandScaleIntensity', 'dict\\(type=NAME'),
])
def test_bad_transforms_are_refused(transform, message):
    with pytest.raises((TypeError, ValueError), match=message):
        MonaiIntensity(transform)


def test_repr_names_the_monai_transform():
    assert repr(MonaiIntensity(dict(type='RandShiftIntensity', offsets=0.05))) == \
        'MonaiIntensity(RandShiftIntensity(offsets=0.05))'
