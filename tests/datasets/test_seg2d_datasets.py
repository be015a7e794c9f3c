"""PhantomSeg2DDataset and SegImageFolderDataset: samples, classes, fractions and errors."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from unimedi.datasets import PhantomSeg2DDataset, SegImageFolderDataset
from unimedi.datasets.manifest_dataset import ManifestError
from unimedi.datasets.phantom.findings import FINDING_CLASSES
from unimedi.io.split_lists import write_split_list
from unimedi.io.writers import write_mask_png
from fakes.segmentation import write_fake_phantom_seg2d, write_fake_seg_image_folder

PIPELINE = [dict(type='LoadMedicalImage', modality='2d'), dict(type='LoadMedicalMask'),
            dict(type='KeepOriginalMask'), dict(type='MedResize', size=(32, 32)),
            dict(type='PackSegInputs2D')]


@pytest.fixture(scope='module')
def phantoms(tmp_path_factory) -> dict:
    return write_fake_phantom_seg2d(tmp_path_factory.mktemp('phantom_seg2d'))


@pytest.fixture
def folder(tmp_path) -> dict:
    return write_fake_seg_image_folder(tmp_path / 'folder')


# phantoms ------------------------------------------------------------------------------


def test_phantom_splits_classes_and_samples(phantoms):
    sizes = {split: len(PhantomSeg2DDataset(**args)) for split, args in phantoms.items()}
    assert sizes == {'train': 6, 'val': 3, 'test': 3}
    dataset = PhantomSeg2DDataset(**phantoms['train'], pipeline=PIPELINE)
    assert dataset.metainfo['classes'] == ('background', ) + FINDING_CLASSES
    assert len(dataset.metainfo['palette']) == 8
    info = dataset.get_data_info(0)
    assert info['img_path'].endswith('.png') and info['seg_map_path'].endswith('_mask.png')
    assert len(info['stratify_label']) == len(FINDING_CLASSES)
    packed = dataset[0]
    assert packed['inputs'].shape == (1, 32, 32)
    gt = packed['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, 64, 64) and int(gt.max()) <= len(FINDING_CLASSES)
    # the mask values are the manifest's findings (k + 1 for finding k)
    rows = [json.loads(line) for line in
            open(os.path.join(phantoms['train']['data_root'], 'manifest.jsonl'))]
    row = next(r for r in rows if r['case_id'] == info['sample_id'])
    present = {FINDING_CLASSES[v - 1] for v in gt.unique().tolist() if v > 0}
    assert present <= set(row['labels'])


def test_phantom_binary_merges_the_findings(phantoms):
    pipeline = PIPELINE[:2] + [dict(type='RemapLabels')] + PIPELINE[2:]
    dataset = PhantomSeg2DDataset(**phantoms['train'], binary=True, pipeline=pipeline)
    assert dataset.metainfo['classes'] == ('background', 'lesion')
    values = set()
    for i in range(len(dataset)):
        values |= set(dataset[i]['data_samples'].gt_sem_seg.data.unique().tolist())
        assert dataset.get_data_info(i)['stratify_label'] in ([0], [1])
    assert values == {0, 1}


def test_phantom_fraction_is_stratified_and_seeded(phantoms):
    full = PhantomSeg2DDataset(**phantoms['train'])
    half = PhantomSeg2DDataset(**phantoms['train'], data_fraction=0.5, fraction_seed=3)
    again = PhantomSeg2DDataset(**phantoms['train'], data_fraction=0.5, fraction_seed=3)
    assert len(half) == 3 and half.sample_ids == again.sample_ids
    assert set(half.sample_ids) < set(full.sample_ids)


def test_phantom_manifest_errors_name_the_line(tmp_path):
    manifest = tmp_path / 'manifest.jsonl'
    manifest.write_text(json.dumps(dict(path='x.png', modality='2d', split='train')) + '\n')
    with pytest.raises(ManifestError, match=r'manifest.jsonl:1: a 2D phantom row needs'):
        PhantomSeg2DDataset(data_root=str(tmp_path))
    manifest.write_text(json.dumps(dict(path='x.png', mask='m.png', modality='2d',
                                        labels=['tumour'], split='train')) + '\n')
    with pytest.raises(ManifestError, match=r"manifest.jsonl:1: unknown findings \['tumour'\]"):
        PhantomSeg2DDataset(data_root=str(tmp_path))
    with pytest.raises(ManifestError, match="no 2D rows with split='val'"):
        PhantomSeg2DDataset(data_root=str(tmp_path), split='val')
    with pytest.raises(ValueError, match='split must be one of'):
        PhantomSeg2DDataset(data_root=str(tmp_path), split='valid')


# image folders -------------------------------------------------------------------------


def test_image_folder_matches_masks_by_relative_path(folder):
    dataset = SegImageFolderDataset(**folder['train'], pipeline=PIPELINE)
    assert len(dataset) == 6
    assert dataset.metainfo['classes'] == ('background', 'foreground')
    info = dataset.get_data_info(1)
    assert info['sample_id'] == 'b/case_01'
    assert info['img_path'].endswith('images/b/case_01.png')
    assert info['seg_map_path'].endswith('masks/b/case_01.png')
    assert info['stratify_label'] == 0  # no label in the list, data_fraction 1: not read
    packed = dataset[1]['data_samples']
    assert set(packed.gt_sem_seg.data.unique().tolist()) == {0, 1}
    # without a split list: every image under img_dir, sorted
    everything = SegImageFolderDataset(**dict(folder['train'], split_file=None))
    assert len(everything) == 12 and everything.sample_ids[0] == 'a/case_00'


def test_image_folder_fraction_stratifies_by_foreground(folder):
    dataset = SegImageFolderDataset(**dict(folder['train'], split_file=None),
                                    data_fraction=0.5)
    # 8 of the 12 fake masks hold a square (index % 3 != 0), 4 are empty
    assert len(dataset) == 6
    labels = [dataset.get_data_info(i)['stratify_label'] for i in range(len(dataset))]
    assert sorted(labels) == [0, 0, 1, 1, 1, 1]


def test_image_folder_uses_the_labels_of_the_split_list(folder, tmp_path):
    split = tmp_path / 'labelled.txt'
    write_split_list(str(split), [('a/case_00', 0), ('b/case_01', 1), ('a/case_02', 1)])
    dataset = SegImageFolderDataset(**dict(folder['train'], split_file=str(split)))
    assert [dataset.get_data_info(i)['stratify_label'] for i in range(3)] == [0, 1, 1]


def test_image_folder_errors_name_the_files(folder, tmp_path):
    root = folder['train']['data_root']
    os.remove(os.path.join(root, 'masks', 'b', 'case_01.png'))
    with pytest.raises(FileNotFoundError, match=r'1 images have no mask, e.g. .*images/b/'
                       r'case_01.png \(expected .*masks/b/case_01.png\)'):
        SegImageFolderDataset(**folder['train'])
    listed = tmp_path / 'missing.txt'
    write_split_list(str(listed), [('a/case_00', None), ('a/nope', None)])
    with pytest.raises(FileNotFoundError, match=r'missing.txt: 1 listed images .*a/nope.png'):
        SegImageFolderDataset(**dict(folder['train'], split_file=str(listed)))
    with pytest.raises(FileNotFoundError, match='mask folder not found'):
        SegImageFolderDataset(**dict(folder['train'], mask_dir='no_masks'))
    with pytest.raises(ValueError, match="holds no image ending with '.jpg'"):
        SegImageFolderDataset(**dict(folder['train'], split_file=None, img_suffix='.jpg'))
    with pytest.raises(ValueError, match='at least 2 classes'):
        SegImageFolderDataset(**folder['train'], classes=('background', ))


def test_a_real_dicom_radiograph_with_its_mask(shared_data, tmp_path):
    """The pipeline reads the DICOM (MONOCHROME1, 16 bit) and scores at its own size."""
    images, masks = tmp_path / 'images', tmp_path / 'masks'
    images.mkdir()
    os.symlink(shared_data / 'dicom' / 'RG1_UNCR.dcm', images / 'RG1_UNCR.dcm')
    mask = np.zeros((1955, 1841), np.uint8)
    mask[500:900, 300:700] = 1
    write_mask_png(str(masks / 'RG1_UNCR.png'), mask)
    dataset = SegImageFolderDataset(data_root=str(tmp_path), img_suffix='.dcm',
                                    classes=('background', 'lesion'),
                                    pipeline=[dict(PIPELINE[-2], size=(224, 224)) if
                                              t['type'] == 'MedResize' else t for t in PIPELINE])
    packed = dataset[0]
    assert packed['inputs'].shape == (1, 224, 224)
    assert 0.0 <= float(packed['inputs'].min()) and float(packed['inputs'].max()) <= 1.0
    meta = packed['data_samples'].metainfo
    assert meta['ori_shape'] == (1955, 1841) and meta['img_shape'] == (224, 224)
    assert int(packed['data_samples'].gt_sem_seg.data.sum()) == 400 * 400
