"""3D segmentation datasets: MONAI datalists (file and inline), image + label folders, the
phantom manifest's CTs with lesion masks, their splits, fractions and errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from unimedi.datasets import (BCV_CLASSES, NiftiSegDataset, NiftiSegFolderDataset,
                              PhantomSeg3DDataset)
from unimedi.datasets.phantom.findings import FINDING_CLASSES
from fakes.seg3d import write_fake_phantom_seg_manifest, write_fake_seg_volumes

PIPELINE = [dict(type='LoadMedicalImage', modality='3d'), dict(type='LoadMedicalMask'),
            dict(type='PackMedInputs')]


@pytest.fixture(scope='module')
def seg_root(tmp_path_factory):
    return write_fake_seg_volumes(tmp_path_factory.mktemp('seg3d'), count=6)


def test_datalist_splits_and_samples(seg_root):
    train = NiftiSegDataset(data_root=str(seg_root), ann_file='dataset_0.json',
                            split='training', metainfo=dict(classes=('bg', 'a', 'b')),
                            pipeline=PIPELINE)
    assert len(train) == 5 and train.metainfo['classes'] == ('bg', 'a', 'b')
    info = train.get_data_info(0)
    assert info['img_path'] == str(seg_root / 'images/case_0.nii.gz')
    assert info['seg_map_path'] == str(seg_root / 'labels/case_0.nii.gz')
    assert info['modality'] == '3d' and info['stratify_label'] == 0
    packed = train[0]
    assert packed['inputs'].shape == (1, 12, 24, 32)  # (C, D, H, W) of a (32, 24, 12) file
    assert packed['data_samples'].gt_seg.shape == (12, 24, 32)
    assert set(packed['data_samples'].gt_seg.unique().tolist()) == {0, 1, 2}
    test = NiftiSegDataset(data_root=str(seg_root), ann_file='dataset_0.json', split='test')
    assert len(test) == 1 and 'seg_map_path' not in test.get_data_info(0)
    fraction = NiftiSegDataset(data_root=str(seg_root), ann_file='dataset_0.json',
                               data_fraction=0.4, fraction_seed=3)
    assert len(fraction) == 2
    assert fraction.sample_ids == NiftiSegDataset(
        data_root=str(seg_root), ann_file='dataset_0.json', data_fraction=0.4,
        fraction_seed=3).sample_ids


def test_inline_data_list(seg_root):
    dataset = NiftiSegDataset(data_root=str(seg_root), data_list=[
        dict(image='images/case_1.nii.gz', label='labels/case_1.nii.gz')])
    assert len(dataset) == 1 and dataset.sample_ids == ['images/case_1.nii.gz']


def test_bcv_classes_have_background_first():
    assert len(BCV_CLASSES) == 14 and BCV_CLASSES[0] == 'background'


def test_datalist_errors(seg_root, tmp_path):
    root = str(seg_root)
    with pytest.raises(ValueError, match='either ann_file'):
        NiftiSegDataset(data_root=root)
    with pytest.raises(ValueError, match=r"no list 'train'.*'training'"):
        NiftiSegDataset(data_root=root, ann_file='dataset_0.json', split='train')
    with pytest.raises(FileNotFoundError, match=r'data_list\[0\].*missing\.nii\.gz'):
        NiftiSegDataset(data_root=root, data_list=[dict(image='missing.nii.gz')])
    with pytest.raises(ValueError, match='one "image" path'):
        NiftiSegDataset(data_root=root, data_list=[dict(image=['a', 'b'])])
    bad = tmp_path / 'bad.json'
    bad.write_text('{"training": [')
    with pytest.raises(ValueError, match='bad.json: invalid JSON'):
        NiftiSegDataset(ann_file=str(bad))


def test_decathlon_test_list_of_paths(seg_root, tmp_path):
    """The Medical Segmentation Decathlon's ``dataset.json`` lists test images as paths."""
    datalist = dict(name='fake', training=[dict(image='images/case_0.nii.gz',
                                                label='labels/case_0.nii.gz')],
                    test=['images/case_4.nii.gz', 'images/./case_5.nii.gz'])
    ann_file = tmp_path / 'dataset.json'
    ann_file.write_text(json.dumps(datalist))
    test = NiftiSegDataset(data_root=str(seg_root), ann_file=str(ann_file), split='test')
    assert test.sample_ids == ['images/case_4.nii.gz', 'images/case_5.nii.gz']
    info = test.get_data_info(0)
    assert info['img_path'] == str(seg_root / 'images/case_4.nii.gz')
    assert 'seg_map_path' not in info
    train = NiftiSegDataset(data_root=str(seg_root), ann_file=str(ann_file))
    assert train.get_data_info(0)['seg_map_path'] == str(seg_root / 'labels/case_0.nii.gz')


def test_empty_label_in_a_datalist_file_means_no_label(seg_root, tmp_path):
    ann_file = tmp_path / 'dataset.json'
    ann_file.write_text(json.dumps(dict(training=[dict(image='images/case_0.nii.gz',
                                                       label='')])))
    dataset = NiftiSegDataset(data_root=str(seg_root), ann_file=str(ann_file))
    assert 'seg_map_path' not in dataset.get_data_info(0)


BAD_CASES = [
    ([], 'non-empty list'),
    ({'image': 'images/case_0.nii.gz'}, 'non-empty list'),
    ([dict(image='')], 'one "image" path'),
    ([dict(image='images/case_0.nii.gz', label=3)], '"label" must be one path'),
]


@pytest.mark.parametrize('split, cases, problem', [
    *[('training', *case) for case in BAD_CASES], *[('test', *case) for case in BAD_CASES],
    ('training', ['images/case_0.nii.gz'], 'non-empty list'),  # paths: only "test" may
])
def test_bad_datalist_names_the_file_and_split(seg_root, tmp_path, cases, problem, split):
    ann_file = tmp_path / 'dataset.json'
    ann_file.write_text(json.dumps({split: cases}))
    with pytest.raises(ValueError, match=problem) as info:
        NiftiSegDataset(data_root=str(seg_root), ann_file=str(ann_file), split=split)
    assert f"{ann_file}[{split!r}]" in str(info.value)


def test_datalist_that_is_not_an_object_names_the_file(seg_root, tmp_path):
    ann_file = tmp_path / 'dataset.json'
    ann_file.write_text(json.dumps([dict(image='images/case_0.nii.gz')]))
    with pytest.raises(ValueError, match=r"no list 'training' \(split\); the file has list"):
        NiftiSegDataset(data_root=str(seg_root), ann_file=str(ann_file))
    with pytest.raises(FileNotFoundError, match='annotation file not found'):
        NiftiSegDataset(data_root=str(seg_root), ann_file=str(tmp_path / 'missing.json'))


def test_folder_dataset_fixed_splits(seg_root):
    splits = {split: NiftiSegFolderDataset(str(seg_root), split=split,
                                           split_fractions=dict(train=0.5, val=0.25,
                                                                test=0.25)).sample_ids
              for split in ('train', 'val', 'test')}
    everything = NiftiSegFolderDataset(str(seg_root)).sample_ids
    assert sorted(sum(splits.values(), [])) == sorted(everything) == [f'case_{i}'
                                                                      for i in range(6)]
    assert all(splits.values()) and len(splits['train']) >= 3
    again = NiftiSegFolderDataset(str(seg_root), split='train',
                                  split_fractions=dict(train=0.5, val=0.25, test=0.25))
    assert again.sample_ids == splits['train']
    info = again.get_data_info(0)
    assert info['seg_map_path'].endswith(f'labels/{info["sample_id"]}.nii.gz')


def test_folder_dataset_split_file_and_unmatched_files(tmp_path):
    root = write_fake_seg_volumes(tmp_path / 'folder', count=3)
    (root / 'split.json').write_text(json.dumps(dict(train=['case_0', 'case_1.nii.gz'],
                                                     test=['case_2'])))
    dataset = NiftiSegFolderDataset(str(root), split='test', split_file='split.json')
    assert dataset.sample_ids == ['case_2']
    (root / 'split.json').write_text(json.dumps(dict(train=['case_9'])))
    with pytest.raises(ValueError, match="case 'case_9'.*no image"):
        NiftiSegFolderDataset(str(root), split='train', split_file='split.json')
    (root / 'images' / 'case_0.nii.gz').rename(root / 'images' / 'case_7.nii.gz')
    with pytest.raises(ValueError, match=r"without a label.*case_7.*without an image.*case_0"):
        NiftiSegFolderDataset(str(root))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        NiftiSegFolderDataset(str(root), img_dir='nowhere')


def test_phantom_seg3d_reads_the_ct_rows_of_a_split(tmp_path):
    root = write_fake_phantom_seg_manifest(tmp_path / 'phantoms', count=5)
    train = PhantomSeg3DDataset(data_root=str(root), split='train', pipeline=PIPELINE)
    assert train.metainfo['classes'] == ('background', ) + FINDING_CLASSES
    assert train.sample_ids == ['case_0', 'case_1', 'case_2']  # the 2D row is skipped
    info = train.get_data_info(1)
    assert info['stratify_label'] == [1, 1, 0, 0, 0, 0, 0]  # nodule + mass
    assert 'label_map' not in info
    assert train[0]['data_samples'].gt_seg.max() == 2
    assert len(PhantomSeg3DDataset(data_root=str(root), split='test')) == 1


def test_phantom_seg3d_binary_merges_findings(tmp_path):
    root = write_fake_phantom_seg_manifest(tmp_path / 'phantoms', count=4)
    pipeline = PIPELINE[:2] + [dict(type='RemapLabels'), PIPELINE[2]]
    dataset = PhantomSeg3DDataset(data_root=str(root), split='train', binary=True,
                                  pipeline=pipeline)
    assert dataset.metainfo['classes'] == ('background', 'lesion')
    assert dataset.get_data_info(0)['stratify_label'] == [1]
    labels = dataset[1]['data_samples'].gt_seg
    assert set(np.unique(labels.numpy()).tolist()) == {0, 1}
    with pytest.raises(ValueError, match='has the classes'):
        PhantomSeg3DDataset(data_root=str(root), binary=True,
                            metainfo=dict(classes=('background', 'nodule')))
    with pytest.raises(ValueError, match='split must be'):
        PhantomSeg3DDataset(data_root=str(root), split='training')
