"""PackMedInputs: the pipeline dict -> plain tensor + MedDataSample."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from unimedi.datasets.transforms import PackMedInputs, to_plain_tensor
from unimedi.structures import MedDataSample


def _results_3d(**extra) -> dict:
    results = dict(
        img=np.arange(2 * 4 * 5 * 6, dtype=np.float64).reshape(2, 4, 5, 6), modality='3d',
        img_path='/data/ct_1.nii.gz', seg_map_path='/data/ct_1_mask.nii.gz', sample_idx=5,
        spacing=(3.0, 1.5, 1.5), ori_shape=(4, 5, 6), img_shape=(4, 5, 6),
        affine=np.diag([1.5, 1.5, 3.0, 1.0]), img_unit='HU', report='Lungs clear.',
        gt_label=[1.0, 0.0], gt_seg=np.ones((4, 5, 6), np.uint8), lesion_slices=[1, 2],
        case_id='case001', report_sections={'findings': 'Lungs clear.'}, labels=['nodule'])
    results.update(extra)
    return results


def test_packs_3d_sample():
    packed = PackMedInputs()(_results_3d())
    assert set(packed) == {'inputs', 'data_samples'}
    inputs, sample = packed['inputs'], packed['data_samples']
    assert type(inputs) is torch.Tensor
    assert inputs.dtype == torch.float32 and inputs.shape == (2, 4, 5, 6)
    assert inputs[1, 3, 4, 5] == 2 * 4 * 5 * 6 - 1
    assert isinstance(sample, MedDataSample)
    assert sample.modality == '3d'
    assert sample.report == 'Lungs clear.'
    assert sample.img_path == '/data/ct_1.nii.gz'
    assert sample.seg_map_path == '/data/ct_1_mask.nii.gz'
    assert sample.sample_idx == 5 and sample.spacing == (3.0, 1.5, 1.5)
    assert sample.img_unit == 'HU' and sample.ori_shape == (4, 5, 6)
    np.testing.assert_array_equal(sample.affine, np.diag([1.5, 1.5, 3.0, 1.0]))
    assert sample.gt_label.dtype == torch.float32
    assert sample.gt_label.tolist() == [1.0, 0.0]
    assert sample.gt_seg.dtype == torch.long and sample.gt_seg.shape == (4, 5, 6)
    assert int(sample.gt_seg.sum()) == 4 * 5 * 6
    assert sample.lesion_slices.dtype == torch.long
    assert sample.lesion_slices.tolist() == [1, 2]
    # data fields vs meta fields
    assert set(sample.keys()) == {'gt_label', 'gt_seg', 'lesion_slices'}
    assert 'report' in sample.metainfo_keys() and 'modality' in sample.metainfo_keys()


def test_unwanted_keys_are_dropped():
    sample = PackMedInputs()(_results_3d())['data_samples']
    for key in ('case_id', 'report_sections', 'labels', 'img'):
        assert key not in sample
    assert 'case_id' in PackMedInputs(meta_keys=('case_id', ))(_results_3d())['data_samples']
    sample = PackMedInputs(meta_keys=('img_path', ))(_results_3d())['data_samples']
    assert 'spacing' not in sample and 'sample_idx' not in sample
    assert sample.img_path == '/data/ct_1.nii.gz'


def test_packs_2d_sample_without_optional_fields():
    results = dict(img=np.zeros((1, 8, 9), np.uint8), modality='2d', img_path='x.png',
                   gt_label=1)
    packed = PackMedInputs()(results)
    assert packed['inputs'].shape == (1, 8, 9) and packed['inputs'].dtype == torch.float32
    sample = packed['data_samples']
    assert sample.modality == '2d'
    assert 'report' not in sample and 'gt_seg' not in sample
    assert 'lesion_slices' not in sample and 'spacing' not in sample
    # a class index stays a long scalar (multi-class)
    assert sample.gt_label.dtype == torch.long and sample.gt_label.ndim == 0
    assert int(sample.gt_label) == 1


def test_metatensor_becomes_plain_tensor():
    from monai.data import MetaTensor

    meta = MetaTensor(torch.ones(1, 3, 4, 5, dtype=torch.float64),
                      affine=torch.diag(torch.tensor([2.0, 2.0, 2.0, 1.0])),
                      meta={'filename_or_obj': 'ct.nii.gz'})
    inputs = PackMedInputs()(dict(img=meta, modality='3d', img_path='ct.nii.gz'))['inputs']
    assert type(inputs) is torch.Tensor
    assert not isinstance(inputs, MetaTensor)
    assert inputs.dtype == torch.float32 and inputs.shape == (1, 3, 4, 5)
    assert type(to_plain_tensor(meta)) is torch.Tensor


def test_to_plain_tensor_inputs():
    array = np.arange(6).reshape(2, 3)[:, ::-1]  # non-contiguous
    tensor = to_plain_tensor(array)
    assert tensor.tolist() == [[2, 1, 0], [5, 4, 3]]
    plain = torch.zeros(2)
    assert to_plain_tensor(plain) is plain
    with pytest.raises(TypeError, match='ndarray or Tensor'):
        to_plain_tensor([1, 2])


@pytest.mark.parametrize('modality,shape', [('2d', (1, 4, 5, 6)), ('2d', (4, 5)),
                                            ('3d', (1, 4, 5)), ('3d', (1, 2, 3, 4, 5))])
def test_wrong_ndim_for_modality_names_path(modality, shape):
    results = dict(img=np.zeros(shape, np.float32), modality=modality,
                   img_path='/data/bad_image.nii.gz')
    with pytest.raises(ValueError, match=rf'/data/bad_image\.nii\.gz: a {modality} image must '
                                         rf'have {3 if modality == "2d" else 4} dims'):
        PackMedInputs()(results)


@pytest.mark.parametrize('modality', [None, '4d', '2D'])
def test_bad_modality_names_path(modality):
    results = dict(img=np.zeros((1, 4, 5), np.float32), img_path='/data/a.png')
    if modality is not None:
        results['modality'] = modality
    with pytest.raises(ValueError, match=r'/data/a\.png: modality must be "2d" or "3d"'):
        PackMedInputs()(results)


def test_missing_img_raises_key_error():
    with pytest.raises(KeyError, match='needs "img"'):
        PackMedInputs()(dict(modality='2d', img_path='a.png'))
