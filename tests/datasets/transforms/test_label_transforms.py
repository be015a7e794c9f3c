"""RemapLabels (both mapping forms, dataset label maps, TotalSegmentator -> organs on the
real CT) and RandomCropByLabel (foreground odds, geometry kept in step, padding)."""
from __future__ import annotations

import numpy as np
import pytest

from unimedi.datasets.transforms import (LoadMedicalImage, LoadMedicalMask, RandomCropByLabel,
                                         RemapLabels)


def test_remap_by_id_and_by_name():
    labels = np.array([[0, 1, 2], [3, 5, 9]])
    by_id = RemapLabels(mapping={5: 1, 1: 2})(dict(gt_seg=labels))['gt_seg']
    np.testing.assert_array_equal(by_id, [[0, 2, 0], [0, 1, 0]])
    by_name = RemapLabels(mapping=dict(liver=[5], kidneys=[2, 3]))(dict(gt_seg=labels))
    np.testing.assert_array_equal(by_name['gt_seg'], [[0, 0, 2], [2, 1, 0]])
    assert by_name['gt_seg'].dtype == np.int64


def test_remap_with_the_samples_label_map_and_errors():
    out = RemapLabels()(dict(gt_seg=np.array([0, 3, 7]), label_map={3: 1, 7: 1}))
    np.testing.assert_array_equal(out['gt_seg'], [0, 1, 1])
    with pytest.raises(KeyError, match='label_map'):
        RemapLabels()(dict(gt_seg=np.array([0, 1]), img_path='a.nii.gz'))
    with pytest.raises(KeyError, match='after LoadMedicalMask'):
        RemapLabels(mapping={1: 1})(dict(img_path='a.nii.gz'))
    with pytest.raises(ValueError, match='both'):
        RemapLabels(mapping=dict(a=[1], b=[1]))
    with pytest.raises(ValueError, match='empty'):
        RemapLabels(mapping={})


def test_totalsegmentator_to_organs_on_the_real_ct(shared_data):
    ct = shared_data / 'ct'
    results = LoadMedicalMask()(LoadMedicalImage()(dict(
        img_path=str(ct / 'example_ct_sm.nii.gz'), seg_map_path=str(ct / 'example_seg.nii.gz'),
        modality='3d')))
    source = results['gt_seg'].copy()
    lobes = [10, 11, 12, 13, 14]
    organs = RemapLabels(mapping=dict(liver=[5], spleen=[1], lung=lobes))(results)['gt_seg']
    assert (organs == 1).sum() == (source == 5).sum() > 0
    assert (organs == 2).sum() == (source == 1).sum() > 0
    assert (organs == 3).sum() == np.isin(source, lobes).sum() > 0
    assert (organs == 0).sum() == organs.size - np.isin(source, [5, 1] + lobes).sum()


def _sample(shape=(12, 40, 50), box=(slice(2, 4), slice(30, 34), slice(40, 45))) -> dict:
    labels = np.zeros(shape, np.int64)
    labels[box] = 2
    image = np.arange(np.prod(shape), dtype=np.float32).reshape(1, *shape)
    affine = np.diag([3.0, 1.5, 1.5, 1.0])
    affine[:3, 3] = (-10, 20, 5)
    return dict(img=image, gt_seg=labels, affine=affine, spacing=(3.0, 1.5, 1.5),
                img_shape=shape)


def test_positive_crops_hold_foreground_and_keep_image_mask_and_affine_in_step():
    np.random.seed(0)
    transform = RandomCropByLabel(size=(4, 16, 16), pos=1, neg=0)
    for _ in range(10):
        original = _sample()
        out = transform(_sample())
        assert out['img'].shape == (1, 4, 16, 16) and out['gt_seg'].shape == (4, 16, 16)
        assert out['img_shape'] == (4, 16, 16)
        assert (out['gt_seg'] > 0).any()
        # the crop's first voxel: where it was in the image, and the same world point
        offset = np.unravel_index(int(out['img'][0, 0, 0, 0]), original['gt_seg'].shape)
        np.testing.assert_array_equal(
            original['gt_seg'][tuple(slice(o, o + s) for o, s in zip(offset, (4, 16, 16)))],
            out['gt_seg'])
        np.testing.assert_allclose(out['affine'][:3, 3],
                                   (original['affine'] @ np.array([*offset, 1.0]))[:3])


def test_negative_crops_and_padding_of_short_axes():
    np.random.seed(1)
    negative = RandomCropByLabel(size=(4, 8, 8), pos=0, neg=1)
    found = [(negative(_sample())['gt_seg'] > 0).any() for _ in range(10)]
    assert not all(found)  # background centres: mostly no foreground in a small crop
    padded = RandomCropByLabel(size=(16, 16, 16), pad_value=-1.0)(_sample())
    assert padded['img'].shape == (1, 16, 16, 16)
    assert (padded['img'][0, :2] == -1).all() and (padded['img'][0, -2:] == -1).all()
    empty = _sample()
    empty['gt_seg'][:] = 0  # no foreground: a background centre, no error
    assert RandomCropByLabel(size=(4, 8, 8))(empty)['gt_seg'].shape == (4, 8, 8)
    with pytest.raises(KeyError, match='gt_seg'):
        RandomCropByLabel(size=4)(dict(img=np.zeros((1, 4, 4, 4))))
    with pytest.raises(ValueError, match='pos and neg'):
        RandomCropByLabel(size=4, pos=0, neg=0)
