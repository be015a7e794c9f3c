"""Readers on real medical files: intensities, geometry and orientation.

Bad-input behaviour of every loader (this module's ``read_medical_image`` included) is
covered in ``tests/datasets/transforms/test_loading.py``; here are the reader-level facts.
"""
from __future__ import annotations

import ast
import os
import warnings

import nibabel as nib
import nibabel.orientations as nio
import numpy as np
import pydicom
import pytest
from PIL import Image

from unimedi.io.readers import (MedicalImage, MedicalImageError, file_kind, read_dicom_series,
                                read_image_2d, read_medical_image, read_nifti)

LUNG_LOBES = ('lung_upper_lobe_left', 'lung_lower_lobe_left', 'lung_upper_lobe_right',
              'lung_middle_lobe_right', 'lung_lower_lobe_right')


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def ct_dir(shared_data):
    return shared_data / 'ct'


@pytest.fixture(scope='module')
def total_labels(ct_dir) -> dict[str, int]:
    """TotalSegmentator ``total`` class map as name -> label id (parsed, not executed)."""
    tree = ast.parse((ct_dir / 'totalseg_class_map.txt').read_text())
    assign = next(n for n in tree.body if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], 'id', None) == 'class_map')
    class_map = ast.literal_eval(assign.value)
    return {name: label for label, name in class_map['total'].items()}


@pytest.fixture(scope='module')
def series(ct_dir) -> MedicalImage:
    """The 20-slice 512x512 DICOM series, read once for the module (~1 s)."""
    return read_medical_image(str(ct_dir / 'example_ct_dicom'), modality='3d')


@pytest.fixture(scope='module')
def series_mask(ct_dir) -> MedicalImage:
    return read_medical_image(str(ct_dir / 'example_seg_dicom.nii.gz'), as_mask=True)


@pytest.fixture(scope='module')
def series_files(ct_dir) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(path, ImagePositionPatient, HU pixels) of each file, read independently with pydicom."""
    folder = ct_dir / 'example_ct_dicom'
    out = []
    for name in sorted(os.listdir(folder)):
        ds = pydicom.dcmread(str(folder / name))
        hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(
            ds.RescaleIntercept)
        out.append((str(folder / name), np.asarray(ds.ImagePositionPatient, float), hu))
    return out


def _world(affine: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``(N, 3)`` voxel indices -> ``(N, 3)`` world mm."""
    return idx @ affine[:3, :3].T + affine[:3, 3]


def _centroid_world(labels: np.ndarray, affine: np.ndarray, label_ids) -> np.ndarray:
    idx = np.argwhere(np.isin(labels, list(label_ids))).astype(np.float64)
    assert len(idx), f'labels {label_ids} absent'
    return _world(affine, idx.mean(0, keepdims=True))[0]


def _assert_world_consistent(image: MedicalImage, path: str, n: int = 2000, seed: int = 0):
    """Every sampled voxel holds the value nibabel stores at the same world point."""
    nii = nib.load(path)
    data = np.asanyarray(nii.dataobj)
    shape = np.array(image.array.shape[1:])
    idx = np.random.default_rng(seed).integers(0, shape, size=(n, 3))
    ijk = _world(np.linalg.inv(nii.affine), _world(image.affine, idx.astype(float)))
    np.testing.assert_allclose(ijk, np.round(ijk), atol=1e-3)
    ijk = np.round(ijk).astype(int)
    assert (ijk >= 0).all() and (ijk < np.array(data.shape[:3])).all()
    np.testing.assert_array_equal(image.array[0][tuple(idx.T)], data[tuple(ijk.T)])


# ----------------------------------------------------------------------------- 2D DICOM
def test_monochrome1_radiograph_is_inverted_so_bone_is_bright(shared_data):
    path = str(shared_data / 'dicom' / 'RG1_UNCR.dcm')
    image = read_medical_image(path, modality='2d')
    ds = pydicom.dcmread(path)
    raw = ds.pixel_array.astype(np.float64)

    assert image.array.shape == (1, ) + raw.shape and image.array.dtype == np.float32
    assert image.unit == 'unit'
    assert image.affine is None and len(image.spacing) == 2
    assert image.meta['photometric'] == 'MONOCHROME1'
    assert image.meta['modality'] == 'CR'
    a = image.array[0]
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert a.max() - a.min() > 0.5  # uses the range

    h, w = a.shape
    rows = slice(int(0.35 * h), int(0.65 * h))
    centre = a[rows, int(0.45 * w):int(0.55 * w)].mean()  # spine / mediastinum
    lung_1 = a[rows, int(0.20 * w):int(0.32 * w)].mean()
    lung_2 = a[rows, int(0.68 * w):int(0.80 * w)].mean()
    assert centre > lung_1 + 0.1 and centre > lung_2 + 0.1

    # Inversion really happened: in the stored MONOCHROME1 values bone is *darker*...
    raw_centre = raw[rows, int(0.45 * w):int(0.55 * w)].mean()
    assert raw_centre < raw[rows, int(0.20 * w):int(0.32 * w)].mean()
    # ... and the output is exactly 1 - (file window applied to the stored values), with
    # the DICOM LINEAR function (PS3.3 C.11.2.1.2.1, pydicom's apply_voi_lut) ...
    center, width = float(ds.WindowCenter), float(ds.WindowWidth)
    expected = 1.0 - np.clip((raw - (center - 0.5)) / (width - 1) + 0.5, 0, 1)
    np.testing.assert_allclose(a, expected, atol=1e-5)
    assert image.meta['window'] == (center, width)
    # ... which differs from the plain ramp (x - (c - w / 2)) / w by under 1 / (w - 1).
    ramp = 1.0 - np.clip((raw - (center - width / 2)) / width, 0, 1)
    assert np.abs(a - ramp).max() <= 1 / (width - 1) + 1e-6


def test_monochrome1_without_file_window_is_minmax_and_inverted(shared_data):
    path = str(shared_data / 'dicom' / 'RG1_UNCR.dcm')
    a = read_medical_image(path, apply_window=False).array[0]
    raw = pydicom.dcmread(path).pixel_array.astype(np.float64)
    expected = 1.0 - (raw - raw.min()) / (raw.max() - raw.min())
    np.testing.assert_allclose(a, expected, atol=1e-5)
    assert a.min() == pytest.approx(0.0) and a.max() == pytest.approx(1.0)


def test_ct_dicom_slice_is_in_hounsfield_units(shared_data):
    path = str(shared_data / 'dicom' / 'CT_small.dcm')
    image = read_medical_image(path, modality='2d')
    ds = pydicom.dcmread(path)
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)

    assert image.unit == 'HU'
    assert image.meta['modality'] == 'CT'
    assert image.array.shape == (1, ) + ds.pixel_array.shape
    np.testing.assert_array_equal(image.array[0], hu.astype(np.float32))
    assert float(ds.RescaleIntercept) != 0  # the rescale mattered
    assert (image.array < -500).any(), 'no air / lung'
    assert (image.array > 300).any(), 'no bone'
    assert image.spacing == pytest.approx(tuple(float(v) for v in ds.PixelSpacing))


def test_dicom_as_mask_keeps_raw_integers(shared_data):
    path = str(shared_data / 'dicom' / 'CT_small.dcm')
    mask = read_medical_image(path, as_mask=True)
    assert mask.array.dtype == np.int64 and mask.unit == 'raw'
    assert mask.array.shape == (1, 128, 128)


def test_jpeg_radiograph(shared_data):
    folder = shared_data / 'cxr-pneumonia' / 'train' / 'NORMAL'
    path = str(folder / sorted(os.listdir(folder))[0])
    image = read_medical_image(path, modality='2d')
    pixels = np.asarray(Image.open(path).convert('L'), dtype=np.float32) / 255
    assert image.array.shape == (1, 224, 224) and image.unit == 'unit'
    np.testing.assert_allclose(image.array[0], pixels, atol=1e-6)


# ----------------------------------------------------------------------------- 2D files
@pytest.mark.parametrize('bits', [8, 16])
def test_grey_png_is_scaled_by_bit_depth(tmp_path, bits):
    dtype, top = (np.uint8, 255) if bits == 8 else (np.uint16, 65535)
    values = np.array([[0, 1, top // 2], [top // 4, top - 1, top]], dtype=dtype)
    values = np.tile(values, (3, 4))
    path = tmp_path / f'x{bits}.png'
    Image.fromarray(values).save(path)

    image = read_medical_image(str(path), modality='2d')
    assert image.array.shape == (1, ) + values.shape and image.array.dtype == np.float32
    assert image.unit == 'unit' and image.spacing == (1.0, 1.0) and image.affine is None
    np.testing.assert_allclose(image.array[0], values.astype(np.float64) / top, rtol=1e-6)
    assert image.array.max() == pytest.approx(1.0) and image.array.min() == 0.0

    raw = read_medical_image(str(path), as_mask=True)
    assert raw.array.dtype == np.int64 and raw.unit == 'raw'
    np.testing.assert_array_equal(raw.array[0], values)


@pytest.mark.parametrize('mode', ['RGB', 'RGBA'])
def test_colour_png_is_converted_to_grey(tmp_path, mode):
    rgb = np.zeros((6, 5, 3), np.uint8)
    rgb[0] = (255, 0, 0)
    rgb[1] = (0, 255, 0)
    rgb[2] = (0, 0, 255)
    rgb[3] = (200, 200, 200)
    rgb[4] = (255, 255, 255)
    img = Image.fromarray(rgb, 'RGB').convert(mode)
    path = tmp_path / f'colour_{mode}.png'
    img.save(path)

    image = read_image_2d(str(path))
    assert image.array.shape == (1, 6, 5)
    assert image.meta['mode'] == mode
    a = image.array[0]
    # ITU-R 601-2 luma, as PIL's 'L' conversion.
    np.testing.assert_allclose(a[:, 0], np.array([76, 150, 29, 200, 255, 0]) / 255, atol=1 / 255)
    assert a[3, 0] == pytest.approx(200 / 255) and a[4, 0] == pytest.approx(1.0)


def test_file_kind_classifies_and_rejects(tmp_path, shared_data):
    (tmp_path / 'a.png').write_bytes(b'x')
    (tmp_path / 'a.NII.GZ').write_bytes(b'x')
    (tmp_path / 'a.txt').write_bytes(b'x' * 200)
    assert file_kind(str(tmp_path / 'a.png')) == 'image2d'
    assert file_kind(str(tmp_path / 'a.NII.GZ')) == 'nifti'
    assert file_kind(str(tmp_path)) == 'dicom_series'
    # a DICOM file without suffix is recognised by its preamble
    first = sorted(os.listdir(shared_data / 'ct' / 'example_ct_dicom'))[0]
    assert file_kind(str(shared_data / 'ct' / 'example_ct_dicom' / first)) == 'dicom'
    with pytest.raises(MedicalImageError, match='unknown file type') as info:
        file_kind(str(tmp_path / 'a.txt'))
    assert info.value.path == str(tmp_path / 'a.txt')


def test_bad_modality_argument():
    with pytest.raises(ValueError, match='modality'):
        read_medical_image('whatever.png', modality='4d')


# ----------------------------------------------------------------------------- NIfTI
def test_nifti_ct_and_mask_geometry(ct_dir):
    path = str(ct_dir / 'example_ct_sm.nii.gz')
    ct = read_nifti(path)
    seg = read_medical_image(str(ct_dir / 'example_seg.nii.gz'), modality='3d', as_mask=True)
    assert ct.array.shape == (1, 30, 101, 122) and ct.array.dtype == np.float32
    assert ct.unit == 'HU' and seg.unit == 'raw' and seg.array.dtype == np.int64
    assert ct.spacing == pytest.approx((3.0, 3.0, 3.0))
    assert seg.array.shape == ct.array.shape
    np.testing.assert_allclose(seg.affine, ct.affine, atol=1e-4)
    # (d, h, w) axes are (S, A, R) for RAS
    assert nio.aff2axcodes(ct.affine[:, [2, 1, 0, 3]]) == ('R', 'A', 'S')
    _assert_world_consistent(ct, path)
    _assert_world_consistent(seg, str(ct_dir / 'example_seg.nii.gz'))


def test_nifti_anatomy_is_in_ras(ct_dir, total_labels):
    """Real-anatomy orientation check: right organs have larger x, upper organs larger z."""
    ct = read_nifti(str(ct_dir / 'example_ct_sm.nii.gz'))
    seg = read_nifti(str(ct_dir / 'example_seg.nii.gz'), as_mask=True)
    labels, affine = seg.array[0], seg.affine

    def centroid(*names):
        return _centroid_world(labels, affine, [total_labels[n] for n in names])

    assert centroid('liver')[0] > centroid('spleen')[0] + 50  # liver on the patient's right
    assert centroid('kidney_right')[0] > centroid('kidney_left')[0] + 50
    assert centroid(*LUNG_LOBES)[2] > centroid('liver')[2] + 15  # lungs above the liver
    assert centroid('kidney_left')[2] < centroid('spleen')[2]
    lung = np.isin(labels, [total_labels[n] for n in LUNG_LOBES])
    liver = labels == total_labels['liver']
    assert lung.sum() > 1000 and liver.sum() > 1000
    assert ct.array[0][lung].mean() < -500
    assert -50 < ct.array[0][liver].mean() < 150


@pytest.mark.parametrize('axcodes', ['RAS', 'LPS', 'PIR'])
def test_nifti_axcodes(ct_dir, axcodes):
    path = str(ct_dir / 'example_seg_dicom.nii.gz')  # stored LAS
    assert nio.aff2axcodes(nib.load(path).affine) == ('L', 'A', 'S')
    mask = read_nifti(path, axcodes=axcodes, as_mask=True)
    assert nio.aff2axcodes(mask.affine[:, [2, 1, 0, 3]]) == tuple(axcodes)
    assert mask.meta['axcodes'] == axcodes
    _assert_world_consistent(mask, path)


def test_bad_axcodes(ct_dir):
    with pytest.raises(ValueError, match='axcodes'):
        read_nifti(str(ct_dir / 'example_ct_sm.nii.gz'), axcodes='XYZ')


def test_nifti_singleton_4th_axis_is_accepted(tmp_path):
    data = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6, 1)
    nib.save(nib.Nifti1Image(data, np.diag([1.0, 2.0, 3.0, 1.0])), str(tmp_path / 'v.nii.gz'))
    image = read_medical_image(str(tmp_path / 'v.nii.gz'), modality='3d')
    assert image.array.shape == (1, 6, 5, 4)
    assert image.spacing == pytest.approx((3.0, 2.0, 1.0))
    np.testing.assert_array_equal(image.array[0], data[..., 0].transpose(2, 1, 0))


# ----------------------------------------------------------------------------- DICOM series
def test_dicom_series_is_one_volume(series, series_files):
    assert series.array.shape == (1, 20, 512, 512) and series.array.dtype == np.float32
    assert series.unit == 'HU'
    assert series.spacing == pytest.approx((2.0, 0.9765625, 0.9765625))
    assert series.meta['num_slices'] == 20
    assert nio.aff2axcodes(series.affine[:, [2, 1, 0, 3]]) == ('R', 'A', 'S')
    # file names run superior -> inferior, so name order is not slice order here
    zs_by_name = [pos[2] for _, pos, _ in series_files]
    assert zs_by_name[0] > zs_by_name[-1]


def test_dicom_series_slices_ordered_by_position(series, series_files):
    """Each slice lies at the z of the file whose pixels it holds (matched by content)."""
    volume = series.array[0]
    file_keys = [np.sort(hu.ravel()) for _, _, hu in series_files]
    matched = []
    for d in range(volume.shape[0]):
        key = np.sort(volume[d].ravel().astype(np.float64))
        hits = [i for i, k in enumerate(file_keys) if np.array_equal(k, key)]
        assert len(hits) == 1, f'slice {d} matches files {hits}'
        path, position, _ = series_files[hits[0]]
        world_z = _world(series.affine, np.array([[d, 0.0, 0.0]]))[0, 2]
        assert world_z == pytest.approx(position[2], abs=1e-3), path
        matched.append(hits[0])
    assert sorted(matched) == list(range(len(series_files)))
    zs = [series_files[i][1][2] for i in matched]
    assert np.all(np.diff(zs) > 0)  # D runs inferior -> superior


def test_dicom_series_affine_maps_voxels_to_their_dicom_pixels(series, series_files):
    """Full in-plane check: voxel -> world (affine) -> DICOM (row, col) -> same HU."""
    volume = series.array[0]
    ds0 = pydicom.dcmread(series_files[0][0], stop_before_pixels=True)
    orientation = np.asarray(ds0.ImageOrientationPatient, float)
    row_dir, col_dir = orientation[:3], orientation[3:]
    row_spacing, col_spacing = (float(v) for v in ds0.PixelSpacing)
    by_z = {round(float(pos[2]), 3): (pos, hu) for _, pos, hu in series_files}
    rng = np.random.default_rng(0)
    hw = rng.integers(0, 512, size=(500, 2))
    for d in (0, 7, 19):
        idx = np.column_stack([np.full(len(hw), d), hw]).astype(float)
        ras = _world(series.affine, idx)
        lps = ras * np.array([-1.0, -1.0, 1.0])
        position, hu = by_z[round(float(lps[0, 2]), 3)]
        cols = (lps - position) @ row_dir / col_spacing
        rows = (lps - position) @ col_dir / row_spacing
        np.testing.assert_allclose(cols, np.round(cols), atol=1e-3)
        np.testing.assert_allclose(rows, np.round(rows), atol=1e-3)
        rows, cols = np.round(rows).astype(int), np.round(cols).astype(int)
        np.testing.assert_array_equal(volume[d, hw[:, 0], hw[:, 1]], hu[rows, cols])


def test_dicom_series_aligns_with_its_nifti_mask(series, series_mask, total_labels):
    assert series_mask.array.shape == series.array.shape
    np.testing.assert_allclose(series_mask.affine, series.affine, atol=1e-3)
    hu, labels = series.array[0], series_mask.array[0]
    lung_ids = [total_labels[n] for n in LUNG_LOBES]
    lung = np.isin(labels, lung_ids)
    if lung.any():  # this slab is abdominal; check lungs whenever the mask has them
        assert hu[lung].mean() < -500
    liver = labels == total_labels['liver']
    spine = np.isin(labels, [total_labels['vertebrae_T11'], total_labels['vertebrae_T12']])
    humeri = np.isin(labels, [total_labels['humerus_left'], total_labels['humerus_right']])
    assert liver.sum() > 10000 and spine.sum() > 10000 and humeri.sum() > 10000
    assert -50 < hu[liver].mean() < 150
    assert hu[spine].mean() > 230
    assert hu[humeri].mean() > 400
    assert hu[labels == 0].mean() < -500  # mostly air around the body
    # Misalignment by 1 cm is visible: the thin bones lose their density.
    shifted = np.roll(spine, 10, axis=2)
    assert hu[shifted].mean() < hu[spine].mean() - 80
    # Orientation from anatomy: the right humerus has the larger RAS x.
    right = _centroid_world(labels, series.affine, [total_labels['humerus_right']])
    left = _centroid_world(labels, series.affine, [total_labels['humerus_left']])
    assert right[0] > left[0] + 100


@pytest.fixture
def make_series(tmp_path, shared_data):
    """Write copies of ``CT_small.dcm`` at chosen positions (pixel value encodes the slice)."""
    source = pydicom.dcmread(str(shared_data / 'dicom' / 'CT_small.dcm'))

    def make(zs, names=None, uids=None, name='series', drop_tag=None):
        folder = tmp_path / name
        folder.mkdir()
        names = names or [f'{i:03d}.dcm' for i in range(len(zs))]
        for i, (z, fname) in enumerate(zip(zs, names)):
            ds = source.copy()
            pixels = ds.pixel_array.copy()
            pixels[0, 0] = 100 + i  # marker: written as file i
            ds.PixelData = pixels.tobytes()
            ds.ImagePositionPatient = [-10.0, 20.0, float(z)]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.InstanceNumber = i + 1
            ds.SeriesInstanceUID = (uids[i] if uids else '1.2.3.4')
            if drop_tag is not None and i == len(zs) - 1:
                delattr(ds, drop_tag)
            ds.save_as(str(folder / fname))
        return folder

    return make


def test_synthetic_series_sorted_by_position_not_name(make_series):
    zs = [30.0, 10.0, 40.0, 20.0]  # written in shuffled order, instance numbers 1..4
    folder = make_series(zs)
    image = read_dicom_series(str(folder))
    assert image.array.shape == (1, 4, 128, 128)
    assert image.spacing[0] == pytest.approx(10.0)
    # the marker pixel (row 0, col 0 -> h = H-1, w = W-1 in RAS) gives the file index
    h_last, w_last = image.array.shape[2] - 1, image.array.shape[3] - 1
    markers = image.array[0, :, h_last, w_last]
    slope_intercept = -1024.0  # CT_small: slope 1, intercept -1024
    order = np.round(markers - slope_intercept - 100).astype(int).tolist()
    assert order == list(np.argsort(zs))
    world_z = _world(image.affine, np.array([[d, 0, 0] for d in range(4)], float))[:, 2]
    np.testing.assert_allclose(world_z, sorted(zs))


def test_single_slice_series_uses_slice_thickness(make_series):
    folder = make_series([5.0])
    image = read_dicom_series(str(folder))
    ds = pydicom.dcmread(str(next(folder.iterdir())))
    assert image.array.shape == (1, 1, 128, 128)
    assert image.spacing[0] == pytest.approx(float(ds.SliceThickness or 1.0))


def test_series_with_duplicate_positions_is_refused(make_series):
    folder = make_series([0.0, 5.0, 5.0])
    with pytest.raises(MedicalImageError, match='share one position') as info:
        read_medical_image(str(folder))
    assert str(folder) in str(info.value)


def test_series_slice_without_position_is_refused(make_series):
    folder = make_series([0.0, 5.0, 10.0], drop_tag='ImagePositionPatient')
    with pytest.raises(MedicalImageError, match='ImagePositionPatient') as info:
        read_medical_image(str(folder))
    assert str(folder / '002.dcm') in str(info.value)


def test_series_with_uneven_spacing_warns(make_series):
    folder = make_series([0.0, 5.0, 10.0, 20.0])
    with pytest.warns(UserWarning, match='slice spacing varies'):
        image = read_medical_image(str(folder))
    assert image.spacing[0] == pytest.approx(5.0)


def test_empty_folder_is_refused(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(MedicalImageError, match='no files') as info:
        read_medical_image(str(tmp_path / 'empty'))
    assert str(tmp_path / 'empty') in str(info.value)


def test_dicom_folder_cannot_be_a_mask(make_series):
    folder = make_series([0.0, 5.0])
    with pytest.raises(MedicalImageError, match='masks') as info:
        read_medical_image(str(folder), as_mask=True)
    assert str(folder) in str(info.value)


# ----------------------------------------------------------------------------- reliability
def _write_dicom(path, pixels: np.ndarray, **tags) -> str:
    """A minimal uncompressed MONOCHROME2 DX file of 12-bit ``pixels`` ``(H, W)``."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.1.1'  # digital X-ray
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, generate_uid()
    ds.Modality, ds.PhotometricInterpretation = 'DX', 'MONOCHROME2'
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    for name, value in tags.items():
        setattr(ds, name, value)
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return str(path)


def _float_tiff(path, bad: float) -> str:
    values = np.linspace(0.0, 1.0, 12 * 10, dtype=np.float32).reshape(12, 10)
    values[3:6, 2:5] = bad  # a block of bad pixels
    Image.fromarray(values, mode='F').save(path)
    return str(path)


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize('as_mask', [False, True])
def test_float_tiff_with_nan_or_inf_is_refused(tmp_path, bad, as_mask):
    path = _float_tiff(tmp_path / 'bad.tif', bad)
    with pytest.raises(MedicalImageError, match='9 voxels are NaN or infinite') as info:
        read_medical_image(path, modality='2d', as_mask=as_mask)
    assert info.value.path == path and path in str(info.value)


def test_finite_float_tiff_is_read(tmp_path):
    path = _float_tiff(tmp_path / 'good.tif', 0.5)
    image = read_image_2d(path, scale=False)
    assert image.array.shape == (1, 12, 10) and np.isfinite(image.array).all()
    assert image.array[0, 4, 3] == pytest.approx(0.5)


@pytest.mark.parametrize('as_mask', [False, True])
def test_dicom_with_nan_rescale_is_refused(tmp_path, as_mask):
    pixels = np.arange(80).reshape(8, 10) * 40
    path = _write_dicom(tmp_path / 'nan.dcm', pixels, RescaleSlope=float('nan'),
                        RescaleIntercept=0)
    with pytest.raises(MedicalImageError, match='80 voxels are NaN or infinite') as info:
        read_medical_image(path, modality='2d', as_mask=as_mask)
    assert info.value.path == path


@pytest.mark.parametrize('pixels', [
    (40, 40),  # 1600 > 2 x 100: PIL raises DecompressionBombError
    (12, 12),  # 144 in (100, 200]: PIL only warns; unimedi refuses it as well
])
def test_image_over_pil_pixel_limit_names_the_file(tmp_path, monkeypatch, pixels):
    path = str(tmp_path / 'big.png')
    Image.fromarray(np.zeros(pixels, np.uint8)).save(path)
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 100)
    filters = list(warnings.filters)
    with pytest.raises(MedicalImageError, match='MAX_IMAGE_PIXELS') as info:
        read_medical_image(path, modality='2d')
    message = str(info.value)
    assert info.value.path == path and message.startswith(path)
    assert 'larger than' in message and '100' in message and 'trusted' in message
    assert warnings.filters == filters  # no filter leaks out of the reader
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', None)  # the documented way out
    assert read_medical_image(path).array.shape == (1, ) + pixels


def _normalised_window(pixels: np.ndarray, ds) -> np.ndarray:
    """pydicom's VOI output mapped from its range (the stored bits, PS3.3 C.11.2) to [0, 1]."""
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    values = apply_voi_lut(apply_modality_lut(pixels, ds), ds)
    return values / (2 ** int(ds.BitsStored) - 1)  # unsigned, no rescale: [0, 2^bits - 1]


def test_sigmoid_voi_lut_function_is_windowed_like_pydicom(tmp_path):
    pixels = np.arange(80).reshape(8, 10) * 50  # 0 .. 3950
    path = _write_dicom(tmp_path / 'sigmoid.dcm', pixels, WindowCenter=2000,
                        WindowWidth=1500, VOILUTFunction='SIGMOID')
    image = read_medical_image(path, modality='2d')
    ds = pydicom.dcmread(path)
    expected = _normalised_window(ds.pixel_array, ds)
    assert image.unit == 'unit' and image.meta['window'] == (2000.0, 1500.0)
    np.testing.assert_allclose(image.array[0], expected, atol=1e-6)
    # really a sigmoid, not the linear ramp: no pixel is clipped to 0 or 1
    assert 0.0 < image.array.min() < 0.05 and 0.95 < image.array.max() < 1.0
    linear = np.clip((pixels - (2000 - 750)) / 1500, 0, 1)
    assert np.abs(image.array[0] - linear).max() > 0.05


def test_linear_window_follows_the_dicom_standard(tmp_path):
    """LINEAR (the default) is PS3.3 C.11.2.1.2.1: ``((x - (c - 0.5)) / (w - 1) + 0.5)``."""
    pixels = np.arange(80).reshape(8, 10) * 50
    path = _write_dicom(tmp_path / 'linear.dcm', pixels, WindowCenter=1000, WindowWidth=11,
                        RescaleSlope=2, RescaleIntercept=-100)
    image = read_medical_image(path, modality='2d')
    ds = pydicom.dcmread(path)
    hu = pixels * 2.0 - 100
    expected = np.clip((hu - 999.5) / 10 + 0.5, 0, 1)
    np.testing.assert_allclose(image.array[0], expected, atol=1e-6)
    assert 0 < image.array[0][hu == 1000][0] < 1  # a pixel inside the narrow window
    # the output range follows the rescale (y_min/y_max of the stored bits, rescaled)
    values = pydicom.pixels.apply_voi_lut(pydicom.pixels.apply_modality_lut(ds.pixel_array, ds),
                                          ds)
    low, high = -100.0, (2 ** 12 - 1) * 2.0 - 100
    np.testing.assert_allclose(image.array[0], (values - low) / (high - low), atol=1e-6)


def test_window_width_below_one_names_the_file(tmp_path):
    path = _write_dicom(tmp_path / 'w0.dcm', np.zeros((4, 4)), WindowCenter=10, WindowWidth=0.5)
    with pytest.raises(MedicalImageError, match='apply_window=False') as info:
        read_medical_image(path)
    assert info.value.path == path
    assert read_medical_image(path, apply_window=False).array.shape == (1, 4, 4)


def test_voi_lut_sequence_is_applied(tmp_path):
    from pydicom.dataset import Dataset

    item = Dataset()
    item.LUTDescriptor = [4, 1000, 16]  # 4 entries, first mapped value 1000, 16 bit
    item.LUTData = [300, 200, 100, 0]  # an inverting LUT
    pixels = np.array([[0, 1000, 1001], [1002, 1003, 4000]])
    path = _write_dicom(tmp_path / 'lut.dcm', pixels)
    ds = pydicom.dcmread(path)
    ds.VOILUTSequence = [item]
    ds['VOILUTSequence'].value[0]['LUTData'].VR = 'US'
    ds.save_as(path)
    image = read_medical_image(path, modality='2d')
    assert image.meta['window'] == 'VOILUTSequence'
    np.testing.assert_allclose(image.array[0], [[1, 1, 2 / 3], [1 / 3, 0, 0]], atol=1e-6)
