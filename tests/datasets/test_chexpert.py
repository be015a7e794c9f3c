"""CheXpertDataset on a fake CheXpert-v1.0-small tree in CheXpert's own CSV format."""
from __future__ import annotations

import csv
from functools import partial
from pathlib import Path

import pytest

from unimedi.datasets import CheXpertDataset, ManifestError
from unimedi.datasets.chexpert import COMPETITION_CLASSES
from fakes.downstream import CHEXPERT_HEADER, write_fake_chexpert

PIPELINE = [dict(type='LoadMedicalImage'), dict(type='PackMedInputs')]
#: without serialize_data, which runs gc.collect() (0.2 s a dataset here); the
#: tests of a loaded sample use the default
Dataset = partial(CheXpertDataset, serialize_data=False)
OFFICIAL_TRAIN = 'CheXpert-v1.0-small/train.csv'


@pytest.fixture(scope='module')
def chexpert(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('chexpert')
    return write_fake_chexpert(root)


def _by_patient(dataset) -> dict:
    return {dataset.get_data_info(i)['patient_id']: dataset.get_data_info(i)['gt_label']
            for i in range(len(dataset))}


def test_uncertain_policies_and_blank_cells(chexpert):
    root = chexpert['train']['data_root']
    zeros = _by_patient(Dataset(OFFICIAL_TRAIN, root, uncertain='zeros'))
    ones = _by_patient(Dataset(OFFICIAL_TRAIN, root, uncertain='ones'))
    assert COMPETITION_CLASSES == ('Atelectasis', 'Cardiomegaly', 'Consolidation', 'Edema',
                                   'Pleural Effusion')
    # patterns cycle over patients: 1 = Atelectasis + Edema, 2 = Cardiomegaly + Effusion,
    # 3 = Consolidation with Atelectasis and Edema uncertain, 4 = no finding (blank cells)
    assert zeros['patient00001'] == ones['patient00001'] == [1.0, 0.0, 0.0, 1.0, 0.0]
    assert zeros['patient00002'] == [0.0, 1.0, 0.0, 0.0, 1.0]
    assert zeros['patient00003'] == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert ones['patient00003'] == [1.0, 0.0, 1.0, 1.0, 0.0]
    assert zeros['patient00004'] == ones['patient00004'] == [0.0] * 5


def test_frontal_filter_and_loaded_sample(chexpert):
    root = chexpert['train']['data_root']
    frontal = CheXpertDataset(OFFICIAL_TRAIN, root, pipeline=PIPELINE)
    every_view = Dataset(OFFICIAL_TRAIN, root, frontal_only=False)
    assert len(frontal) == 16 and len(every_view) == 16 + 6  # every third has a lateral
    assert {frontal.get_data_info(i)['view'] for i in range(len(frontal))} == {'Frontal'}
    info = frontal.get_data_info(0)
    assert info['sample_id'] == 'CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg'
    assert info['img_path'] == str(Path(root) / info['sample_id'])
    sample = frontal[0]
    assert tuple(sample['inputs'].shape) == (1, 64, 64)
    assert sample['data_samples'].modality == '2d'
    assert sample['data_samples'].gt_label.tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]


def test_prepared_splits_read_with_every_class(chexpert):
    sizes = {}
    for split, kwargs in chexpert.items():
        dataset = Dataset(**kwargs)
        labels = [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]
        assert all(0 < sum(column) < len(labels) for column in zip(*labels)), split
        sizes[split] = len(dataset)
    assert sizes == {'train': 12, 'val': 4, 'test': 4}


def test_other_classes_and_data_fraction(chexpert):
    dataset = Dataset(classes=['Support Devices', 'No Finding'], **chexpert['train'])
    assert dataset.metainfo['classes'] == ('Support Devices', 'No Finding')
    assert sorted(map(tuple, _by_patient(dataset).values())) == sorted(
        [(1.0, 0.0)] * 3 + [(0.0, 1.0)] * 3 + [(0.0, 0.0)] * 6)
    from_metainfo = Dataset(metainfo=dict(classes=('Edema', )), **chexpert['train'])
    assert from_metainfo.metainfo['classes'] == ('Edema', )
    assert sorted(from_metainfo.get_data_info(i)['gt_label'] for i in range(12)) == (
        [[0.0]] * 9 + [[1.0]] * 3)
    half = Dataset(data_fraction=0.5, **chexpert['train'])
    patterns = {tuple(half.get_data_info(i)['gt_label']) for i in range(len(half))}
    assert len(half) == 6 and len(patterns) == 4  # every label pattern kept


def _write(path: Path, header, rows) -> Path:
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _row(path: str, view='Frontal', **values) -> list:
    cells = {name: '' for name in CHEXPERT_HEADER}
    cells.update({'Path': path, 'Frontal/Lateral': view}, **values)
    return [cells[name] for name in CHEXPERT_HEADER]


def test_errors_name_the_file_line_and_problem(chexpert, tmp_path):
    root = chexpert['train']['data_root']
    image = 'CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg'
    bad_value = _write(tmp_path / 'bad_value.csv', CHEXPERT_HEADER,
                       [_row(image), _row(image, Edema='2.0')])
    with pytest.raises(ManifestError, match=r"bad_value.csv:3: column 'Edema' must be 1.0"):
        Dataset(str(bad_value), root)
    header = [c for c in CHEXPERT_HEADER if c != 'Edema']
    no_column = _write(tmp_path / 'no_column.csv', header, [])
    with pytest.raises(ValueError, match=r"no_column.csv: missing column\(s\) \['Edema'\]"):
        Dataset(str(no_column), root)
    missing = _write(tmp_path / 'missing.csv', CHEXPERT_HEADER,
                     [_row('CheXpert-v1.0-small/train/patient09999/study1/view1_frontal.jpg')])
    with pytest.raises(FileNotFoundError, match=r'missing.csv:2: image file not found'):
        Dataset(str(missing), root)
    assert len(Dataset(str(missing), root, check_files=False)) == 1
    lateral = _write(tmp_path / 'lateral.csv', CHEXPERT_HEADER, [_row(image, view='Lateral')])
    with pytest.raises(ManifestError, match='lateral.csv: no rows left after filtering'):
        Dataset(str(lateral), root)
    with pytest.raises(FileNotFoundError, match='annotation file not found'):
        Dataset('absent.csv', root)
    with pytest.raises(ValueError, match='uncertain must be one of'):
        Dataset(OFFICIAL_TRAIN, root, uncertain='ignore')
