"""LoadMedicalImage / LoadMedicalMask, and bad input for every loader.

Every bad file must raise :class:`MedicalImageError` whose message names the offending path,
whether it is read with ``read_medical_image``, ``LoadMedicalImage`` or ``LoadMedicalMask``.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from mmengine.logging import MMLogger
from PIL import Image

from unimedi.datasets.transforms import LoadMedicalImage, LoadMedicalMask
from unimedi.io.readers import MedicalImageError, read_medical_image
from unimedi.registry import TRANSFORMS

AFFINE = np.diag([1.5, 1.5, 3.0, 1.0])


# ----------------------------------------------------------------------------- writers
def _png(path: Path, shape=(20, 16), value=None) -> Path:
    pixels = np.full(shape, value, np.uint8) if value is not None else (
        np.arange(np.prod(shape)) % 256).astype(np.uint8).reshape(shape)
    Image.fromarray(pixels).save(path)
    return path


def _nifti(path: Path, data=None, affine=AFFINE) -> Path:
    data = np.arange(8 * 7 * 6, dtype=np.float32).reshape(8, 7, 6) if data is None else data
    nib.save(nib.Nifti1Image(data, affine), str(path))
    return path


def _dicom_copy(source: Path, path: Path, series_uid: str, z: float) -> Path:
    ds = pydicom.dcmread(str(source))
    ds.SeriesInstanceUID = series_uid
    ds.ImagePositionPatient = [0.0, 0.0, z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.save_as(str(path))
    return path


def _garbage(path: Path) -> Path:
    path.write_bytes(b'\x00\x01garbage, not an image\xff' * 40)
    return path


# Each case writes a bad input under tmp and returns
# (path to load, modality the sample claims, offending path for images, for masks).
def _missing(name):
    def make(tmp, data):
        path = tmp / name
        return path, None, path, path
    return make


def _corrupt(name):
    def make(tmp, data):
        path = _garbage(tmp / name)
        return path, None, path, path
    return make


def _empty_png(tmp, data):
    path = tmp / 'empty.png'
    path.write_bytes(b'')
    return path, None, path, path


def _truncated_png(tmp, data):
    raw = _png(tmp / 'full.png', (64, 64)).read_bytes()
    path = tmp / 'truncated.png'
    path.write_bytes(raw[:len(raw) // 2])
    return path, '2d', path, path


def _truncated_nifti(tmp, data):
    raw = _nifti(tmp / 'full.nii.gz', np.random.default_rng(0).random((30, 30, 30))).read_bytes()
    path = tmp / 'truncated.nii.gz'
    path.write_bytes(raw[:len(raw) // 2])
    return path, '3d', path, path


def _truncated_dicom(tmp, data):
    raw = (data / 'dicom' / 'CT_small.dcm').read_bytes()
    path = tmp / 'truncated.dcm'
    path.write_bytes(raw[:len(raw) // 2])
    return path, '2d', path, path


def _mixed_series(tmp, data):
    folder = tmp / 'mixed'
    folder.mkdir()
    source = data / 'dicom' / 'CT_small.dcm'
    _dicom_copy(source, folder / 'a.dcm', '1.2.3.1', 0.0)
    _dicom_copy(source, folder / 'b.dcm', '1.2.3.2', 5.0)
    return folder, '3d', folder, folder


def _series_with_stranger(tmp, data):
    folder = tmp / 'series'
    folder.mkdir()
    source = data / 'dicom' / 'CT_small.dcm'
    _dicom_copy(source, folder / 'a.dcm', '1.2.3.1', 0.0)
    _dicom_copy(source, folder / 'b.dcm', '1.2.3.1', 5.0)
    stranger = folder / 'notes.txt'
    stranger.write_text('this is not a DICOM slice\n' * 20)
    return folder, '3d', stranger, folder  # masks cannot be DICOM folders at all


def _png_as_3d(tmp, data):
    path = _png(tmp / 'flat.png')
    return path, '3d', path, path


def _nifti_as_2d(tmp, data):
    path = _nifti(tmp / 'volume.nii.gz')
    return path, '2d', path, path


def _nifti_4d(tmp, data):
    path = _nifti(tmp / 'three_volumes.nii.gz', np.zeros((8, 7, 6, 3), np.float32))
    return path, '3d', path, path


def _nifti_nan(tmp, data):
    volume = np.zeros((8, 7, 6), np.float32)
    volume[2, 3, 4] = np.nan
    path = _nifti(tmp / 'nan.nii.gz', volume)
    return path, '3d', path, path


def _nifti_inf(tmp, data):
    volume = np.zeros((8, 7, 6), np.float32)
    volume[0, 0, 0] = np.inf
    path = _nifti(tmp / 'inf.nii.gz', volume)
    return path, '3d', path, path


def _float_tiff(tmp, bad, name):
    values = np.linspace(0, 1, 20 * 16, dtype=np.float32).reshape(20, 16)
    values[4:8, 4:8] = bad
    path = tmp / name
    Image.fromarray(values, mode='F').save(path)
    return path


def _nan_tiff(tmp, data):
    path = _float_tiff(tmp, np.nan, 'nan.tif')
    return path, '2d', path, path


def _inf_tiff(tmp, data):
    path = _float_tiff(tmp, np.inf, 'inf.tiff')
    return path, None, path, path


def _nan_dicom(tmp, data):
    ds = pydicom.dcmread(str(data / 'dicom' / 'CT_small.dcm'))
    ds.RescaleSlope = float('nan')  # a broken header: every HU value becomes NaN
    path = tmp / 'nan_slope.dcm'
    ds.save_as(str(path))
    return path, '2d', path, path


BAD_INPUTS = {
    'missing_png': _missing('missing.png'),
    'missing_jpg': _missing('missing.jpg'),
    'missing_dcm': _missing('missing.dcm'),
    'missing_nifti': _missing('missing.nii.gz'),
    'missing_folder': _missing('missing_series'),
    'corrupt_png': _corrupt('corrupt.png'),
    'corrupt_jpg': _corrupt('corrupt.jpg'),
    'corrupt_dcm': _corrupt('corrupt.dcm'),
    'corrupt_nii_gz': _corrupt('corrupt.nii.gz'),
    'corrupt_nii': _corrupt('corrupt.nii'),
    'empty_png': _empty_png,
    'truncated_png': _truncated_png,
    'truncated_nifti': _truncated_nifti,
    'truncated_dcm': _truncated_dicom,
    'mixed_series': _mixed_series,
    'series_with_non_dicom_file': _series_with_stranger,
    'png_as_3d': _png_as_3d,
    'nifti_as_2d': _nifti_as_2d,
    'nifti_4d_three_volumes': _nifti_4d,
    'nan_volume': _nifti_nan,
    'inf_volume': _nifti_inf,
    'nan_tiff': _nan_tiff,
    'inf_tiff': _inf_tiff,
    'nan_dicom': _nan_dicom,
}

LOADERS = ('read_medical_image', 'LoadMedicalImage', 'LoadMedicalMask')


def _load(loader: str, tmp: Path, path: Path, modality: str | None):
    """Load ``path`` with ``loader``; masks get a valid image of the right dimensionality."""
    if loader == 'read_medical_image':
        return read_medical_image(str(path), modality=modality)
    if loader == 'LoadMedicalImage':
        return LoadMedicalImage()(dict(img_path=str(path), modality=modality))
    dims = modality or ('3d' if '.nii' in path.name else '2d')
    image = _png(tmp / 'image.png') if dims == '2d' else _nifti(tmp / 'image.nii.gz')
    results = LoadMedicalImage()(dict(img_path=str(image), modality=dims))
    results['seg_map_path'] = str(path)
    return LoadMedicalMask()(results)


@pytest.mark.parametrize('loader', LOADERS)
@pytest.mark.parametrize('case', sorted(BAD_INPUTS))
def test_bad_input_names_the_offending_path(tmp_path, shared_data, loader, case):
    path, modality, offending_image, offending_mask = BAD_INPUTS[case](tmp_path, shared_data)
    offending = offending_mask if loader == 'LoadMedicalMask' else offending_image
    with pytest.raises(MedicalImageError) as info:
        _load(loader, tmp_path, path, modality)
    assert str(offending) in str(info.value), f'{case}: {info.value}'
    assert info.value.path.startswith(str(path)) or info.value.path == str(offending)


@pytest.mark.parametrize('loader', ('read_medical_image', 'LoadMedicalImage'))
def test_missing_files_say_not_found(tmp_path, loader):
    for name in ('missing.png', 'missing.nii.gz', 'missing.dcm', 'missing_series'):
        with pytest.raises(MedicalImageError, match='not found'):
            _load(loader, tmp_path, tmp_path / name, None)


def test_nan_mask_is_refused_not_cast(tmp_path):
    """A NaN label volume must not silently become huge integer labels."""
    mask = np.zeros((8, 7, 6), np.float32)
    mask[1, 1, 1] = np.nan
    path = _nifti(tmp_path / 'nan_mask.nii.gz', mask)
    with pytest.raises(MedicalImageError, match='NaN') as info:
        read_medical_image(str(path), as_mask=True)
    assert str(path) in str(info.value)


@pytest.mark.parametrize('dims', ['2d', '3d'])
def test_mask_with_other_shape_names_both_files(tmp_path, dims):
    if dims == '2d':
        image, mask = _png(tmp_path / 'img.png', (20, 16)), _png(tmp_path / 'm.png', (20, 15), 1)
    else:
        image = _nifti(tmp_path / 'img.nii.gz')
        mask = _nifti(tmp_path / 'm.nii.gz', np.zeros((8, 7, 5), np.uint8))
    results = LoadMedicalImage(modality=dims)(dict(img_path=str(image)))
    results['seg_map_path'] = str(mask)
    with pytest.raises(MedicalImageError, match='shape') as info:
        LoadMedicalMask()(results)
    assert str(mask) in str(info.value) and str(image) in str(info.value)
    assert 'gt_seg' not in results


@pytest.mark.parametrize('shift', [np.array([5.0, 0, 0]), np.array([0, 0, 0.5])])
def test_mask_with_other_affine_names_both_files(tmp_path, shift):
    image = _nifti(tmp_path / 'img.nii.gz')
    affine = AFFINE.copy()
    affine[:3, 3] += shift
    mask = _nifti(tmp_path / 'm.nii.gz', np.zeros((8, 7, 6), np.uint8), affine)
    results = LoadMedicalImage()(dict(img_path=str(image), modality='3d'))
    results['seg_map_path'] = str(mask)
    with pytest.raises(MedicalImageError, match='affine') as info:
        LoadMedicalMask()(results)
    assert str(mask) in str(info.value) and str(image) in str(info.value)


def test_mask_with_flipped_axis_is_not_aligned(tmp_path):
    """Same shape, same spacing but a mirrored axis: refused, not silently loaded."""
    image = _nifti(tmp_path / 'img.nii.gz')
    affine = np.diag([-1.5, 1.5, 3.0, 1.0])
    mask = _nifti(tmp_path / 'm.nii.gz', np.zeros((8, 7, 6), np.uint8), affine)
    results = LoadMedicalImage()(dict(img_path=str(image), modality='3d'))
    results['seg_map_path'] = str(mask)
    with pytest.raises(MedicalImageError, match='affine'):
        LoadMedicalMask()(results)


def test_mask_affine_within_tolerance_is_accepted(tmp_path):
    image = _nifti(tmp_path / 'img.nii.gz')
    affine = AFFINE.copy()
    affine[0, 3] += 1e-3
    mask = _nifti(tmp_path / 'm.nii.gz', np.ones((8, 7, 6), np.uint8), affine)
    results = LoadMedicalImage()(dict(img_path=str(image), modality='3d'))
    results['seg_map_path'] = str(mask)
    assert LoadMedicalMask()(results)['gt_seg'].shape == (6, 7, 8)


# ----------------------------------------------------------------------------- good input
@pytest.mark.parametrize('bits', [8, 16])
def test_load_png_scaled_by_bit_depth(tmp_path, bits):
    dtype, top = (np.uint8, 255) if bits == 8 else (np.uint16, 65535)
    values = (np.linspace(0, top, 30 * 20).reshape(30, 20)).astype(dtype)
    Image.fromarray(values).save(tmp_path / 'x.png')
    results = LoadMedicalImage()(dict(img_path=str(tmp_path / 'x.png')))
    assert results['img'].shape == (1, 30, 20) and results['img'].dtype == np.float32
    np.testing.assert_allclose(results['img'][0], values / top, rtol=1e-6)
    assert results['img_unit'] == 'unit' and results['modality'] == '2d'
    assert results['img_shape'] == results['ori_shape'] == (30, 20)
    assert results['spacing'] == (1.0, 1.0) and results['affine'] is None


def test_load_rgb_png_as_grey(tmp_path):
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 10, 200, 60
    Image.fromarray(rgb).save(tmp_path / 'c.png')
    results = LoadMedicalImage(modality='2d')(dict(img_path=str(tmp_path / 'c.png')))
    assert results['img'].shape == (1, 4, 6)
    grey = (10 * 299 + 200 * 587 + 60 * 114) / 1000 / 255
    np.testing.assert_allclose(results['img'], grey, atol=1 / 255)


def test_load_image_and_mask_3d_real(shared_data):
    ct = shared_data / 'ct'
    results = dict(img_path=str(ct / 'example_ct_sm.nii.gz'),
                   seg_map_path=str(ct / 'example_seg.nii.gz'), modality='3d')
    results = LoadMedicalImage()(results)
    results = LoadMedicalMask()(results)
    assert results['img'].shape == (1, 30, 101, 122) and results['img'].dtype == np.float32
    assert results['gt_seg'].shape == (30, 101, 122) and results['gt_seg'].dtype == np.int64
    assert results['img_unit'] == 'HU'
    assert results['spacing'] == pytest.approx((3.0, 3.0, 3.0))
    assert results['affine'].shape == (4, 4)
    assert results['gt_seg'].max() > 100  # multi-label kept
    binary = LoadMedicalMask(binary=True)(dict(results))['gt_seg']
    np.testing.assert_array_equal(binary, (results['gt_seg'] > 0).astype(np.int64))


def test_load_dicom_series_and_modality_recorded(shared_data):
    results = LoadMedicalImage()(dict(img_path=str(shared_data / 'dicom' / 'CT_small.dcm')))
    assert results['modality'] == '2d' and results['img_unit'] == 'HU'
    assert results['img'].shape == (1, 128, 128)


@pytest.mark.parametrize('dims', ['2d', '3d'])
def test_load_mask_binary_and_raw(tmp_path, dims):
    if dims == '2d':
        image = _png(tmp_path / 'img.png', (20, 16))
        labels = np.zeros((20, 16), np.uint8)
        labels[5:9, 3:7] = 255
        labels[12, 12] = 3
        Image.fromarray(labels).save(tmp_path / 'm.png')
        mask, expected = tmp_path / 'm.png', labels
    else:
        image = _nifti(tmp_path / 'img.nii.gz')
        labels = np.zeros((8, 7, 6), np.uint8)
        labels[2:4, 1:3, 0:2] = 7
        labels[6, 6, 5] = 2
        mask = _nifti(tmp_path / 'm.nii.gz', labels)
        expected = labels.transpose(2, 1, 0)
    results = LoadMedicalImage()(dict(img_path=str(image), seg_map_path=str(mask),
                                      modality=dims))
    raw = LoadMedicalMask()(dict(results))['gt_seg']
    assert raw.dtype == np.int64
    np.testing.assert_array_equal(raw, expected)
    binary = LoadMedicalMask(binary=True)(dict(results))['gt_seg']
    np.testing.assert_array_equal(binary, (expected > 0).astype(np.int64))


def test_loading_required_keys():
    with pytest.raises(KeyError, match='img_path'):
        LoadMedicalImage()(dict())
    with pytest.raises(KeyError, match='seg_map_path'):
        LoadMedicalMask()(dict(img=np.zeros((1, 2, 2)), img_path='x.png'))
    with pytest.raises(KeyError, match='LoadMedicalImage'):
        LoadMedicalMask()(dict(seg_map_path='m.png', img_path='x.png'))
    with pytest.raises(ValueError, match='modality'):
        LoadMedicalImage(modality='4d')


def test_forced_modality_overrides_sample(tmp_path):
    path = _png(tmp_path / 'x.png')
    with pytest.raises(MedicalImageError, match='expected a 3d image') as info:
        LoadMedicalImage(modality='3d')(dict(img_path=str(path), modality='2d'))
    assert str(path) in str(info.value)


def test_transforms_are_registered():
    for name in ('LoadMedicalImage', 'LoadMedicalMask'):
        assert TRANSFORMS.get(name) is not None
    load = TRANSFORMS.build(dict(type='LoadMedicalImage', modality='2d'))
    assert isinstance(load, LoadMedicalImage) and 'modality=2d' in repr(load)


# ----------------------------------------------------------------------------- on_error
class _Messages(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    @property
    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == logging.WARNING]


@pytest.fixture
def logged():
    """The WARNING messages of the current MMLogger while the test runs."""
    logger, handler = MMLogger.get_current_instance(), _Messages()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_on_error_skip_logs_the_file_and_returns_none(tmp_path, logged):
    path = _float_tiff(tmp_path, np.nan, 'nan.tif')
    assert LoadMedicalImage(on_error='skip')(dict(img_path=str(path), modality='2d')) is None
    assert len(logged.warnings) == 1
    message = logged.warnings[0]
    assert str(path) in message and 'NaN or infinite' in message and 'skip' in message
    good = _png(tmp_path / 'good.png')
    results = LoadMedicalImage(on_error='skip')(dict(img_path=str(good)))
    assert results['img'].shape == (1, 20, 16) and len(logged.warnings) == 1


def test_on_error_raise_is_the_default(tmp_path, logged):
    path = _float_tiff(tmp_path, np.nan, 'nan.tif')
    for load in (LoadMedicalImage(), LoadMedicalImage(on_error='raise')):
        with pytest.raises(MedicalImageError, match='NaN or infinite') as info:
            load(dict(img_path=str(path)))
        assert info.value.path == str(path)
    assert not logged.warnings


def test_on_error_skip_still_raises_configuration_errors():
    with pytest.raises(KeyError, match='img_path'):
        LoadMedicalImage(on_error='skip')(dict())


def test_bad_on_error_value():
    with pytest.raises(ValueError, match=r"on_error must be one of \('raise', 'skip'\), got "
                       r"'ignore'"):
        LoadMedicalImage(on_error='ignore')


def test_on_error_repr_keeps_cache_keys_of_the_default():
    assert 'on_error' not in repr(LoadMedicalImage())  # CachedTransforms keys by the repr
    assert "on_error='skip'" in repr(LoadMedicalImage(on_error='skip'))


def _nan_and_good_manifest(tmp_path) -> tuple[Path, Path, Path]:
    bad = _float_tiff(tmp_path, np.nan, 'nan.tif')
    good = _png(tmp_path / 'good.png')
    rows = [dict(path=bad.name, modality='2d', report='FINDINGS: none.'),
            dict(path=good.name, modality='2d', report='FINDINGS: none.')]
    manifest = tmp_path / 'manifest.jsonl'
    manifest.write_text(''.join(json.dumps(row) + '\n' for row in rows))
    return manifest, bad, good


def test_dataset_skips_a_nan_image_in_training(tmp_path, logged):
    from unimedi.datasets import ImageReportDataset

    manifest, bad, good = _nan_and_good_manifest(tmp_path)
    dataset = ImageReportDataset(str(manifest), data_root=str(tmp_path),
                                 pipeline=[dict(type='LoadMedicalImage', on_error='skip')])
    assert dataset.get_data_info(0)['img_path'] == str(bad)
    sample = dataset[0]  # MMEngine refetches a random other index when the pipeline gives None
    assert sample['img_path'] == str(good)
    assert sample['img'].shape == (1, 20, 16) and np.isfinite(sample['img']).all()
    assert logged.warnings and all(str(bad) in m for m in logged.warnings)
    assert 'NaN or infinite' in logged.warnings[0]


def test_dataset_in_test_mode_refuses_the_skipped_image_after_naming_it(tmp_path, logged):
    """MMEngine raises a bare ``Exception`` for ``None`` in test mode; the warning names the
    file."""
    from unimedi.datasets import ImageReportDataset

    manifest, bad, _ = _nan_and_good_manifest(tmp_path)
    dataset = ImageReportDataset(str(manifest), data_root=str(tmp_path), test_mode=True,
                                 pipeline=[dict(type='LoadMedicalImage', on_error='skip')])
    with pytest.raises(Exception, match='should not get `None`'):
        dataset[0]
    assert len(logged.warnings) == 1 and str(bad) in logged.warnings[0]
