"""Spatial transforms keep image, mask, spacing, affine and lesion_slices together.

The real CT (``ct/example_ct_sm.nii.gz``) and its organ mask (``ct/example_seg.nii.gz``)
must stay voxel-aligned after every transform and chain of transforms: organs keep their
world position (through the updated ``affine``) and their intensities (lung air, liver
soft tissue). Transforms that do not interpolate (crop, pad, flip) must be exact.
"""
from __future__ import annotations

import ast
import copy

import mmcv.transforms
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import DefaultScope

from unimedi.datasets.transforms import (CenterCropOrPad, LoadMedicalImage, LoadMedicalMask,
                                         MedRandomCrop, MedRandomFlip, MedResize, Resample,
                                         crop_or_pad)
from unimedi.registry import TRANSFORMS

LUNG_LOBES = ('lung_upper_lobe_left', 'lung_lower_lobe_left', 'lung_upper_lobe_right',
              'lung_middle_lobe_right', 'lung_lower_lobe_right')
# Structures of >= ~1000 voxels; the thin lung lobes are checked together as 'lungs'.
ORGANS = ('liver', 'spleen', 'kidney_right', 'kidney_left', 'aorta', 'vertebrae_T12',
          'vertebrae_L1', 'gallbladder', 'lungs')
# One-piece organs: nearest-neighbour resampling keeps their own centroid within a voxel
# when they are whole (most organs of this 90 mm slab are cut by its first or last slice;
# L1 and the gallbladder are not). The two lungs, or the pieces a crop leaves, can shift more.
COMPACT = ('liver', 'spleen', 'kidney_right', 'kidney_left', 'aorta', 'vertebrae_T12',
           'vertebrae_L1', 'gallbladder')
MIN_VOXELS = 400  # organs (or what a crop leaves of them) smaller than this are not checked
PAD_LABEL = -1  # mask fill value in the chain test: marks voxels that hold no data


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def total_labels(shared_data) -> dict[str, int]:
    tree = ast.parse((shared_data / 'ct' / 'totalseg_class_map.txt').read_text())
    assign = next(n for n in tree.body if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], 'id', None) == 'class_map')
    return {name: label for label, name in ast.literal_eval(assign.value)['total'].items()}


@pytest.fixture(scope='module')
def ct_loaded(shared_data) -> dict:
    ct = shared_data / 'ct'
    results = dict(img_path=str(ct / 'example_ct_sm.nii.gz'),
                   seg_map_path=str(ct / 'example_seg.nii.gz'), modality='3d')
    return LoadMedicalMask()(LoadMedicalImage()(results))


@pytest.fixture
def ct_sample(ct_loaded) -> dict:
    return copy.deepcopy(ct_loaded)


def _world(affine: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return idx @ affine[:3, :3].T + affine[:3, 3]


def _organ_ids(total_labels, organ):
    return [total_labels[n] for n in (LUNG_LOBES if organ == 'lungs' else (organ, ))]


def _reference_labels(before: dict, after: dict) -> tuple[np.ndarray, np.ndarray]:
    """The input mask sampled (nearest) at each output voxel's world position, via the affines.

    Two versions, rounding ties down and up (an output voxel centred exactly between two
    input voxels may take either). ``PAD_LABEL`` outside the input or on padding.
    """
    shape, shape_in = after['gt_seg'].shape, before['gt_seg'].shape
    to_input = np.linalg.inv(before['affine']) @ after['affine']
    # spatial transforms are axis-aligned: output axis i samples input axis i only
    np.testing.assert_allclose(to_input[:3, :3], np.diag(np.diag(to_input)[:3]), atol=1e-9)
    references = []
    for bias in (-1e-6, 1e-6):
        sources, valid = [], []
        for axis in range(3):
            position = to_input[axis, axis] * np.arange(shape[axis]) + to_input[axis, 3]
            src = np.floor(position + 0.5 + bias).astype(int)
            valid.append((src >= 0) & (src < shape_in[axis]))
            sources.append(np.clip(src, 0, shape_in[axis] - 1))
        reference = before['gt_seg'][np.ix_(*sources)].copy()
        inside = valid[0][:, None, None] & valid[1][None, :, None] & valid[2][None, None, :]
        reference[~inside] = PAD_LABEL
        reference[after['gt_seg'] == PAD_LABEL] = PAD_LABEL
        references.append(reference)
    return references[0], references[1]


def _touches_border(voxels: np.ndarray, seg: np.ndarray) -> bool:
    """Whether an organ (voxel indices) reaches the edge of its volume or padding (cut)."""
    if np.any(voxels == 0) or np.any(voxels == np.array(seg.shape) - 1):
        return True
    for axis in range(3):
        for step in (-1, 1):
            near = voxels.copy()
            near[:, axis] += step
            if np.any(seg[tuple(near.T)] == PAD_LABEL):
                return True
    return False


def _wholly_in_view(voxels: np.ndarray, before: dict, after: dict) -> bool:
    """Whether all these input voxels land inside the output, none of them on padding."""
    idx = np.floor(_world(np.linalg.inv(after['affine']) @ before['affine'], voxels.astype(
        np.float64)) + 0.5).astype(int)
    if not np.all((idx >= 0) & (idx < np.array(after['gt_seg'].shape))):
        return False
    return not np.any(after['gt_seg'][tuple(idx.T)] == PAD_LABEL)


def _assert_aligned(before: dict, after: dict, total_labels: dict, name: str,
                    min_agreement: float = 0.97, reference_centroid: bool = True,
                    min_whole: int = 0) -> None:
    """Organs keep their world position, extent and intensities after a spatial transform.

    For each organ: the transformed mask agrees (voxel-wise) with the input mask sampled at the
    output voxels' world positions (through both affines), with a world centroid within one
    voxel of that reference's; a compact organ wholly in the output field of view also keeps
    its own world centroid (within one voxel) and its volume.
    """
    img, seg = after['img'], after['gt_seg']
    shape = img.shape[1:]
    assert seg.shape == shape and tuple(after['img_shape']) == shape, name
    assert seg.dtype == np.int64 and img.dtype == np.float32, name
    spacing_before = np.asarray(before['spacing'])
    spacing_after = np.asarray(after['spacing'])
    np.testing.assert_allclose(np.linalg.norm(after['affine'][:3, :3], axis=0), spacing_after,
                               rtol=1e-6, err_msg=name)
    # one voxel (the larger of input and output), per world axis
    tolerance = np.abs(before['affine'][:3, :3]) @ (
        np.maximum(spacing_before, spacing_after) / spacing_before)
    reference_low, reference_high = _reference_labels(before, after)
    checked = whole = 0
    for organ in ORGANS:
        ids = _organ_ids(total_labels, organ)
        got_mask = np.isin(seg, ids)
        low, high = np.isin(reference_low, ids), np.isin(reference_high, ids)
        ref_mask = low | high
        if ref_mask.sum() < MIN_VOXELS:  # a few fragments left by a crop: too noisy
            assert got_mask.sum() < 2 * MIN_VOXELS, f'{name}: {organ} appeared from nowhere'
            continue
        # agreement with the input mask: extra voxels and missing (tie-free) voxels count
        errors = (got_mask & ~ref_mask).sum() + ((low & high) & ~got_mask).sum()
        agreement = 1 - errors / ref_mask.sum()
        assert agreement >= min_agreement, f'{name}: {organ} agrees {agreement:.3f}'
        got = _world(after['affine'], np.argwhere(got_mask).mean(0, keepdims=True))[0]
        if reference_centroid:
            ref = _world(after['affine'], np.argwhere(low).mean(0, keepdims=True))[0]
            assert np.all(np.abs(got - ref) <= tolerance), (
                f'{name}: {organ} centroid moved {got - ref} mm (tolerance {tolerance})')
        original = np.argwhere(np.isin(before['gt_seg'], ids))
        if (organ in COMPACT and not _touches_border(original, before['gt_seg'])
                and _wholly_in_view(original, before, after)):
            centroid = _world(before['affine'], original.mean(0, keepdims=True))[0]
            assert np.all(np.abs(got - centroid) <= tolerance), (
                f'{name}: {organ} centroid moved {got - centroid} mm from the original')
            volume_ratio = got_mask.sum() * np.prod(spacing_after) / (
                len(original) * np.prod(spacing_before))
            assert abs(volume_ratio - 1) < 0.2, f'{name}: {organ} volume x{volume_ratio:.2f}'
            whole += 1
        checked += 1
        hu = img[0][got_mask]
        if got_mask.sum() < 1000:  # partial volume: small pieces are blurred with neighbours
            continue
        if organ == 'lungs':
            assert hu.mean() < -500, f'{name}: lung mean {hu.mean()} HU'
        if organ == 'liver':
            assert -50 < hu.mean() < 150, f'{name}: liver mean {hu.mean()} HU'
    assert checked >= 3 and whole >= min_whole, f'{name}: too few organs left to check'


def _assert_exact(before: dict, after: dict, pad_value=0.0, seg_pad_value=0) -> np.ndarray:
    """No interpolation: every output voxel is an input voxel (via the affines) or padding."""
    index_map = np.linalg.inv(before['affine']) @ after['affine']
    np.testing.assert_allclose(index_map, np.round(index_map), atol=1e-6)
    index_map = np.round(index_map).astype(int)
    assert set(np.abs(np.diag(index_map)[:3]).tolist()) == {1}
    shape_in, shape_out = before['img'].shape[1:], after['img'].shape[1:]
    out_idx = np.indices(shape_out).reshape(3, -1)
    in_idx = index_map[:3, :3] @ out_idx + index_map[:3, 3:]
    inside = np.all((in_idx >= 0) & (in_idx < np.array(shape_in)[:, None]), axis=0)
    img_out = after['img'][0].reshape(-1)
    seg_out = after['gt_seg'].reshape(-1)
    src = tuple(in_idx[:, inside])
    np.testing.assert_array_equal(img_out[inside], before['img'][0][src])
    np.testing.assert_array_equal(seg_out[inside], before['gt_seg'][src])
    assert np.all(img_out[~inside] == pad_value)
    assert np.all(seg_out[~inside] == seg_pad_value)
    assert tuple(after['spacing']) == pytest.approx(tuple(before['spacing']))
    return index_map


# ----------------------------------------------------------------------------- real CT
REAL_TRANSFORMS = {
    'resample_mixed': lambda: Resample((4.5, 2.0, 2.5)),
    'resample_up': lambda: Resample(2.0),
    'resample_one_axis': lambda: Resample((None, 4.0, None)),
    'resize_down': lambda: MedResize((24, 80, 96)),
    'resize_up': lambda: MedResize((45, 128, 150), anti_aliasing=False),
    'resize_keep_axis': lambda: MedResize((None, 64, -1)),
    'center_crop': lambda: CenterCropOrPad((24, 90, 100)),
    'center_crop_and_pad': lambda: CenterCropOrPad((40, 80, 140)),
    'random_crop': lambda: MedRandomCrop((20, 80, 100)),
    'random_crop_and_pad': lambda: MedRandomCrop((36, 64, 130)),
    'flip_d': lambda: MedRandomFlip(1.0, axes=(0, )),
    'flip_h': lambda: MedRandomFlip(1.0, axes=(1, )),
    'flip_w': lambda: MedRandomFlip(1.0, axes=(-1, )),
    'flip_all': lambda: MedRandomFlip(1.0, axes=(0, 1, 2)),
}
EXACT = {'center_crop', 'center_crop_and_pad', 'random_crop', 'random_crop_and_pad', 'flip_d',
         'flip_h', 'flip_w', 'flip_all'}


@pytest.mark.parametrize('name', sorted(REAL_TRANSFORMS))
def test_real_ct_and_mask_stay_aligned(ct_sample, total_labels, name):
    np.random.seed(0)
    before = copy.deepcopy(ct_sample)
    after = REAL_TRANSFORMS[name]()(ct_sample)
    _assert_aligned(before, after, total_labels, name, min_whole=0 if 'crop' in name else 2)
    lungs = np.isin(after['gt_seg'], _organ_ids(total_labels, 'lungs'))
    liver = after['gt_seg'] == total_labels['liver']
    assert lungs.sum() > 500 and liver.sum() > 1000  # a crop may keep only part of the lungs
    assert after['img'][0][lungs].mean() < -500
    assert -50 < after['img'][0][liver].mean() < 150
    if name in EXACT:
        _assert_exact(before, after)
    else:
        assert after['img'].shape != before['img'].shape


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_real_ct_chain_stays_aligned(ct_sample, total_labels, seed):
    """Aligned after each step of a chain, and from the first input to the last output."""
    np.random.seed(seed)
    chain = [
        Resample((4.0, 2.5, 3.5)),
        MedRandomFlip(1.0, axes=(0, 2)),
        MedRandomCrop((24, 100, 90), seg_pad_value=PAD_LABEL),
        MedResize((32, 80, 72)),
        CenterCropOrPad((36, 76, 76), pad_value=-1024, seg_pad_value=PAD_LABEL),
        MedRandomFlip(0.5, axes=(0, 1, 2)),
        Resample((3.0, 3.0, 3.0)),
    ]
    original = copy.deepcopy(ct_sample)
    results = ct_sample
    for step in chain:
        before = copy.deepcopy(results)
        results = step(results)
        _assert_aligned(before, results, total_labels, repr(step))
    _assert_aligned(original, results, total_labels, 'whole chain', min_agreement=0.4,
                    reference_centroid=False, min_whole=1)
    composed = Compose([copy.deepcopy(t) for t in chain])
    np.random.seed(seed)
    again = composed(copy.deepcopy(original))
    np.testing.assert_array_equal(again['gt_seg'], results['gt_seg'])
    np.testing.assert_allclose(again['affine'], results['affine'])


@pytest.mark.parametrize('axis', [0, 1, 2])
@pytest.mark.parametrize('name', ['resample_mixed', 'resize_down', 'center_crop_and_pad'])
def test_alignment_check_catches_a_one_voxel_shift(ct_sample, total_labels, name, axis):
    """The checks above are sensitive: a mask one voxel off its image fails them."""
    before = copy.deepcopy(ct_sample)
    after = REAL_TRANSFORMS[name]()(ct_sample)
    after['gt_seg'] = np.roll(after['gt_seg'], 1, axis=axis)
    with pytest.raises(AssertionError):
        _assert_aligned(before, after, total_labels, name)


def test_real_ct_center_crop_or_pad_matches_numpy(ct_sample):
    before = copy.deepcopy(ct_sample)
    after = CenterCropOrPad((24, 90, 140), pad_value=-1024, seg_pad_value=0)(ct_sample)
    # (30, 101, 122) -> crop D by 6 (3 each side), H by 11 (5 before), pad W by 18 (9 each)
    img = np.pad(before['img'], ((0, 0), (0, 0), (0, 0), (9, 9)), constant_values=-1024)
    seg = np.pad(before['gt_seg'], ((0, 0), (0, 0), (9, 9)))
    np.testing.assert_array_equal(after['img'], img[:, 3:27, 5:95, :])
    np.testing.assert_array_equal(after['gt_seg'], seg[3:27, 5:95, :])
    np.testing.assert_allclose(after['affine'][:3, 3],
                               _world(before['affine'], np.array([[3.0, 5.0, -9.0]]))[0])
    _assert_exact(before, after, pad_value=-1024)


@pytest.mark.parametrize('axes', [(0, ), (1, ), (2, ), (0, 1, 2), (-1, -3)])
def test_real_ct_flip_matches_numpy(ct_sample, axes):
    before = copy.deepcopy(ct_sample)
    after = MedRandomFlip(prob=1.0, axes=axes)(ct_sample)
    spatial = sorted({a % 3 for a in axes})
    assert after['flipped_axes'] == spatial
    np.testing.assert_array_equal(after['img'], np.flip(before['img'], [a + 1 for a in spatial]))
    np.testing.assert_array_equal(after['gt_seg'], np.flip(before['gt_seg'], spatial))
    # the world position of every voxel is unchanged: corner (0,0,0) is the old far corner
    corner = np.zeros(3)
    corner[spatial] = np.array(before['img'].shape[1:])[spatial] - 1
    np.testing.assert_allclose(after['affine'][:3, 3],
                               _world(before['affine'], corner[None])[0])
    _assert_exact(before, after)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_real_ct_random_crop_matches_numpy(ct_sample, seed):
    np.random.seed(seed)
    before = copy.deepcopy(ct_sample)
    after = MedRandomCrop((20, 80, 100))(ct_sample)
    index_map = _assert_exact(before, after)
    d, h, w = index_map[:3, 3]
    assert 0 <= d <= 10 and 0 <= h <= 21 and 0 <= w <= 22
    np.testing.assert_array_equal(after['img'], before['img'][:, d:d + 20, h:h + 80, w:w + 100])
    np.testing.assert_array_equal(after['gt_seg'], before['gt_seg'][d:d + 20, h:h + 80, w:w + 100])


def test_real_ct_resample_spacing_and_extent(ct_sample):
    before = copy.deepcopy(ct_sample)
    after = Resample((4.5, 2.0, None))(ct_sample)
    assert after['img'].shape[1:] == (20, 152, 122)
    assert after['spacing'] == pytest.approx((4.5, 3.0 * 101 / 152, 3.0))
    extent_before = np.array(before['img'].shape[1:]) * np.array(before['spacing'])
    extent_after = np.array(after['img'].shape[1:]) * np.array(after['spacing'])
    np.testing.assert_allclose(extent_after, extent_before)
    # the outer corner of the field of view (voxel -0.5) stays in place
    np.testing.assert_allclose(_world(after['affine'], np.full((1, 3), -0.5)),
                               _world(before['affine'], np.full((1, 3), -0.5)), atol=1e-6)


# ----------------------------------------------------------------------------- synthetic
def _synthetic(dims: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    shape = (13, 17, 11) if dims == '3d' else (17, 11)
    img = rng.normal(size=(1, ) + shape).astype(np.float32)
    seg = rng.integers(0, 4, size=shape).astype(np.int64)
    spacing = (2.5, 0.8, 0.7) if dims == '3d' else (0.8, 0.7)
    results = dict(img=img, gt_seg=seg, spacing=spacing, img_shape=shape)
    if dims == '3d':
        affine = np.eye(4)  # (d, h, w) -> (z, -y, x), as a reoriented scan
        affine[:3, :3] = 0
        affine[2, 0], affine[1, 1], affine[0, 2] = spacing[0], -spacing[1], spacing[2]
        affine[:3, 3] = (-40.0, 12.5, 300.0)
        results['affine'] = affine
    else:
        results['affine'] = None
    return results


def _numpy_crop_or_pad(array, offsets, size, value):
    """Reference: pad generously then slice."""
    ndim = len(size)
    margin = max(max(abs(o) for o in offsets), max(size)) + 1
    padded = np.pad(array, [(0, 0)] * (array.ndim - ndim) + [(margin, margin)] * ndim,
                    constant_values=value)
    return padded[(Ellipsis, ) + tuple(slice(margin + o, margin + o + m)
                                       for o, m in zip(offsets, size))]


@pytest.mark.parametrize('dims', ['2d', '3d'])
@pytest.mark.parametrize('size_3d,size_2d', [((7, 9, 5), (9, 5)), ((20, 17, 16), (30, 16)),
                                             ((13, 4, 30), (4, 30)), ((None, 9, -1), (9, None))])
def test_center_crop_or_pad_matches_numpy(dims, size_3d, size_2d):
    sample = _synthetic(dims)
    before = copy.deepcopy(sample)
    size = size_3d if dims == '3d' else size_2d
    after = CenterCropOrPad(size, pad_value=-5.0, seg_pad_value=9)(sample)
    shape = before['img'].shape[1:]
    full = tuple(n if s in (None, -1) else s for s, n in zip(size, shape))
    offsets = [(n - m) // 2 for n, m in zip(shape, full)]
    assert after['img'].shape[1:] == full and after['img_shape'] == full
    np.testing.assert_array_equal(after['img'], _numpy_crop_or_pad(before['img'], offsets,
                                                                   full, -5.0))
    np.testing.assert_array_equal(after['gt_seg'],
                                  _numpy_crop_or_pad(before['gt_seg'], offsets, full, 9))
    assert after['spacing'] == before['spacing']
    if dims == '3d':
        _assert_exact(before, after, pad_value=-5.0, seg_pad_value=9)
    else:
        assert after['affine'] is None


@pytest.mark.parametrize('dims', ['2d', '3d'])
def test_random_crop_covers_all_offsets(dims):
    sample = _synthetic(dims)
    size = (10, 17, 11) if dims == '3d' else (14, 11)  # crops the first axis only
    seen = set()
    np.random.seed(0)
    for _ in range(60):
        after = MedRandomCrop(size)(copy.deepcopy(sample))
        assert after['img'].shape[1:] == size
        # recover the window by matching the numpy slice
        first_axis = after['img'].shape[1]
        hits = [o for o in range(sample['img'].shape[1] - first_axis + 1)
                if np.array_equal(after['img'][:, :, :3], sample['img'][:, o:o + first_axis, :3])]
        assert len(hits) == 1
        seen.add(hits[0])
        np.testing.assert_array_equal(after['gt_seg'],
                                      sample['gt_seg'][hits[0]:hits[0] + first_axis])
    assert seen == set(range(sample['img'].shape[1] - size[0] + 1))


@pytest.mark.parametrize('dims', ['2d', '3d'])
def test_random_crop_pads_short_axes_evenly(dims):
    sample = _synthetic(dims)
    shape = sample['img'].shape[1:]
    size = tuple(n + 4 for n in shape)
    after = MedRandomCrop(size)(copy.deepcopy(sample))
    inner = (slice(None), ) + tuple(slice(2, 2 + n) for n in shape)
    np.testing.assert_array_equal(after['img'][inner], sample['img'])
    assert np.count_nonzero(after['img']) == np.count_nonzero(sample['img'])


@pytest.mark.parametrize('dims', ['2d', '3d'])
def test_flip_matches_numpy_and_probability(dims):
    sample = _synthetic(dims)
    ndim = 3 if dims == '3d' else 2
    for axes in [(0, ), (-1, ), tuple(range(ndim))]:
        after = MedRandomFlip(1.0, axes=axes)(copy.deepcopy(sample))
        spatial = sorted({a % ndim for a in axes})
        np.testing.assert_array_equal(after['img'],
                                      np.flip(sample['img'], [a + 1 for a in spatial]))
        np.testing.assert_array_equal(after['gt_seg'], np.flip(sample['gt_seg'], spatial))
        assert after['img'].flags.c_contiguous and after['gt_seg'].flags.c_contiguous
        assert after['spacing'] == sample['spacing']
    kept = MedRandomFlip(0.0, axes=tuple(range(ndim)))(copy.deepcopy(sample))
    assert kept['flipped_axes'] == []
    np.testing.assert_array_equal(kept['img'], sample['img'])
    np.random.seed(0)
    counts = np.zeros(ndim)
    for _ in range(200):
        flipped = MedRandomFlip(0.5, axes=tuple(range(ndim)))(copy.deepcopy(sample))['flipped_axes']
        counts[flipped] += 1
    assert np.all((counts > 60) & (counts < 140))


@pytest.mark.parametrize('dims', ['2d', '3d'])
@pytest.mark.parametrize('factor', [0.5, 1.7, 3.0])
def test_resize_geometry_matches_interpolation(dims, factor):
    """A linear ramp is resampled exactly in the interior: the new affine/spacing is right."""
    sample = _synthetic(dims)
    shape = np.array(sample['img'].shape[1:])
    coefficients = np.array([3.0, -2.0, 0.5])[-len(shape):]
    ramp = np.tensordot(coefficients, np.indices(tuple(shape)), axes=1).astype(np.float32) + 7
    sample['img'] = ramp[None]
    size = tuple(int(round(n * factor)) for n in shape)
    after = MedResize(size, anti_aliasing=False)(copy.deepcopy(sample))
    assert after['img'].shape[1:] == size and after['gt_seg'].shape == size
    scale = shape / np.array(size)
    np.testing.assert_allclose(after['spacing'], np.array(sample['spacing']) * scale)
    out_idx = np.indices(size).reshape(len(size), -1).T.astype(float)
    if dims == '3d':
        in_idx = _world(np.linalg.inv(sample['affine']) @ after['affine'], out_idx)
    else:
        in_idx = (out_idx + 0.5) * scale - 0.5  # 2D has no affine: same half-voxel rule
    interior = np.all((in_idx >= 0) & (in_idx <= shape - 1), axis=1)
    assert interior.mean() > 0.3
    np.testing.assert_allclose(after['img'][0].reshape(-1)[interior],
                               in_idx[interior] @ coefficients + 7, atol=1e-3)
    # the mask takes the nearest input voxel, round half up, as documented
    nearest = np.minimum(np.floor(in_idx + 0.5).astype(int), shape - 1)
    np.testing.assert_array_equal(after['gt_seg'].reshape(-1),
                                  sample['gt_seg'][tuple(nearest.T)])


@pytest.mark.parametrize('dims', ['2d', '3d'])
def test_resample_to_spacing(dims):
    sample = _synthetic(dims)
    target = (1.25, 0.4, 1.4) if dims == '3d' else (0.4, 1.4)
    after = Resample(target)(copy.deepcopy(sample))
    shape = np.array(sample['img'].shape[1:])
    expected = tuple(int(round(n * s / t)) for n, s, t in zip(shape, sample['spacing'], target))
    assert after['img'].shape[1:] == expected and after['gt_seg'].shape == expected
    np.testing.assert_allclose(after['spacing'], target, rtol=0.1)
    np.testing.assert_allclose(np.array(after['spacing']) * expected,
                               np.array(sample['spacing']) * shape)
    assert set(np.unique(after['gt_seg'])) <= set(np.unique(sample['gt_seg']))
    same = Resample(sample['spacing'])(copy.deepcopy(sample))  # no-op
    np.testing.assert_array_equal(same['img'], sample['img'])


def test_resize_to_same_shape_is_a_no_op():
    sample = _synthetic('3d')
    after = MedResize(sample['img'].shape[1:])(copy.deepcopy(sample))
    np.testing.assert_array_equal(after['img'], sample['img'])
    np.testing.assert_array_equal(after['affine'], sample['affine'])


def test_transforms_without_mask_or_geometry():
    img = np.random.default_rng(0).random((1, 10, 12)).astype(np.float32)
    for transform in (MedResize((5, 6)), CenterCropOrPad((8, 14)), MedRandomCrop((4, 4)),
                      MedRandomFlip(1.0, axes=(0, 1))):
        results = transform(dict(img=img.copy()))
        assert 'gt_seg' not in results and results['img'].shape[0] == 1
        assert results['img_shape'] == results['img'].shape[1:]


@pytest.mark.parametrize('build', [
    lambda: MedResize((4, 4)), lambda: MedResize(0), lambda: CenterCropOrPad((4, 4, 4, 4)),
    lambda: MedRandomCrop((-1, 0, 3)), lambda: Resample((1.0, 1.0))])
def test_bad_sizes_are_refused(build):
    with pytest.raises(ValueError):
        build()(_synthetic('3d'))


def test_bad_flip_probability():
    with pytest.raises(ValueError, match='prob'):
        MedRandomFlip(prob=1.5)


def test_crop_or_pad_function():
    array = np.arange(12).reshape(1, 3, 4)
    out = crop_or_pad(array, (-1, 1), (4, 2), value=-1)
    np.testing.assert_array_equal(out[0], [[-1, -1], [1, 2], [5, 6], [9, 10]])
    out = crop_or_pad(array, (5, 0), (2, 4), value=-1)  # window past the end
    assert np.all(out == -1)


def test_registered():
    for name in ('Resample', 'MedResize', 'CenterCropOrPad', 'MedRandomCrop', 'MedRandomFlip'):
        assert TRANSFORMS.get(name) is not None
    assert isinstance(TRANSFORMS.build(dict(type='MedResize', size=(8, 8))), MedResize)


# ----------------------------------------------------------------------------- lesion slices
LESION_SLICES = [4, 5, 6, 17, 21]


def _lesion_sample() -> dict:
    """A volume with lesions (two labels) on known slices, centred in-plane."""
    shape = (26, 32, 30)
    rng = np.random.default_rng(1)
    img = rng.normal(size=(1, ) + shape).astype(np.float32)
    seg = np.zeros(shape, np.int64)
    seg[4:7, 9:23, 8:22] = 1
    seg[17, 12:20, 11:19] = 2
    seg[21, 10:22, 9:21] = 1
    affine = np.zeros((4, 4))
    affine[3, 3] = 1.0
    affine[2, 0], affine[1, 1], affine[0, 2] = 2.0, 0.9, 0.8
    return dict(img=img, gt_seg=seg, spacing=(2.0, 0.9, 0.8), affine=affine,
                lesion_slices=list(LESION_SLICES), img_shape=shape)


LESION_TRANSFORMS = {
    'flip_d': lambda: MedRandomFlip(1.0, axes=(0, )),
    'flip_all': lambda: MedRandomFlip(1.0, axes=(0, 1, 2)),
    'flip_w_only': lambda: MedRandomFlip(1.0, axes=(-1, )),
    'center_crop_d': lambda: CenterCropOrPad((16, None, None)),
    'center_crop_drops_lesions': lambda: CenterCropOrPad((6, None, None)),
    'center_pad_d': lambda: CenterCropOrPad((41, 36, 24)),
    'random_crop': lambda: MedRandomCrop((12, 28, 28)),
    'random_crop_pad': lambda: MedRandomCrop((33, 24, 40)),
    'resize_down_d': lambda: MedResize((9, 32, 30)),
    'resize_down_odd': lambda: MedResize((17, 20, 18)),
    'resize_up_d': lambda: MedResize((61, 32, 30)),
    'resize_up_all': lambda: MedResize((40, 45, 41)),
    'resample_down': lambda: Resample((5.0, 1.5, 1.5)),
    'resample_up': lambda: Resample((0.7, 0.9, 0.8)),
    'resample_odd': lambda: Resample((2.9, None, None)),
    # 1.5x along D: output slices centred exactly between two input slices (ties)
    'resize_up_ties': lambda: MedResize((39, 32, 30)),
    'resample_ties_up': lambda: Resample((4 / 3, None, None)),
    'resample_ties_down': lambda: Resample((3.0, None, None)),
    'chain': lambda: Compose([
        Resample((1.3, 0.9, 0.8)),
        MedRandomFlip(1.0, axes=(0, )),
        MedRandomCrop((30, 28, 28)),
        MedResize((23, 28, 28)),
        CenterCropOrPad((27, 28, 28)),
        MedRandomFlip(1.0, axes=(0, 1)),
        Resample((3.1, None, None)),
    ]),
}


LESION_CASES = [(name, seed) for name in sorted(LESION_TRANSFORMS)
                for seed in ((0, 1, 2) if 'random' in name or name == 'chain' else (0, ))]


@pytest.mark.parametrize('name,seed', LESION_CASES)
def test_lesion_slices_follow_the_mask(name, seed):
    np.random.seed(seed)
    results = LESION_TRANSFORMS[name]()(_lesion_sample())
    lesion_d = np.flatnonzero(results['gt_seg'].reshape(results['gt_seg'].shape[0], -1).any(1))
    assert sorted(results['lesion_slices']) == lesion_d.tolist(), name
    assert all(isinstance(s, int) for s in results['lesion_slices'])
    if name == 'center_crop_drops_lesions':
        assert results['lesion_slices'] == []
    elif 'random_crop' not in name:
        assert len(results['lesion_slices']) >= 1


def test_lesion_slices_through_flip_are_mirrored():
    results = MedRandomFlip(1.0, axes=(0, ))(_lesion_sample())
    assert sorted(results['lesion_slices']) == sorted(25 - s for s in LESION_SLICES)


def test_lesion_slices_unchanged_by_in_plane_transforms():
    for transform in (MedRandomFlip(1.0, axes=(1, 2)), CenterCropOrPad((None, 30, 26)),
                      MedResize((None, 16, 15))):
        results = transform(_lesion_sample())
        assert sorted(results['lesion_slices']) == LESION_SLICES, transform


def test_mmcv_transform_names_are_not_shadowed():
    """A pipeline pasted from mmcv / mmseg gets their classes, not unimedi's 2D/3D ones."""
    with DefaultScope.overwrite_default_scope('unimedi'):
        assert TRANSFORMS.get('Resize') is mmcv.transforms.Resize
        assert TRANSFORMS.get('RandomFlip') is mmcv.transforms.RandomFlip
        assert TRANSFORMS.get('MedResize') is MedResize
