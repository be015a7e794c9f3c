"""SIIM RLE and RSNA boxes -> masks, the prepare functions and their tools."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from unimedi.datasets.prepare.rsna_seg import boxes_to_mask
from unimedi.datasets.prepare.siim_seg import read_siim_rle, rle_decode, rle_encode
from unimedi.io.split_lists import read_split_list
from fakes.segmentation import SIZE, siim_mask, write_fake_rsna_seg, write_fake_siim
from repo_scripts import load_script

# RLE -----------------------------------------------------------------------------------


def test_rle_decode_against_a_hand_made_mask():
    # 3 x 4 image, pixels numbered down the columns: 0 1 2 | 3 4 5 | 6 7 8 | 9 10 11
    # "1 2 3 1": pixels 1-2 (column 0, rows 1-2), then 3 past their end: pixel 6 (row 0,
    # column 2)
    expected = np.array([[0, 0, 1, 0],
                         [1, 0, 0, 0],
                         [1, 0, 0, 0]], np.uint8)
    np.testing.assert_array_equal(rle_decode('1 2 3 1', (3, 4)), expected)
    assert rle_encode(expected) == '1 2 3 1'
    np.testing.assert_array_equal(rle_decode('-1', (3, 4)), np.zeros((3, 4)))
    np.testing.assert_array_equal(rle_decode(' -1 ', (3, 4)), np.zeros((3, 4)))
    assert rle_encode(np.zeros((3, 4))) == '-1'


@pytest.mark.parametrize('seed', range(5))
def test_rle_round_trip(seed):
    rng = np.random.default_rng(seed)
    mask = (rng.random((17, 23)) > 0.6).astype(np.uint8)
    mask[-1, -1] = 1  # a run that reaches the last pixel
    np.testing.assert_array_equal(rle_decode(rle_encode(mask), mask.shape), mask)


@pytest.mark.parametrize('rle,match', [('1 2 3', 'pairs'), ('0 13', 'past the 3x4 image'),
                                       ('a b', 'integers'), ('-2 3', 'non-negative')])
def test_bad_rle_is_refused(rle, match):
    with pytest.raises(ValueError, match=match):
        rle_decode(rle, (3, 4))


def test_read_siim_rle_unions_rows_and_strips_the_header(tmp_path):
    path = tmp_path / 'train-rle.csv'
    path.write_text('ImageId, EncodedPixels\nA, -1\nB, 1 2\nB, 5 1\n\nC,  -1\n')
    assert read_siim_rle(str(path)) == {'A': [], 'B': ['1 2', '5 1'], 'C': []}
    path.write_text('Image, Pixels\nA, -1\n')
    with pytest.raises(ValueError, match='needs columns ImageId and EncodedPixels'):
        read_siim_rle(str(path))


# boxes ---------------------------------------------------------------------------------


def test_boxes_to_mask_against_a_hand_made_mask():
    mask = boxes_to_mask([[1, 0, 2, 1], [2.5, 2.2, 1.0, 0.5]], (4, 5))
    expected = np.array([[0, 1, 1, 0, 0],
                         [0, 0, 0, 0, 0],
                         [0, 0, 1, 1, 0],   # x 2.5..3.5 touches columns 2 and 3
                         [0, 0, 0, 0, 0]], np.uint8)
    np.testing.assert_array_equal(mask, expected)
    clipped = boxes_to_mask([[3, 3, 10, 10]], (4, 5))
    assert clipped.sum() == 2  # rows 3, columns 3-4
    with pytest.raises(ValueError, match='negative width'):
        boxes_to_mask([[0, 0, -1, 2]], (4, 5))


# prepare functions and tools -----------------------------------------------------------


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_prepare_siim_writes_masks_and_stratified_splits(tmp_path):
    args = write_fake_siim(tmp_path / 'siim', num=20)
    root = tmp_path / 'siim'
    lists = {split: read_split_list(str(root / a['split_file'])) for split, a in args.items()}
    stems = [stem for entries in lists.values() for stem, _ in entries]
    assert len(stems) == len(set(stems)) == 20
    assert {split: len(e) for split, e in lists.items()} == {'train': 14, 'val': 3, 'test': 3}
    for split, entries in lists.items():
        assert {label for _, label in entries} == {0, 1}, split  # stratified
    for stem, label in lists['train']:
        index = int(stem.rsplit('.', 1)[-1]) - 1000
        expected = np.zeros((SIZE, SIZE), np.uint8)
        for region in siim_mask(index):
            expected |= region
        mask = _png(root / 'prepared' / 'masks' / f'{stem}.png')
        np.testing.assert_array_equal(mask, expected)  # two regions are unioned
        assert label == int(expected.any())
        assert (root / 'dicom-images-train' / f'{stem}.dcm').is_file()


def test_prepare_siim_tool_reports_and_fails_clearly(tmp_path, capsys):
    write_fake_siim(tmp_path / 'siim', num=8)
    root = tmp_path / 'siim'
    with open(root / 'train-rle.csv', 'a') as f:
        f.write('1.2.3.not.there, -1\n')
    tool = load_script('tools/data/prepare_siim.py')
    assert tool.main(['--root', str(root), '--out', str(tmp_path / 'out')]) == 0
    out = capsys.readouterr().out
    assert 'SIIM-ACR Pneumothorax: 8 samples' in out
    assert 'skipped 1' in out and '1.2.3.not.there' in out
    assert (tmp_path / 'out' / 'splits' / 'test.txt').is_file()
    assert tool.main(['--root', str(tmp_path / 'nothing')]) == 2
    assert 'train-rle.csv: annotation file not found' in capsys.readouterr().err


def test_prepare_rsna_seg_keeps_the_classification_split(tmp_path):
    args = write_fake_rsna_seg(tmp_path / 'rsna', num=40)
    root = tmp_path / 'rsna'
    for split, dataset_args in args.items():
        entries = read_split_list(str(root / dataset_args['split_file']))
        with open(root / 'splits' / f'{split}.csv', newline='') as f:
            rows = list(csv.DictReader(f))
        assert [(r['patientId'], int(r['Target'])) for r in rows] == entries
        for patient, target in entries:
            mask = _png(root / 'seg' / 'masks' / f'{patient}.png')
            assert mask.shape == (SIZE, SIZE) and set(np.unique(mask)) <= {0, 1}
            if target:  # the first fake box is x 8, y 10, w 20, h 24
                assert mask[10:34, 8:28].all() and mask[:10].sum() == 0
            else:
                assert not mask.any()


def test_prepare_rsna_seg_tool_makes_missing_splits(tmp_path, capsys):
    write_fake_rsna_seg(tmp_path / 'rsna', num=20)
    root = tmp_path / 'rsna'
    for split in ('train', 'val', 'test'):
        (root / 'splits' / f'{split}.csv').unlink()
    tool = load_script('tools/data/prepare_rsna_seg.py')
    assert tool.main(['--root', str(root), '--out', str(tmp_path / 'seg')]) == 0
    out = capsys.readouterr().out
    assert 'no split CSVs' in out and 'RSNA Pneumonia (segmentation): 20 samples' in out
    assert len(read_split_list(str(tmp_path / 'seg' / 'splits' / 'train.txt'))) == 14
    (root / 'stage_2_train_images' / 'fake-rsna-0000.dcm').unlink()
    assert tool.main(['--root', str(root), '--out', str(tmp_path / 'seg2')]) == 2
    assert 'fake-rsna-0000.dcm' in capsys.readouterr().err
