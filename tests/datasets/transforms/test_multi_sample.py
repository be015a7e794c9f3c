"""MultiSample: several random crops of one loaded volume, flattened into the batch."""
import numpy as np
import pytest
import torch
from mmengine.registry import FUNCTIONS

from unimedi.datasets.transforms import MultiSample


def _volume():
    img = np.arange(16 * 16 * 16, dtype=np.float32).reshape(1, 16, 16, 16)
    seg = np.zeros((16, 16, 16), np.int64)
    seg[2:5, 2:5, 2:5] = 1
    return dict(img=img, gt_seg=seg, img_path='ct.nii.gz', modality='3d', img_shape=(16, 16, 16),
                affine=np.eye(4), spacing=(1.0, 1.0, 1.0))


def test_each_view_is_a_crop_of_the_one_loaded_volume():
    np.random.seed(0)
    wrapper = MultiSample(num_samples=4, transforms=[
        dict(type='RandomCropByLabel', size=(8, 8, 8), pos=1, neg=1),
        dict(type='PackMedInputs')])
    views = wrapper(_volume())
    assert isinstance(views, list) and len(views) == 4
    full = torch.from_numpy(_volume()['img'])
    origins = set()
    for view in views:
        crop = view['inputs']
        assert crop.shape == (1, 8, 8, 8)
        first = int(crop[0, 0, 0, 0])  # the crop's corner value locates it in the volume
        d, h, w = np.unravel_index(first, (16, 16, 16))
        torch.testing.assert_close(crop, full[:, d:d + 8, h:h + 8, w:w + 8])
        origins.add((d, h, w))
    assert len(origins) > 1  # independent draws
    with pytest.raises(ValueError, match='num_samples'):
        MultiSample(transforms=[], num_samples=0)


def test_flat_collate_makes_one_batch_of_all_views():
    import unimedi.datasets  # noqa: F401  (registers the collate function)

    # the name a config gives (MMEngine's Runner looks collate functions up in its root)
    collate = FUNCTIONS.get('unimedi.flat_pseudo_collate')
    wrapper = MultiSample(num_samples=3, transforms=[
        dict(type='MedRandomCrop', size=(8, 8, 8)), dict(type='PackMedInputs')])
    batch = collate([wrapper(_volume()), wrapper(_volume())])
    assert len(batch['inputs']) == 6 and len(batch['data_samples']) == 6
    single = collate([{'inputs': torch.zeros(1), 'data_samples': None}])
    assert len(single['inputs']) == 1  # plain items pass as pseudo_collate does
