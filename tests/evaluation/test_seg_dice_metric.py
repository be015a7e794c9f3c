"""SegDiceMetric: Dice against hand-computed values, NaN for absent classes, and NIfTI
predictions written on the original file's grid (LAS / LPS files, resampled pipelines)."""
from __future__ import annotations

import math

import nibabel as nib
import numpy as np
import pytest
import torch

from unimedi.datasets.transforms import LoadMedicalImage, LoadMedicalMask, MedResize
from unimedi.evaluation.metrics.seg_dice import SegDiceMetric, dice_per_class

CLASSES = ('background', 'liver', 'spleen', 'kidney')


def _sample(pred, gt, **meta) -> dict:
    return dict(pred_seg=torch.as_tensor(pred), gt_seg=torch.as_tensor(gt), **meta)


def test_dice_per_class_matches_a_hand_computed_value():
    gt = torch.zeros(2, 4, 4, dtype=torch.long)
    pred = torch.zeros_like(gt)
    gt[0, 0, :4] = 1  # 4 voxels of class 1
    pred[0, 0, :2] = 1  # 2 of them found ...
    pred[1, 3, 3] = 1  # ... and 1 false positive: 2 * 2 / (3 + 4)
    gt[1, 0, 0] = 3  # class 3 missed: 0
    dice = dice_per_class(pred, gt, num_classes=4)
    assert dice[0] == pytest.approx(4 / 7)
    assert math.isnan(dice[1])  # class 2 in neither: no Dice
    assert dice[2] == 0.0


def test_metric_averages_over_volumes_and_leaves_absent_classes_out():
    metric = SegDiceMetric()
    metric.dataset_meta = dict(classes=CLASSES)
    gt = torch.tensor([[0, 1, 1, 2], [0, 0, 1, 1]])
    volume_a = _sample(gt, gt)  # perfect: liver 1, spleen 1
    pred_b = torch.tensor([[0, 1, 0, 0], [0, 0, 0, 0]])
    volume_b = _sample(pred_b, torch.tensor([[0, 1, 1, 0], [0, 0, 0, 0]]))  # liver 2/3
    metric.process(None, [volume_a, volume_b])
    metrics = metric.evaluate(2)
    assert metrics['dice/liver'] == pytest.approx((1 + 2 / 3) / 2)
    assert metrics['dice/spleen'] == pytest.approx(1.0)  # only volume a has a spleen
    assert math.isnan(metrics['dice/kidney'])  # in no volume at all
    assert metrics['dice/mean'] == pytest.approx(((1 + 2 / 3) / 2 + 1.0) / 2)
    assert 'dice/background' not in metrics


def test_metric_scores_mmseg_samples_like_unimedi_ones():
    """2D predictions from mmseg's EncoderDecoder (``SegDataSample``) are scored the same."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    gt = torch.tensor([[0, 1, 1, 2], [0, 0, 1, 3]])
    pred = torch.tensor([[0, 1, 0, 2], [0, 0, 1, 0]])
    mmseg_sample = SegDataSample(metainfo=dict(img_path='cxr.png'))
    mmseg_sample.gt_sem_seg = PixelData(data=gt[None])
    mmseg_sample.pred_sem_seg = PixelData(data=pred[None])
    scores = []
    for sample in (mmseg_sample.to_dict(), _sample(pred, gt)):
        metric = SegDiceMetric()
        metric.dataset_meta = dict(classes=CLASSES)
        metric.process({}, [sample])
        scores.append(metric.compute_metrics(metric.results))
    assert scores[0] == scores[1]
    assert scores[0]['liver'] == pytest.approx(2 * 2 / (2 + 3))
    assert scores[0]['spleen'] == 1.0 and scores[0]['kidney'] == 0.0


def test_metric_errors_name_the_sample():
    metric = SegDiceMetric(classes=('background', 'lesion'))
    with pytest.raises(ValueError, match=r'a\.nii\.gz.*labels must be in \[0, 2\)'):
        metric.process(None, [_sample([0, 2], [0, 1], img_path='a.nii.gz')])
    with pytest.raises(KeyError, match='no gt_seg'):
        metric.process(None, [dict(pred_seg=torch.zeros(2), img_path='b.nii.gz')])
    with pytest.raises(ValueError, match='class names'):
        SegDiceMetric().process(None, [_sample([0], [0])])
    assert SegDiceMetric(num_classes=3)._class_names() == ('background', '1', '2')


# ----------------------------------------------------------------------- NIfTI predictions
ORIENTATIONS = {
    'LAS': np.array([[-2.0, 0, 0, 40], [0, 2.0, 0, -20], [0, 0, 3.0, 5], [0, 0, 0, 1]]),
    'LPS': np.array([[-2.0, 0, 0, 40], [0, -2.0, 0, 30], [0, 0, 3.0, 5], [0, 0, 0, 1]]),
}


def _write_case(folder, axcodes: str):
    """An image and an asymmetric two-label mask in ``axcodes`` on disk."""
    shape = (24, 20, 10)
    mask = np.zeros(shape, np.uint8)
    mask[2:10, 3:9, 1:5] = 1  # near the low x end: a flip would move it
    mask[14:22, 12:18, 5:9] = 2
    image = np.where(mask > 0, 100.0, -500.0).astype(np.float32)
    affine = ORIENTATIONS[axcodes]
    paths = folder / f'case_{axcodes}.nii.gz', folder / f'case_{axcodes}_mask.nii.gz'
    for data, path in zip((image, mask), paths):
        img = nib.Nifti1Image(data, affine)
        img.set_qform(affine, code=1)
        img.set_sform(affine, code=2)
        nib.save(img, str(path))
    assert ''.join(nib.aff2axcodes(affine)) == axcodes
    return paths, mask


def _predict_with_the_pipeline(img_path, seg_path, resize=None) -> dict:
    """A 'perfect model': the pipeline's own gt_seg (reoriented to RAS, maybe resampled)
    as the prediction, with the meta a packed sample carries."""
    results = LoadMedicalMask()(LoadMedicalImage()(dict(img_path=str(img_path),
                                                        seg_map_path=str(seg_path),
                                                        modality='3d')))
    if resize is not None:
        results = MedResize(size=resize)(results)
    return _sample(results['gt_seg'], results['gt_seg'], img_path=str(img_path),
                   affine=results['affine'])


@pytest.mark.parametrize('axcodes', sorted(ORIENTATIONS))
@pytest.mark.parametrize('resize', [None, (20, 40, 48), (7, 15, 17)])
def test_saved_prediction_is_on_the_input_files_grid(tmp_path, axcodes, resize):
    (img_path, seg_path), mask = _write_case(tmp_path, axcodes)
    metric = SegDiceMetric(classes=('background', 'a', 'b'), output_dir=str(tmp_path / 'out'))
    sample = _predict_with_the_pipeline(img_path, seg_path, resize)
    if resize is not None:
        assert tuple(sample['pred_seg'].shape) == resize  # (D, H, W), resampled
    metric.process(None, [sample])
    saved = nib.load(str(tmp_path / 'out' / f'case_{axcodes}_pred.nii.gz'))
    original = nib.load(str(img_path))
    assert saved.shape == original.shape
    np.testing.assert_allclose(saved.affine, original.affine)
    assert nib.aff2axcodes(saved.affine) == tuple(axcodes)
    assert int(saved.header['qform_code']) == 1 and int(saved.header['sform_code']) == 2
    labels = np.asarray(saved.dataobj)
    if resize != (7, 15, 17):  # reoriented, or upsampled 2x: every voxel back in place
        np.testing.assert_array_equal(labels, mask)
        return
    # downsampled ~1.4x, then back (nearest twice): each box lands where it was, within
    # a voxel (a flipped or shifted grid would move it by 8 voxels or more)
    for label in (1, 2):
        shift = np.argwhere(labels == label).mean(0) - np.argwhere(mask == label).mean(0)
        assert np.abs(shift).max() <= 1.0, (label, shift)
    dice = dice_per_class(torch.as_tensor(labels), torch.as_tensor(mask.astype(np.int64)), 3)
    assert dice.min() > 0.7, dice


@pytest.mark.parametrize('image, mask', [
    ('example_ct_sm.nii.gz', 'example_seg.nii.gz'),  # RAS on disk
    ('example_seg_dicom.nii.gz', 'example_seg_dicom.nii.gz'),  # LAS on disk, 512 x 512 x 20
])
def test_saved_prediction_of_a_real_ct(shared_data, tmp_path, image, mask):
    ct = shared_data / 'ct'
    original = nib.load(str(ct / mask))
    shape_dhw = original.shape[::-1]
    sample = _predict_with_the_pipeline(ct / image, ct / mask,
                                        resize=tuple(s // 2 for s in shape_dhw))
    organ = int(np.bincount(sample['gt_seg'].reshape(-1))[1:].argmax()) + 1  # the largest
    sample['pred_seg'] = sample['gt_seg'] = (sample['pred_seg'] == organ).long()
    SegDiceMetric(num_classes=2, output_dir=str(tmp_path)).process(None, [sample])
    saved = nib.load(str(tmp_path / image.replace('.nii.gz', '_pred.nii.gz')))
    assert saved.shape == original.shape
    np.testing.assert_allclose(saved.affine, original.affine)
    assert nib.aff2axcodes(saved.affine) == nib.aff2axcodes(original.affine)
    for code in ('qform_code', 'sform_code'):
        assert saved.header[code] == original.header[code]
    truth = (np.asarray(original.dataobj) == organ).astype(np.int64)
    dice = dice_per_class(torch.as_tensor(np.asarray(saved.dataobj)), torch.as_tensor(truth), 2)
    assert dice[0] > 0.9


def test_prediction_of_a_dicom_series_is_saved_on_its_ras_grid(shared_data, tmp_path):
    ct = shared_data / 'ct'
    sample = _predict_with_the_pipeline(ct / 'example_ct_dicom', ct / 'example_seg_dicom.nii.gz')
    SegDiceMetric(num_classes=int(sample['gt_seg'].max()) + 1,
                  output_dir=str(tmp_path)).process(None, [sample])
    saved = nib.load(str(tmp_path / 'example_ct_dicom_pred.nii.gz'))
    assert nib.aff2axcodes(saved.affine) == ('R', 'A', 'S')
    mask = LoadMedicalMask()(dict(img=np.zeros((1, *sample['gt_seg'].shape)),
                                  seg_map_path=str(ct / 'example_seg_dicom.nii.gz'),
                                  modality='3d'))['gt_seg']
    np.testing.assert_array_equal(np.asarray(saved.dataobj).transpose(2, 1, 0), mask)
