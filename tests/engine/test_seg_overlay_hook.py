"""SaveSegOverlaysHook writes PNG overlays for 3D MedDataSamples and mmseg's 2D
SegDataSamples (input resized to the prediction)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from PIL import Image

from unimedi.engine.hooks.seg_overlay_hook import SaveSegOverlaysHook, overlay, top_slices
from unimedi.structures import MedDataSample


def test_top_slices_pick_the_most_foreground():
    gt = np.zeros((6, 4, 4), int)
    gt[1, :2] = 1  # 8 voxels
    pred = np.zeros_like(gt)
    pred[4] = 2  # 16 voxels
    pred[2, 0, 0] = 1
    assert top_slices([gt, pred], 2) == [1, 4]
    assert top_slices([np.zeros((5, 2, 2))], 3) == [1, 2, 3]


def test_overlay_colours_fills_and_outlines():
    grey = np.full((6, 6), 100, np.uint8)
    labels = np.zeros((6, 6), int)
    labels[1:5, 1:5] = 1
    rgb = overlay(grey, labels, alpha=0.5)
    assert rgb.shape == (6, 6, 3)
    assert tuple(rgb[1, 1]) == (230, 25, 75)  # outline: the label's colour
    assert tuple(rgb[2, 2]) == (165, 62, 87)  # inside: half grey, half colour
    assert tuple(rgb[0, 0]) == (100, 100, 100)


def test_3d_samples_give_one_mosaic_per_volume(tmp_path):
    hook = SaveSegOverlaysHook(out_dir='overlays', num_slices=2)
    runner = SimpleNamespace(work_dir=str(tmp_path))
    gt = torch.zeros(5, 16, 20, dtype=torch.long)
    gt[1:3, 4:8, 4:8] = 1
    samples = [MedDataSample(metainfo=dict(img_path=f'/data/case{i}.nii.gz')).set_modality('3d')
               .set_gt_seg(gt).set_pred_seg(gt.roll(1, dims=2)) for i in range(2)]
    samples[1] = MedDataSample(metainfo=dict(img_path='/data/nogt.nii.gz')).set_pred_seg(gt)
    batch = dict(inputs=[torch.rand(1, 5, 16, 20) for _ in samples], data_samples=samples)
    hook.after_test_iter(runner, 0, batch, samples)
    with Image.open(tmp_path / 'overlays' / 'case0.png') as png:
        assert png.size == (2 * 20 + 2, 2 * 16 + 2)  # (gt | pred) x 2 slices
        picture = np.asarray(png)
    assert (picture[..., 0] != picture[..., 1]).any()  # coloured labels are drawn
    with Image.open(tmp_path / 'overlays' / 'nogt.png') as png:
        assert png.size == (20, 2 * 16 + 2)  # prediction only


def test_2d_mmseg_samples_with_a_resized_input(tmp_path):
    seg_data_sample = pytest.importorskip('mmseg.structures').SegDataSample
    sample = seg_data_sample(metainfo=dict(img_path='/data/xray_7.png'))
    labels = torch.zeros(1, 40, 30, dtype=torch.long)
    labels[0, 10:20, 5:15] = 1
    sample.pred_sem_seg = PixelData(data=labels)
    sample.gt_sem_seg = PixelData(data=labels.roll(3, dims=1))
    inputs = [torch.randint(0, 255, (3, 20, 15), dtype=torch.uint8)]  # resized by the pipeline
    hook = SaveSegOverlaysHook(out_dir=str(tmp_path / 'abs'))
    hook.after_test_iter(SimpleNamespace(work_dir='unused'), 3, dict(inputs=inputs), [sample])
    with Image.open(tmp_path / 'abs' / 'xray_7.png') as png:
        assert png.size == (2 * 30 + 2, 40) and png.mode == 'RGB'


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_slices'):
        SaveSegOverlaysHook(num_slices=0)
    with pytest.raises(ValueError, match='alpha'):
        SaveSegOverlaysHook(alpha=2)
