"""RSNAPneumoniaDataset on fake DICOMs and split CSVs written from the official label table."""
from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from unimedi.datasets import ManifestError, RSNAPneumoniaDataset
from fakes.downstream import write_fake_rsna_pneumonia

PIPELINE = [dict(type='LoadMedicalImage'), dict(type='PackMedInputs')]
#: without serialize_data, which runs gc.collect() (0.2 s a dataset here); the
#: tests of a loaded sample use the default
Dataset = partial(RSNAPneumoniaDataset, serialize_data=False)


@pytest.fixture(scope='module')
def rsna(tmp_path_factory) -> dict:
    return write_fake_rsna_pneumonia(tmp_path_factory.mktemp('rsna'))


def _targets(dataset) -> Counter:
    return Counter(dataset.get_data_info(i)['gt_label'][0] for i in range(len(dataset)))


def test_labels_boxes_and_loaded_dicom(rsna):
    dataset = RSNAPneumoniaDataset(pipeline=PIPELINE, **rsna['train'])
    assert dataset.metainfo['classes'] == ('Pneumonia', )
    infos = {dataset.get_data_info(i)['sample_id']: dataset.get_data_info(i)
             for i in range(len(dataset))}
    for patient, info in infos.items():
        number = int(patient.rsplit('-', 1)[1])
        assert info['gt_label'] == [float(number % 2)]
        assert len(info['boxes']) == (0 if number % 2 == 0 else 2 if number % 4 == 3 else 1)
        assert info['img_path'].endswith(f'stage_2_train_images/{patient}.dcm')
    positive = next(i for i in range(len(dataset)) if dataset.get_data_info(i)['boxes'])
    assert dataset.get_data_info(positive)['boxes'][0] == [8.0, 10.0, 20.0, 24.0]
    sample = dataset[positive]
    assert tuple(sample['inputs'].shape) == (1, 64, 64)
    assert sample['data_samples'].modality == '2d'
    assert sample['data_samples'].gt_label.tolist() == [1.0]
    assert sample['data_samples'].spacing == pytest.approx((0.168, 0.168))
    inside, outside = sample['inputs'][0, 12, 10], sample['inputs'][0, 60, 60]
    assert 0.0 <= float(outside) < float(inside) <= 1.0  # the box is bright


def test_splits_and_stratified_data_fraction(rsna):
    sizes = {split: _targets(Dataset(**kwargs)) for split, kwargs in rsna.items()}
    assert sizes == {'train': {0.0: 14, 1.0: 14}, 'val': {0.0: 3, 1.0: 3},
                     'test': {0.0: 3, 1.0: 3}}
    half = Dataset(data_fraction=0.5, **rsna['train'])
    assert _targets(half) == {0.0: 7, 1.0: 7}


def test_errors_name_the_file_line_and_problem(rsna, tmp_path):
    root = rsna['train']['data_root']
    cases = {
        'target.csv': ('patientId,Target,boxes\nfake-rsna-0000,2,[]\n',
                       ManifestError, r'target.csv:2: Target must be 0 or 1'),
        'boxes.csv': ('patientId,Target,boxes\nfake-rsna-0000,0,[]\nfake-rsna-0001,1,[1,2\n',
                      ManifestError, r'boxes.csv:3: boxes must be a JSON list'),
        'missing.csv': ('patientId,Target,boxes\nno-such-patient,0,[]\n',
                        FileNotFoundError, r'missing.csv:2: image file not found'),
        'column.csv': ('patientId,boxes\nfake-rsna-0000,[]\n',
                       ValueError, r"column.csv: missing column\(s\) \['Target'\]"),
        'empty.csv': ('patientId,Target,boxes\n', ManifestError, 'empty.csv: holds no rows'),
    }
    for name, (text, error, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(error, match=message):
            Dataset(str(tmp_path / name), root)
