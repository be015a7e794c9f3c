"""COVIDxDataset: the list formats of COVIDx versions, on fake PNGs and lists."""
from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from unimedi.datasets import COVIDxDataset, ManifestError
from unimedi.datasets.covidx import COVIDX_BINARY_CLASSES, parse_covidx_line
from fakes.downstream import write_fake_covidx

PIPELINE = [dict(type='LoadMedicalImage'), dict(type='PackMedInputs')]
#: without serialize_data, which runs gc.collect() (0.2 s a dataset here); the
#: tests of a loaded sample use the default
Dataset = partial(COVIDxDataset, serialize_data=False)


@pytest.fixture(scope='module')
def covidx(tmp_path_factory) -> dict:
    return write_fake_covidx(tmp_path_factory.mktemp('covidx'))


@pytest.mark.parametrize('line, expected', [
    # COVIDx v1-v3: three columns
    ('47c78742 47c78742.png normal', ('47c78742', '47c78742.png', 0, '')),
    # later versions add the source
    ('419639-003251 MIDRC-RICORD-1C-419639-003251-46647-0.png COVID-19 ricord',
     ('419639-003251', 'MIDRC-RICORD-1C-419639-003251-46647-0.png', 2, 'ricord')),
    ('12 a.jpg covid cohen', ('12', 'a.jpg', 2, 'cohen')),
    ('12 a.jpg Covid-19', ('12', 'a.jpg', 2, '')),
    ('3 b.png Pneumonia sirm', ('3', 'b.png', 1, 'sirm')),
    # a file name with a space
    ('8 SARS fig 1.jpeg pneumonia cohen', ('8', 'SARS fig 1.jpeg', 1, 'cohen')),
])
def test_line_formats(line, expected):
    entry = parse_covidx_line(line, 'list.txt:1')
    assert (entry['patient_id'], entry['filename'], entry['label'], entry['source']) == expected


def test_unknown_and_binary_classes():
    with pytest.raises(ManifestError, match=r"list.txt:7: unknown class 'tuberculosis'"):
        parse_covidx_line('1 a.png tuberculosis sirm', 'list.txt:7')
    with pytest.raises(ManifestError, match=r"list.txt:2: unknown class 'positive'.*binary"):
        parse_covidx_line('1 a.png positive rsna', 'list.txt:2')
    with pytest.raises(ManifestError, match='list.txt:3: expected "patient_id filename'):
        parse_covidx_line('1 a.png', 'list.txt:3')
    assert parse_covidx_line('1 a.png positive rsna', 'x', COVIDX_BINARY_CLASSES)['label'] == 1


def test_splits_labels_and_loaded_sample(covidx):
    counts = {}
    for split, kwargs in covidx.items():
        dataset = Dataset(pipeline=PIPELINE, **kwargs)
        counts[split] = Counter(dataset.get_data_info(i)['gt_label'] for i in range(len(dataset)))
        assert set(counts[split]) == {0, 1, 2} and len(dataset) >= 4
    assert counts['test'] == {0: 4, 1: 4, 2: 4}
    assert sum(sum(c.values()) for s, c in counts.items() if s != 'test') == 36
    dataset = COVIDxDataset(pipeline=PIPELINE, **covidx['test'])
    assert dataset.metainfo['classes'] == ('normal', 'pneumonia', 'COVID-19')
    info = dataset.get_data_info(0)
    assert info['sample_id'] == 'testnor0-0.png' and info['patient_id'] == 'testnor0'
    assert info['source'] == 'fake0' and info['img_path'].endswith('test/testnor0-0.png')
    sample = dataset[len(dataset) - 1]
    assert tuple(sample['inputs'].shape) == (1, 64, 64)
    assert sample['data_samples'].modality == '2d'
    assert sample['data_samples'].gt_label.item() == 2


def test_binary_lists_with_their_classes(covidx, tmp_path):
    root = covidx['train']['data_root']
    (tmp_path / 'binary.txt').write_text('testnor0 testnor0-0.png negative rsna\n'
                                         'testcov0 testcov0-0.png positive ricord\n')
    dataset = Dataset(str(tmp_path / 'binary.txt'), root, img_dir='test',
                      metainfo=dict(classes=('negative', 'positive')))
    assert [dataset.get_data_info(i)['gt_label'] for i in range(2)] == [0, 1]


def test_data_fraction_and_errors(covidx, tmp_path):
    half = Dataset(data_fraction=0.5, **covidx['test'])
    assert Counter(half.get_data_info(i)['gt_label'] for i in range(len(half))) == {
        0: 2, 1: 2, 2: 2}
    root = covidx['train']['data_root']
    (tmp_path / 'unknown.txt').write_text('testnor0 testnor0-0.png normal rsna\n\n'
                                          'x x.png flu rsna\n')
    with pytest.raises(ManifestError, match=r"unknown.txt:3: unknown class 'flu'"):
        Dataset(str(tmp_path / 'unknown.txt'), root, img_dir='test')
    (tmp_path / 'missing.txt').write_text('p1 absent.png normal rsna\n')
    with pytest.raises(FileNotFoundError, match=r'missing.txt:1: image file not found'):
        Dataset(str(tmp_path / 'missing.txt'), root)
    (tmp_path / 'empty.txt').write_text('\n')
    with pytest.raises(ManifestError, match='empty.txt: holds no lines'):
        Dataset(str(tmp_path / 'empty.txt'), root)
