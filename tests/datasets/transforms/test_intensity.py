"""HUWindow: CT windows with named presets, several windows as several channels."""
from __future__ import annotations

import numpy as np
import pytest

from unimedi.datasets.transforms import HU_WINDOW_PRESETS, HUWindow, LoadMedicalImage
from unimedi.registry import TRANSFORMS

# The documented presets, (level, width) in HU.
DOCUMENTED = {
    'lung': (-600.0, 1500.0),
    'mediastinum': (50.0, 350.0),
    'abdomen': (50.0, 400.0),
    'bone': (400.0, 1800.0),
    'brain': (40.0, 80.0),
}


def _sample(hu_values, dims: str) -> dict:
    """A one-channel HU image holding ``hu_values`` along its last axis."""
    values = np.asarray(hu_values, np.float32)
    shape = (2, 3, len(values)) if dims == '3d' else (3, len(values))
    img = np.broadcast_to(values, shape)[None].copy()
    return dict(img=img, img_unit='HU', img_path=f'ct_{dims}')


def _expected(hu, level, width):
    return np.clip((np.asarray(hu, np.float64) - (level - width / 2)) / width, 0, 1)


def test_presets_are_the_documented_ones():
    assert HU_WINDOW_PRESETS == DOCUMENTED


@pytest.mark.parametrize('dims', ['2d', '3d'])
@pytest.mark.parametrize('preset,points', [
    # (HU, expected value) at the window bottom, level, top, a quarter and outside
    ('lung', [(-2000, 0.0), (-1350, 0.0), (-975, 0.25), (-600, 0.5), (150, 1.0), (3000, 1.0)]),
    ('mediastinum', [(-1000, 0.0), (-125, 0.0), (50, 0.5), (137.5, 0.75), (225, 1.0)]),
    ('abdomen', [(-150, 0.0), (-50, 0.25), (50, 0.5), (250, 1.0), (400, 1.0)]),
    ('bone', [(-500, 0.0), (-50, 0.25), (400, 0.5), (1300, 1.0), (2000, 1.0)]),
    ('brain', [(-10, 0.0), (0, 0.0), (20, 0.25), (40, 0.5), (80, 1.0), (100, 1.0)]),
])
def test_preset_maps_level_width_to_unit_range(preset, points, dims):
    hu, expected = zip(*points)
    results = HUWindow(preset)(_sample(hu, dims))
    img = results['img']
    assert img.shape == (1, ) + (((2, 3) if dims == '3d' else (3, )) + (len(hu), ))
    assert img.dtype == np.float32 and results['img_unit'] == 'unit'
    for line in img.reshape(-1, len(hu)):
        np.testing.assert_allclose(line, expected, atol=1e-6)


@pytest.mark.parametrize('dims', ['2d', '3d'])
def test_several_windows_give_several_channels(dims):
    hu = np.linspace(-1200, 1500, 28)
    windows = ['lung', 'mediastinum', (300.0, 1000.0), 'brain']
    results = HUWindow(windows)(_sample(hu, dims))
    img = results['img']
    assert img.shape[0] == 4 and img.shape[1:-1] == ((2, 3) if dims == '3d' else (3, ))
    levels = [DOCUMENTED['lung'], DOCUMENTED['mediastinum'], (300.0, 1000.0), DOCUMENTED['brain']]
    for channel, (level, width) in zip(img, levels):
        np.testing.assert_allclose(channel.reshape(-1, len(hu))[0], _expected(hu, level, width),
                                   atol=1e-6)
    assert not np.allclose(img[0], img[1])  # really different windows


def test_single_level_width_pair_and_out_range():
    hu = [-1000, -100, 0, 100, 1000]
    results = HUWindow((0, 200), out_range=(-1.0, 1.0))(_sample(hu, '2d'))
    assert results['img'].shape == (1, 3, 5)
    np.testing.assert_allclose(results['img'][0, 0], [-1.0, -1.0, 0.0, 1.0, 1.0], atol=1e-6)
    # a list of two numbers is one window too
    assert HUWindow([-600, 1500]).windows == [(-600.0, 1500.0)]
    # two preset names are two windows
    assert HUWindow(('lung', 'bone')).windows == [DOCUMENTED['lung'], DOCUMENTED['bone']]


def test_default_is_lung_window():
    assert HUWindow().windows == [DOCUMENTED['lung']]


def test_unknown_preset_names_allowed_presets():
    with pytest.raises(ValueError) as info:
        HUWindow('liver')
    message = str(info.value)
    assert "'liver'" in message
    for name in DOCUMENTED:
        assert name in message
    with pytest.raises(ValueError, match='unknown HU window preset'):
        HUWindow(['lung', 'lungs'])


@pytest.mark.parametrize('bad', [dict(windows=(40, 0)), dict(windows=[(40, -10)]),
                                 dict(out_range=(1.0, 0.0)), dict(out_range=(0.0, 0.5, 1.0))])
def test_bad_arguments(bad):
    with pytest.raises(ValueError):
        HUWindow(**bad)


@pytest.mark.parametrize('unit', ['unit', 'raw'])
def test_non_hu_input_is_refused(unit):
    sample = _sample([0.1, 0.5], '2d')
    sample['img_unit'] = unit
    sample['img_path'] = 'xray.png'
    with pytest.raises(ValueError, match='HU') as info:
        HUWindow('lung')(sample)
    assert 'xray.png' in str(info.value) and unit in str(info.value)


def test_windowing_twice_is_refused():
    results = HUWindow('lung')(_sample([-600.0], '3d'))
    with pytest.raises(ValueError, match='HU'):
        HUWindow('bone')(results)


def test_multichannel_input_is_refused():
    sample = dict(img=np.zeros((2, 4, 4), np.float32), img_unit='HU', img_path='two.nii.gz')
    with pytest.raises(ValueError, match='one channel'):
        HUWindow('lung')(sample)


def test_real_ct_slice_lung_and_bone_windows(shared_data):
    results = LoadMedicalImage()(dict(img_path=str(shared_data / 'dicom' / 'CT_small.dcm')))
    hu = results['img'][0].copy()
    results = TRANSFORMS.build(dict(type='HUWindow', windows=['lung', 'bone']))(results)
    lung, bone = results['img']
    assert results['img'].shape == (2, 128, 128) and results['img_unit'] == 'unit'
    np.testing.assert_allclose(lung, _expected(hu, -600, 1500), atol=1e-6)
    np.testing.assert_allclose(bone, _expected(hu, 400, 1800), atol=1e-6)
    assert lung.min() >= 0 and lung.max() <= 1
    # bone pixels (> 300 HU) are saturated in the lung window but not in the bone window
    dense = hu > 300
    assert dense.any()
    assert np.all(lung[dense] == 1.0) and bone[dense].mean() < 0.9


def test_repr_lists_windows():
    assert 'windows=[(-600.0, 1500.0), (400.0, 1800.0)]' in repr(HUWindow(['lung', 'bone']))
