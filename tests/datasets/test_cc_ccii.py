"""CCCIIDataset on volumes converted from a fake raw CC-CCII slice tree."""
from __future__ import annotations

import csv
from collections import Counter
from functools import partial
from pathlib import Path

import pytest

from unimedi.datasets import CCCIIDataset, ManifestError
from fakes.downstream import write_fake_cc_ccii

PIPELINE = [dict(type='LoadMedicalImage'), dict(type='PackMedInputs')]
#: without serialize_data, which runs gc.collect() (0.2 s a dataset here); the
#: tests of a loaded sample use the default
Dataset = partial(CCCIIDataset, serialize_data=False)


@pytest.fixture(scope='module')
def cc_ccii(tmp_path_factory) -> dict:
    return write_fake_cc_ccii(tmp_path_factory.mktemp('cc_ccii'))


def _labels(dataset) -> Counter:
    return Counter(dataset.get_data_info(i)['gt_label'] for i in range(len(dataset)))


def test_split_filter_labels_and_loaded_volume(cc_ccii):
    sizes = {split: _labels(Dataset(**kwargs)) for split, kwargs in cc_ccii.items()}
    assert sizes == {'train': {0: 4, 1: 4, 2: 4}, 'val': {0: 2, 1: 2, 2: 2},
                     'test': {0: 2, 1: 2, 2: 2}}
    everything = Dataset('cc_ccii.csv', cc_ccii['train']['data_root'])
    assert len(everything) == 24
    dataset = CCCIIDataset(pipeline=PIPELINE, **cc_ccii['test'])
    assert dataset.metainfo['classes'] == ('Normal', 'CP', 'NCP')
    info = dataset.get_data_info(0)
    assert info['sample_id'].startswith('volumes/') and info['sample_id'].endswith('.nii.gz')
    assert info['modality'] == '3d' and info['patient_id'] and info['scan_id']
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 16, 32, 32)
    assert sample['data_samples'].modality == '3d'
    # slices come back in slice-number order (slice n has n in its top-left pixel)
    assert sample['inputs'][0, :, 0, 0].tolist() == list(range(1, 17))


def test_data_fraction_is_stratified(cc_ccii):
    half = Dataset(data_fraction=0.5, **cc_ccii['train'])
    assert _labels(half) == {0: 2, 1: 2, 2: 2}


def _write(path: Path, rows: list[dict]) -> Path:
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_errors_name_the_file_line_and_problem(cc_ccii, tmp_path):
    root = cc_ccii['train']['data_root']
    volume = Dataset(**cc_ccii['train']).get_data_info(0)['sample_id']
    good = dict(path=volume, label='NCP', patient_id='1', scan_id='2', split='train')
    unknown = _write(tmp_path / 'unknown.csv', [good, dict(good, label='COVID')])
    with pytest.raises(ManifestError, match=r"unknown.csv:3: unknown label 'COVID'"):
        Dataset(str(unknown), root)
    missing = _write(tmp_path / 'missing.csv', [dict(good, path='volumes/absent.nii.gz')])
    with pytest.raises(FileNotFoundError, match=r'missing.csv:2: image file not found'):
        Dataset(str(missing), root)
    with pytest.raises(ManifestError, match=r"no rows left after filtering \(split='val'\)"):
        Dataset(str(_write(tmp_path / 'train_only.csv', [good])), root, split='val')
    no_split = _write(tmp_path / 'no_split.csv', [dict(path=volume, label='CP')])
    assert len(Dataset(str(no_split), root)) == 1
    with pytest.raises(ValueError, match=r"no_split.csv: missing column\(s\) \['split'\]"):
        Dataset(str(no_split), root, split='train')
