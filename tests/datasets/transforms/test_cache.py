"""CachedTransforms: the same results from the cache, written once, keyed by file and
transforms, never unpickled."""
from __future__ import annotations

import numpy as np
import pytest
from mmcv.transforms import BaseTransform

from unimedi.datasets.transforms import CachedTransforms
from unimedi.registry import TRANSFORMS


@TRANSFORMS.register_module(force=True)
class _CountingScale(BaseTransform):
    """Doubles ``img``, adds a few kinds of values, drops ``drop_me``; counts its calls."""

    calls = 0

    def __init__(self, factor: float = 2.0):
        self.factor = factor

    def transform(self, results):
        type(self).calls += 1
        results['img'] = results['img'] * self.factor
        results['img_shape'] = tuple(results['img'].shape)
        results['info'] = dict(n=np.int64(3), names=['a', 'b'], nothing=None)
        results.pop('drop_me', None)
        return results

    def __repr__(self):
        return f'_CountingScale(factor={self.factor})'


def _sample(path, value=1.0):
    return dict(img_path=str(path), img=np.full((1, 4, 4), value, np.float32),
                report='kept as is', drop_me=1)


def test_second_call_reads_the_cache_with_the_same_result(tmp_path):
    image = tmp_path / 'a.nii.gz'
    image.write_bytes(b'x')
    cache = CachedTransforms([dict(type='_CountingScale')], cache_dir=str(tmp_path / 'cache'))
    _CountingScale.calls = 0
    first = cache(_sample(image))
    second = cache(_sample(image, value=5.0))  # the cached entry wins: same file, same key
    assert _CountingScale.calls == 1
    assert len(list((tmp_path / 'cache').rglob('*.npz'))) == 1
    for out in (first, second):
        np.testing.assert_array_equal(out['img'], np.full((1, 4, 4), 2.0))
        assert out['img'].dtype == np.float32
        assert out['img_shape'] == (1, 4, 4) and isinstance(out['img_shape'], tuple)
        assert out['info'] == dict(n=3, names=['a', 'b'], nothing=None)
        assert out['report'] == 'kept as is' and 'drop_me' not in out


def test_key_follows_the_file_and_the_transforms(tmp_path):
    import os
    image = tmp_path / 'a.png'
    image.write_bytes(b'x')
    cache = CachedTransforms([dict(type='_CountingScale')], cache_dir=str(tmp_path / 'c'))
    other = CachedTransforms([dict(type='_CountingScale', factor=3.0)],
                             cache_dir=str(tmp_path / 'c'))
    key = cache.entry_path(_sample(image))
    assert other.entry_path(_sample(image)) != key
    assert cache.entry_path(_sample(tmp_path / 'b.png')) != key
    image.write_bytes(b'changed')
    os.utime(image, ns=(1, 1))
    assert cache.entry_path(_sample(image)) != key  # an edited file is recomputed


def test_errors_name_the_problem(tmp_path):
    cache = CachedTransforms([dict(type='_CountingScale')], cache_dir=str(tmp_path))
    with pytest.raises(KeyError, match='img_path'):
        cache(dict(img=np.zeros((1, 2, 2))))
    bad = CachedTransforms([dict(type='_CountingScale')], cache_dir=str(tmp_path / 'b'))
    with pytest.raises(TypeError, match="cannot store 'obj'"):
        bad._write(str(tmp_path / 'b' / 'e.npz'), dict(obj=object()), [])


def test_a_corrupt_entry_is_rebuilt_with_a_warning(tmp_path, capsys):
    import os
    import uuid

    from mmengine.logging import MMLogger

    cache = CachedTransforms([dict(type='_CountingScale')], cache_dir=str(tmp_path))
    path = cache.entry_path(_sample(tmp_path / 'x.png'))
    os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as f:
        f.write(b'not a zip file')
    _CountingScale.calls = 0
    MMLogger.get_instance(f'cache_{uuid.uuid4().hex}')  # the current logger, on captured stdout
    out = cache(_sample(tmp_path / 'x.png'))
    assert _CountingScale.calls == 1
    np.testing.assert_array_equal(out['img'], np.full((1, 4, 4), 2.0))
    printed = capsys.readouterr().out
    assert 'unreadable cache entry' in printed and path in printed and 'WARNING' in printed
    again = cache(_sample(tmp_path / 'x.png', value=7.0))  # the rewritten entry is read
    assert _CountingScale.calls == 1 and float(again['img'].max()) == 2.0
    with open(path, 'rb') as f:  # a truncated entry (an interrupted copy) too
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    cache(_sample(tmp_path / 'x.png'))
    assert _CountingScale.calls == 2


def test_sample_fields_the_transforms_read_are_part_of_the_key(tmp_path):
    from unimedi.datasets.transforms import OverrideHeader

    cache = CachedTransforms([OverrideHeader()], cache_dir=str(tmp_path))
    plain = cache.entry_path(_sample(tmp_path / 'v.nii.gz'))
    spaced = cache.entry_path(dict(_sample(tmp_path / 'v.nii.gz'), override_spacing=[2, 1, 1]))
    masked = cache.entry_path(dict(_sample(tmp_path / 'v.nii.gz'), seg_map_path='m.nii.gz'))
    assert len({plain, spaced, masked}) == 3
    # the key is stable across processes: every transform has a fixed repr
    again = CachedTransforms([OverrideHeader()], cache_dir=str(tmp_path))
    assert again.entry_path(_sample(tmp_path / 'v.nii.gz')) == plain
    assert 'object at 0x' not in repr(cache.transforms)


def test_memory_mode_keeps_entries_in_the_process(tmp_path):
    image = tmp_path / 'a.nii.gz'
    image.write_bytes(b'x')
    other = tmp_path / 'b.nii.gz'
    other.write_bytes(b'y')
    cache = CachedTransforms([dict(type='_CountingScale')], max_items=1)
    _CountingScale.calls = 0
    cache(_sample(image))
    again = cache(_sample(image, value=5.0))
    assert _CountingScale.calls == 1 and float(again['img'].max()) == 2.0
    assert not list(tmp_path.rglob('*.npz'))  # nothing written
    cache(_sample(other))  # evicts the first (max_items=1)
    cache(_sample(image))
    assert _CountingScale.calls == 3
    with pytest.raises(ValueError, match='max_items'):
        CachedTransforms([], max_items=0)


def test_a_real_ct_pipeline_through_the_cache(shared_data, tmp_path):
    steps = [dict(type='LoadMedicalImage'), dict(type='HUWindow', windows='lung'),
             dict(type='MedResize', size=(16, 32, 32), image_mode='area')]
    sample = dict(img_path=str(shared_data / 'ct' / 'example_ct_sm.nii.gz'), modality='3d')
    from mmengine.dataset import Compose
    direct = Compose([TRANSFORMS.build(t) for t in steps])(dict(sample))
    cache = CachedTransforms(steps, cache_dir=str(tmp_path))
    cache(dict(sample))
    again = cache(dict(sample))
    np.testing.assert_array_equal(again['img'], direct['img'])
    np.testing.assert_array_equal(again['affine'], direct['affine'])
    assert again['img_shape'] == direct['img_shape'] and again['spacing'] == direct['spacing']
