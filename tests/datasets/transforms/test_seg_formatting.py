"""PackSegInputs2D / KeepOriginalMask: unimedi's 2D pipeline -> mmseg's SegDataSample."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData

from unimedi.datasets.transforms import KeepOriginalMask, MedRandomFlip, MedResize, PackSegInputs2D
from unimedi.registry import METRICS


@pytest.fixture
def sample() -> dict:
    """What LoadMedicalImage + LoadMedicalMask give for a 40 x 48 radiograph."""
    seg = np.zeros((40, 48), np.int64)
    seg[10:20, 30:40] = 2
    seg[25:35, 5:15] = 1
    return dict(img=np.random.default_rng(0).random((1, 40, 48), dtype=np.float32),
                gt_seg=seg, img_path='/data/a.dcm', seg_map_path='/data/a.png',
                ori_shape=(40, 48), img_shape=(40, 48), modality='2d', spacing=(1.0, 1.0),
                sample_id='a', img_unit='unit')


def test_pack_gives_inputs_and_a_seg_data_sample(sample):
    from mmseg.structures import SegDataSample

    packed = PackSegInputs2D()(dict(sample))
    assert set(packed) == {'inputs', 'data_samples'}
    inputs, data_sample = packed['inputs'], packed['data_samples']
    assert inputs.dtype == torch.float32 and inputs.shape == (1, 40, 48)
    assert isinstance(data_sample, SegDataSample)
    gt = data_sample.gt_sem_seg.data
    assert gt.shape == (1, 40, 48) and gt.dtype == torch.int64
    assert torch.equal(gt[0], torch.from_numpy(sample['gt_seg']))
    meta = data_sample.metainfo
    assert meta['img_path'] == '/data/a.dcm' and meta['seg_map_path'] == '/data/a.png'
    assert meta['ori_shape'] == (40, 48) and meta['img_shape'] == (40, 48)
    assert meta['reduce_zero_label'] is False and meta['flip'] is False
    assert meta['sample_id'] == 'a'


def test_evaluation_masks_stay_at_the_original_size(sample):
    results = KeepOriginalMask()(dict(sample))
    results = MedResize(size=(32, 32))(results)
    packed = PackSegInputs2D()(results)
    assert packed['inputs'].shape == (1, 32, 32)
    meta = packed['data_samples'].metainfo
    assert meta['img_shape'] == (32, 32) and meta['ori_shape'] == (40, 48)
    gt = packed['data_samples'].gt_sem_seg.data[0]
    assert torch.equal(gt, torch.from_numpy(sample['gt_seg']))  # not resized
    # without KeepOriginalMask the mask follows the image (training)
    trained = PackSegInputs2D()(MedResize(size=(32, 32))(dict(sample)))
    assert trained['data_samples'].gt_sem_seg.data.shape == (1, 32, 32)


@pytest.mark.parametrize('axes,direction', [((-1, ), 'horizontal'), ((0, ), 'vertical')])
def test_a_flip_is_recorded_for_mmseg_to_undo(sample, axes, direction):
    flipped = MedRandomFlip(prob=1.0, axes=axes)(KeepOriginalMask()(dict(sample)))
    meta = PackSegInputs2D()(flipped)['data_samples'].metainfo
    assert meta['flip'] is True and meta['flip_direction'] == direction
    with pytest.raises(ValueError, match='one flip direction'):
        PackSegInputs2D()(MedRandomFlip(prob=1.0, axes=(0, 1))(dict(sample)))


def test_pack_errors_name_the_file(sample):
    with pytest.raises(ValueError, match='/data/a.dcm.*2D images'):
        PackSegInputs2D()(dict(sample, img=np.zeros((1, 4, 40, 48), np.float32)))
    with pytest.raises(ValueError, match='/data/a.dcm: ori_gt_seg has shape'):
        PackSegInputs2D()(dict(sample, ori_gt_seg=np.zeros((10, 10), np.int64)))
    with pytest.raises(KeyError, match='needs "img"'):
        PackSegInputs2D()({'img_path': 'x'})
    no_mask = PackSegInputs2D()(dict(sample, gt_seg=None))['data_samples']
    assert 'gt_sem_seg' not in no_mask


def test_iou_metric_dice_matches_a_hand_computation(sample):
    """mmseg's IoUMetric on a packed sample: Dice = 2|P & G| / (|P| + |G|) per class."""
    init_default_scope('unimedi')
    gt = np.zeros((4, 5), np.int64)
    gt[0:2, 0:2] = 1  # 4 pixels of class 1
    pred = np.zeros((4, 5), np.int64)
    pred[0:2, 1:3] = 1  # 4 pixels, 2 of them right
    pred[3, 4] = 1  # and one background pixel called class 1
    packed = PackSegInputs2D()(dict(sample, img=np.zeros((1, 4, 5), np.float32), gt_seg=gt,
                                    ori_shape=(4, 5)))['data_samples']
    packed.pred_sem_seg = PixelData(data=torch.from_numpy(pred)[None])
    metric = METRICS.build(dict(type='mmseg.IoUMetric', iou_metrics=['mIoU', 'mDice']))
    metric.dataset_meta = dict(classes=('background', 'lesion'))
    metric.process({}, [packed.to_dict()])
    result = metric.evaluate(1)
    dice_lesion = 2 * 2 / (5 + 4)  # |P & G| = 2, |P| = 5, |G| = 4
    dice_background = 2 * 13 / (15 + 16)  # |P & G| = 13, |P| = 15, |G| = 16
    assert result['mDice'] == pytest.approx(100 * (dice_lesion + dice_background) / 2,
                                            abs=0.01)
    iou_lesion, iou_background = 2 / 7, 13 / 18
    assert result['mIoU'] == pytest.approx(100 * (iou_lesion + iou_background) / 2, abs=0.01)
