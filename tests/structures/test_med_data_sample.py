"""MedDataSample: meta and data fields of one 2D or 3D sample."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from unimedi.structures import MODALITIES, MedDataSample


def test_modalities():
    assert MODALITIES == ('2d', '3d')


@pytest.mark.parametrize('modality', ['2d', '3d'])
def test_set_modality(modality):
    sample = MedDataSample().set_modality(modality)
    assert sample.modality == modality
    assert 'modality' in sample.metainfo_keys()
    assert 'modality' not in sample.keys()


@pytest.mark.parametrize('modality', ['2D', '4d', '', None, 2])
def test_bad_modality(modality):
    with pytest.raises(ValueError, match='modality must be one of'):
        MedDataSample().set_modality(modality)


def test_report_and_spacing_are_meta():
    sample = MedDataSample().set_report('Lungs clear.').set_spacing(np.array([3, 1, 1.5]))
    assert sample.report == 'Lungs clear.'
    assert sample.spacing == (3.0, 1.0, 1.5)
    assert all(type(v) is float for v in sample.spacing)
    assert set(sample.metainfo_keys()) == {'report', 'spacing'}
    with pytest.raises(TypeError, match='report must be a str'):
        MedDataSample().set_report(['Lungs clear.'])
    with pytest.raises(TypeError, match='report must be a str'):
        MedDataSample().set_report(None)


def test_gt_label_multi_hot_and_index():
    sample = MedDataSample().set_gt_label([1, 0, 1])
    assert sample.gt_label.dtype == torch.float32
    assert sample.gt_label.tolist() == [1.0, 0.0, 1.0]
    assert 'gt_label' in sample.keys()
    sample.set_gt_label(np.array([0, 1], dtype=np.uint8))
    assert sample.gt_label.dtype == torch.float32 and sample.gt_label.tolist() == [0.0, 1.0]
    for index in (2, np.int64(2), torch.tensor(2), 2.0):
        sample.set_gt_label(index)
        assert sample.gt_label.dtype == torch.long and sample.gt_label.ndim == 0
        assert int(sample.gt_label) == 2


def test_gt_seg_is_long():
    mask = np.zeros((4, 5, 6), np.uint8)
    mask[1, 2, 3] = 7
    sample = MedDataSample().set_gt_seg(mask)
    assert sample.gt_seg.dtype == torch.long and sample.gt_seg.shape == (4, 5, 6)
    assert sample.gt_seg[1, 2, 3] == 7 and int(sample.gt_seg.sum()) == 7
    # non-contiguous arrays work (e.g. after a flip)
    sample.set_gt_seg(mask[:, ::-1])
    assert sample.gt_seg[1, 2, 3] == 7


def test_lesion_and_selected_slices_are_flat_long():
    sample = MedDataSample().set_lesion_slices(5)
    assert sample.lesion_slices.tolist() == [5]
    sample.set_lesion_slices(np.array([[3, 4], [5, 6]]))
    assert sample.lesion_slices.dtype == torch.long
    assert sample.lesion_slices.tolist() == [3, 4, 5, 6]
    sample.set_selected_slices([[1, 2]])
    assert sample.selected_slices.dtype == torch.long and sample.selected_slices.tolist() == [1, 2]


def test_predictions():
    sample = MedDataSample().set_pred_score([0.1, 0.9]).set_pred_label(1)
    sample.set_pred_seg(np.ones((2, 2), np.float32))
    assert sample.pred_score.dtype == torch.float32
    assert sample.pred_score.tolist() == pytest.approx([0.1, 0.9])
    assert sample.pred_label.dtype == torch.long and int(sample.pred_label) == 1
    assert sample.pred_seg.dtype == torch.long and sample.pred_seg.sum() == 4
    assert set(sample.keys()) == {'pred_score', 'pred_label', 'pred_seg'}


@pytest.mark.parametrize('setter', ['set_gt_label', 'set_gt_seg', 'set_lesion_slices',
                                    'set_pred_score'])
def test_bad_value_types(setter):
    with pytest.raises(TypeError, match='must be a Tensor, ndarray, sequence or number'):
        getattr(MedDataSample(), setter)({'a': 1})
    with pytest.raises(TypeError):
        getattr(MedDataSample(), setter)(object())


def test_setters_chain_and_device_moves():
    sample = (MedDataSample(metainfo=dict(img_path='/data/ct.nii.gz', sample_idx=3))
              .set_modality('3d').set_report('x').set_gt_label([1, 0]).set_lesion_slices([2]))
    assert sample.img_path == '/data/ct.nii.gz' and sample.get('sample_idx') == 3
    assert sample.get('missing', 'default') == 'default'
    moved = sample.to('cpu')
    assert isinstance(moved, MedDataSample)
    assert moved.modality == '3d' and moved.gt_label.tolist() == [1.0, 0.0]
    as_numpy = sample.numpy()
    assert isinstance(as_numpy.gt_label, np.ndarray)
    assert as_numpy.report == 'x'
    # a copy keeps meta and data apart from the original
    clone = sample.clone()
    clone.set_gt_label([0, 1])
    assert sample.gt_label.tolist() == [1.0, 0.0]


def test_meta_fields_cannot_become_data_fields():
    sample = MedDataSample().set_modality('2d')
    with pytest.raises(AttributeError):
        sample.modality = '3d'  # meta is set through set_modality / set_metainfo
