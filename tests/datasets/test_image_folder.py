"""ImageFolderDataset on a fake Kermany-style folder and on the real cxr-pneumonia subset."""
from __future__ import annotations

from collections import Counter
from functools import partial

import numpy as np
import pytest

from unimedi.datasets import ImageFolderDataset
from fakes.downstream import write_fake_image_folder

PIPELINE = [dict(type='LoadMedicalImage'), dict(type='PackMedInputs')]
#: without serialize_data, which runs gc.collect() (0.2 s a dataset here); the
#: tests of a loaded sample use the default
Dataset = partial(ImageFolderDataset, serialize_data=False)


@pytest.fixture
def folder(tmp_path) -> dict:
    return write_fake_image_folder(tmp_path / 'kermany')


def _labels(dataset) -> Counter:
    return Counter(dataset.get_data_info(i)['gt_label'] for i in range(len(dataset)))


def test_classes_labels_and_loaded_sample(folder):
    dataset = ImageFolderDataset(pipeline=PIPELINE, **folder['test'])
    assert dataset.metainfo['classes'] == ('NORMAL', 'PNEUMONIA')
    assert len(dataset) == 6 and _labels(dataset) == {0: 3, 1: 3}
    info = dataset.get_data_info(0)
    assert info['sample_id'] == 'NORMAL/IM-0000-0001.jpeg'
    assert info['img_path'].endswith('test/NORMAL/IM-0000-0001.jpeg')
    sample = dataset[5]
    assert tuple(sample['inputs'].shape) == (1, 64, 64)
    assert sample['data_samples'].modality == '2d'
    assert sample['data_samples'].gt_label.item() == 1
    # classes are told apart by brightness
    assert sample['inputs'].mean() > dataset[0]['inputs'].mean() + 0.1


def test_train_val_split_is_disjoint_stratified_and_stable(folder):
    train = Dataset(**folder['train'])
    val = Dataset(**folder['val'])
    whole = Dataset(data_root=folder['train']['data_root'])
    ids = [{d.get_data_info(i)['sample_id'] for i in range(len(d))} for d in (train, val)]
    assert not ids[0] & ids[1]
    assert len(ids[0] | ids[1]) == len(whole) == 20
    assert _labels(val) == {0: 2, 1: 2} and _labels(train) == {0: 8, 1: 8}
    again = Dataset(**folder['val'])
    assert [again.get_data_info(i)['sample_id'] for i in range(len(again))] == sorted(ids[1])
    other = Dataset(split_seed=3, **folder['val'])
    assert {other.get_data_info(i)['sample_id'] for i in range(len(other))} != ids[1]


def test_given_classes_order_the_labels(folder):
    dataset = Dataset(classes=('PNEUMONIA', 'NORMAL'), **folder['test'])
    info = dataset.get_data_info(0)  # files stay sorted by path; labels follow classes
    assert info['sample_id'].startswith('NORMAL/') and info['gt_label'] == 1
    assert dataset.metainfo['classes'] == ('PNEUMONIA', 'NORMAL')
    only = Dataset(classes=['PNEUMONIA'], **folder['test'])
    assert len(only) == 3


def test_data_fraction_is_a_stratified_subset(folder):
    dataset = Dataset(data_fraction=0.5, **folder['train'])
    assert len(dataset) == 8 and _labels(dataset) == {0: 4, 1: 4}


def test_other_files_are_ignored(folder, tmp_path):
    root = tmp_path / 'kermany' / 'test'
    (root / 'NORMAL' / 'notes.txt').write_text('not an image')
    (root / 'NORMAL' / '.hidden.png').write_bytes(b'')
    assert len(Dataset(**folder['test'])) == 6


def test_bad_arguments_and_layouts_are_refused(folder, tmp_path):
    root = folder['test']['data_root']
    with pytest.raises(ValueError, match=r"no folder for classes \['EFFUSION'\]") as info:
        Dataset(data_root=root, classes=('NORMAL', 'EFFUSION'))
    assert root in str(info.value)
    with pytest.raises(ValueError, match='split must be one of'):
        Dataset(data_root=root, split='test')
    with pytest.raises(ValueError, match='val_fraction'):
        Dataset(data_root=root, split='val', val_fraction=1.0)
    with pytest.raises(FileNotFoundError, match='not found'):
        Dataset(data_root=str(tmp_path / 'absent'))
    (tmp_path / 'kermany' / 'test' / 'EMPTY').mkdir()
    with pytest.raises(ValueError, match='EMPTY: class folder holds no image'):
        Dataset(data_root=root)


def test_real_kermany_subset_splits_800_200(shared_data):
    root = shared_data / 'cxr-pneumonia' / 'train'
    if not root.is_dir():
        pytest.skip(f'{root} not present')
    train = Dataset(data_root=str(root), split='train')
    val = Dataset(data_root=str(root), split='val', pipeline=PIPELINE)
    assert train.metainfo['classes'] == ('NORMAL', 'PNEUMONIA')
    assert (len(train), len(val)) == (800, 200)
    assert _labels(train) == {0: 400, 1: 400} and _labels(val) == {0: 100, 1: 100}
    train_ids = {train.get_data_info(i)['sample_id'] for i in range(len(train))}
    val_ids = {val.get_data_info(i)['sample_id'] for i in range(len(val))}
    assert not train_ids & val_ids and len(train_ids | val_ids) == 1000
    sample = val[0]
    assert tuple(sample['inputs'].shape) == (1, 224, 224)
    assert 0.0 <= float(sample['inputs'].min()) and float(sample['inputs'].max()) <= 1.0
    assert np.isfinite(sample['inputs'].numpy()).all()
