"""ImageReportDataset: JSONL / CSV manifests of 2D and 3D image-report pairs."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger

from unimedi.datasets import ImageReportDataset, ManifestError, read_manifest
from unimedi.registry import DATASETS
from unimedi.structures import MedDataSample

CLASSES = ('nodule', 'effusion')


def _write_jsonl(path: Path, rows: list) -> Path:
    path.write_text('\n'.join(r if isinstance(r, str) else json.dumps(r) for r in rows) + '\n')
    return path


def _dataset(ann_file, **kwargs) -> ImageReportDataset:
    kwargs.setdefault('metainfo', dict(classes=CLASSES))
    return ImageReportDataset(ann_file=str(ann_file), **kwargs)


def _infos(dataset) -> list[dict]:
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def _row(**fields) -> dict:
    row = dict(path='a.png', modality='2d', report='FINDINGS: clear.')
    row.update(fields)
    return row


# ---- the tiny manifest -----------------------------------------------------------------
def test_tiny_jsonl_manifest(tiny_dataset):
    root = tiny_dataset.parent
    dataset = _dataset(tiny_dataset.name, data_root=str(root))
    infos = _infos(dataset)
    assert len(dataset) == 10
    assert [i['modality'] for i in infos] == ['2d'] * 6 + ['3d'] * 4
    first = infos[0]
    assert first['img_path'] == str(root / 'xray_0.png')
    assert first['case_id'] == 'case000' and first['split'] == 'test'
    assert first['gt_label'] == [1.0, 1.0]  # i=0: nodule and effusion
    assert 'seg_map_path' not in first and 'lesion_slices' not in first
    assert first['report'].startswith('FINDINGS: There is a nodule.')
    # raw manifest keys are turned into the sample's keys
    for key in ('path', 'labels', 'mask'):
        assert key not in first
    assert infos[1]['gt_label'] == [0.0, 0.0]
    assert infos[3]['gt_label'] == [0.0, 1.0]
    ct = infos[6]
    assert ct['img_path'] == str(root / 'ct_6.nii.gz')
    assert ct['seg_map_path'] == str(root / 'ct_6_mask.nii.gz')
    assert ct['lesion_slices'] == [3, 4, 5]
    assert dataset.metainfo['classes'] == CLASSES


def test_split_and_modality_filters(tiny_dataset):
    root = str(tiny_dataset.parent)
    test = _infos(_dataset(tiny_dataset.name, data_root=root, split='test'))
    assert [i['case_id'] for i in test] == ['case000', 'case001', 'case006', 'case007']
    assert all(i['split'] == 'test' for i in test)
    train_3d = _infos(_dataset(tiny_dataset.name, data_root=root, split='train',
                               modalities=('3d', )))
    assert [i['case_id'] for i in train_3d] == ['case008', 'case009']
    only_2d = _infos(_dataset(tiny_dataset.name, data_root=root, modalities=['2d']))
    assert len(only_2d) == 6 and {i['modality'] for i in only_2d} == {'2d'}
    with pytest.raises(ValueError, match='unknown modalities'):
        _dataset(tiny_dataset.name, data_root=root, modalities=('2d', 'mri'))
    with pytest.raises(ValueError, match='on_empty_report'):
        _dataset(tiny_dataset.name, data_root=root, on_empty_report='ignore')


def test_built_from_registry_with_absolute_paths(tmp_path):
    image = tmp_path / 'elsewhere' / 'x.png'
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [_row(path=str(image))])
    dataset = DATASETS.build(dict(type='ImageReportDataset', ann_file=str(manifest),
                                  data_root=str(tmp_path / 'root'),
                                  metainfo=dict(classes=CLASSES)))
    # an absolute image path is kept as is, even with a data_root
    assert dataset.get_data_info(0)['img_path'] == str(image)


def test_img_path_field_and_no_data_root(tmp_path):
    manifest = _write_jsonl(tmp_path / 'm.jsonl',
                            ['', _row(path=None, img_path='rel/a.png', modality='2D'), '   '])
    info = _dataset(manifest).get_data_info(0)
    assert info['img_path'] == 'rel/a.png'
    assert info['modality'] == '2d'
    assert 'gt_label' not in info


# ---- labels -------------------------------------------------------------------------------
def test_jsonl_label_forms(tmp_path):
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [
        _row(labels=['effusion']),
        _row(labels=[0, 1]),
        _row(labels=[]),
        _row(labels='nodule|effusion'),
    ])
    labels = [i['gt_label'] for i in _infos(_dataset(manifest))]
    assert labels == [[0.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0]]


def test_multi_class_label(tmp_path):
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [
        _row(label='effusion'), _row(label=0), _row(label='1')])
    assert [i['gt_label'] for i in _infos(_dataset(manifest))] == [1, 0, 1]


def test_csv_manifest(tmp_path):
    (tmp_path / 'm.csv').write_text(
        'path,modality,report,labels,mask,lesion_slices,split,case_id\n'
        'x.png,2d,FINDINGS: clear.,nodule|effusion,,,train,c1\n'
        'ct.nii.gz,3D,"IMPRESSION: mass, left.",0|1,ct_mask.nii.gz,3|4,test,c2\n'
        'y.png,2d,No findings,effusion,,,train,c3\n'
        'z.png,2d,Lung ok,"[""nodule""]",,[2],train,c4\n')
    dataset = _dataset('m.csv', data_root=str(tmp_path))
    infos = _infos(dataset)
    assert [i['case_id'] for i in infos] == ['c1', 'c2', 'c3', 'c4']
    assert [i['gt_label'] for i in infos] == [[1.0, 1.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]
    ct = infos[1]
    assert ct['modality'] == '3d'
    assert ct['img_path'] == str(tmp_path / 'ct.nii.gz')
    assert ct['seg_map_path'] == str(tmp_path / 'ct_mask.nii.gz')
    assert ct['lesion_slices'] == [3, 4]
    assert ct['report'] == 'IMPRESSION: mass, left.'
    assert infos[3]['lesion_slices'] == [2]
    assert 'seg_map_path' not in infos[0] and 'lesion_slices' not in infos[0]
    train_2d = _dataset('m.csv', data_root=str(tmp_path), split='train', modalities=('2d', ))
    assert [i['case_id'] for i in _infos(train_2d)] == ['c1', 'c3', 'c4']


def test_csv_multi_class_and_semicolon_lists(tmp_path):
    (tmp_path / 'm.csv').write_text('path,modality,report,label,lesion_slices\n'
                                    'a.nii.gz,3d,text,effusion,1;5\n'
                                    'b.nii.gz,3d,text,0,\n')
    infos = _infos(_dataset(tmp_path / 'm.csv'))
    assert [i['gt_label'] for i in infos] == [1, 0]
    assert infos[0]['lesion_slices'] == [1, 5]
    assert 'lesion_slices' not in infos[1]


# ---- errors name the file and the line -------------------------------------------------
@pytest.mark.parametrize('row,message', [
    (_row(path=None), r'missing "path"'),
    (_row(modality='mri'), r"modality must be one of \('2d', '3d'\), got 'mri'"),
    (_row(modality=None), r'modality must be one of'),
    (_row(labels=['nodule', 'fracture']), r"unknown labels \['fracture'\]"),
    (_row(label='fracture'), r"unknown label 'fracture'"),
    (_row(label=7), r'label index 7 out of range for 2 classes'),
    (_row(lesion_slices=['a']), 'lesion_slices must be integers'),
    (_row(report=''), r'empty report for .*b\.png'),
    (_row(report='   '), r'empty report'),
    (_row(report=None), r'empty report'),
])
def test_bad_row_names_file_and_line(tmp_path, row, message):
    row = {k: v for k, v in row.items() if v is not None}
    if 'path' in row:
        row['path'] = 'b.png'
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [_row(), row])
    with pytest.raises(ManifestError, match=rf'm\.jsonl:2: {message}'):
        _dataset(manifest)


def test_invalid_json_names_line(tmp_path):
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [_row(), '', '{"path": "a.png", modality}'])
    with pytest.raises(ManifestError, match=r'm\.jsonl:3: invalid JSON'):
        _dataset(manifest)
    manifest = _write_jsonl(tmp_path / 'list.jsonl', ['[1, 2]'])
    with pytest.raises(ManifestError, match=r'list\.jsonl:1: expected a JSON object'):
        read_manifest(str(manifest))


def test_csv_error_line_counts_the_header(tmp_path):
    (tmp_path / 'm.csv').write_text('path,modality,report\na.png,2d,ok\nb.png,4d,ok\n')
    with pytest.raises(ManifestError, match=r'm\.csv:3: modality'):
        _dataset(tmp_path / 'm.csv')


def test_labels_without_classes(tmp_path):
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [_row(labels=['nodule'])])
    with pytest.raises(ManifestError, match=r'm\.jsonl:1: rows have labels but metainfo has '
                                            r'no "classes"'):
        _dataset(manifest, metainfo=None)


def test_missing_and_unsupported_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.jsonl: manifest not found'):
        read_manifest(str(tmp_path / 'nope.jsonl'))
    (tmp_path / 'm.txt').write_text('a')
    with pytest.raises(ManifestError, match='must be .jsonl or .csv'):
        read_manifest(str(tmp_path / 'm.txt'))


def test_empty_report_allowed_without_require_report(tmp_path):
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [_row(report='')])
    assert len(_dataset(manifest, require_report=False)) == 1


class _ListHandler(logging.Handler):

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _skipping_dataset(manifest):
    """The dataset with ``on_empty_report='skip'`` and the messages logged while building."""
    logger = MMLogger.get_current_instance()
    handler = _ListHandler()
    logger.addHandler(handler)
    try:
        return _dataset(manifest, on_empty_report='skip'), handler.messages
    finally:
        logger.removeHandler(handler)


def test_skip_empty_reports_logs_and_drops(tmp_path):
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [
        _row(case_id='keep1'), _row(report='', case_id='drop3'), '',
        _row(report=' ', case_id='drop4'), _row(case_id='keep5')])
    dataset, messages = _skipping_dataset(manifest)
    assert [i['case_id'] for i in _infos(dataset)] == ['keep1', 'keep5']
    warnings = [m for m in messages if 'empty report' in m]
    assert len(warnings) == 1
    assert 'skipped 2 rows' in warnings[0]
    assert f'{manifest}:2' in warnings[0] and f'{manifest}:4' in warnings[0]


# ---- text that is not UTF-8 ------------------------------------------------------------------
@pytest.mark.parametrize('name, header', [('m.jsonl', b''), ('m.csv', b'path,modality,report\n')])
def test_invalid_utf8_names_file_line_and_byte(tmp_path, name, header):
    good = (b'a.png,2d,clear\n' if header else json.dumps(_row()).encode() + b'\n')
    bad = (b'b.png,2d,\xe9panchement\n' if header
           else b'{"path": "b.png", "modality": "2d", "report": "\xe9panchement"}\n')
    manifest = tmp_path / name
    manifest.write_bytes(header + good + good + bad)
    line = 4 if header else 3
    column = 10 if header else 48
    with pytest.raises(ManifestError, match=rf'{name}, line {line}: not valid UTF-8 '
                                            rf'\(byte 0xe9 at column {column}\)'):
        read_manifest(str(manifest))


def test_lone_surrogate_report_names_file_and_row(tmp_path):
    # json.dumps writes the lone surrogate as the escape "\ud800": valid JSON, invalid text
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [_row(), '', _row(report='\ud800 text')])
    assert '\\ud800' in manifest.read_text()
    with pytest.raises(ManifestError, match=r'm\.jsonl:3: the report of .*a\.png is not valid '
                                            r"text: a lone surrogate '\\ud800' at character 1"):
        _dataset(manifest)


def test_skip_lone_surrogate_reports_logs_and_drops(tmp_path):
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [
        _row(case_id='keep1'), _row(report='clear \udfff', case_id='drop2'),
        _row(report='', case_id='drop3'), _row(case_id='keep4')])
    dataset, messages = _skipping_dataset(manifest)
    assert [i['case_id'] for i in _infos(dataset)] == ['keep1', 'keep4']
    invalid = [m for m in messages if 'not valid text' in m]
    assert len(invalid) == 1 and 'skipped 1 rows' in invalid[0]
    assert f'{manifest}:2' in invalid[0] and f'{manifest}:3' not in invalid[0]
    empty = [m for m in messages if 'empty report' in m]
    assert len(empty) == 1 and f'{manifest}:3' in empty[0]


def test_lone_surrogate_checked_without_require_report(tmp_path):
    manifest = _write_jsonl(tmp_path / 'm.jsonl', [_row(report='\ud800')])
    with pytest.raises(ManifestError, match=r'm\.jsonl:1: the report .* not valid text'):
        _dataset(manifest, require_report=False)


# ---- the full pipeline ----------------------------------------------------------------------
def test_full_pipeline_3d_with_masks(tiny_dataset):
    pipeline = [dict(type='LoadMedicalImage'), dict(type='LoadMedicalMask'),
                dict(type='ParseReport'), dict(type='PackMedInputs')]
    dataset = _dataset(tiny_dataset.name, data_root=str(tiny_dataset.parent),
                       modalities=('3d', ), pipeline=pipeline)
    assert len(dataset) == 4
    packed = dataset[0]
    inputs, sample = packed['inputs'], packed['data_samples']
    assert type(inputs) is torch.Tensor and inputs.dtype == torch.float32
    # NIfTI (24, 20, 10) stored RAS with reversed axes: (C, D, H, W) = (1, 10, 20, 24)
    assert inputs.shape == (1, 10, 20, 24)
    assert isinstance(sample, MedDataSample)
    assert sample.modality == '3d'
    assert sample.img_path == str(tiny_dataset.parent / 'ct_6.nii.gz')
    assert sample.spacing == pytest.approx((3.0, 1.5, 1.5))
    assert sample.report == 'There is a nodule. There is a effusion. see findings.'
    assert sample.gt_label.tolist() == [1.0, 1.0]
    assert sample.lesion_slices.tolist() == [3, 4, 5]
    assert sample.gt_seg.shape == (10, 20, 24) and sample.gt_seg.dtype == torch.long
    assert int(sample.gt_seg.sum()) == 4 * 4 * 3
    # the lesion mask lies on the listed slices along D
    assert torch.nonzero(sample.gt_seg.sum(dim=(1, 2))).flatten().tolist() == [3, 4, 5]
    # CT in HU: the nodule case is bright (about -1000 + 0.6 * 1500)
    assert abs(float(inputs.mean()) - (-100.0)) < 30
    assert 'case_id' not in sample and 'seg_map_path' in sample


def test_full_pipeline_mixed_2d_3d(tiny_dataset):
    pipeline = [dict(type='LoadMedicalImage'), dict(type='ParseReport'),
                dict(type='PackMedInputs')]
    dataset = _dataset(tiny_dataset.name, data_root=str(tiny_dataset.parent),
                       split='test', pipeline=pipeline)
    samples = [dataset[i] for i in range(len(dataset))]
    shapes = [tuple(s['inputs'].shape) for s in samples]
    assert shapes == [(1, 40, 36), (1, 40, 36), (1, 10, 20, 24), (1, 10, 20, 24)]
    xray = samples[0]
    assert xray['data_samples'].modality == '2d'
    assert 0.0 <= float(xray['inputs'].min()) and float(xray['inputs'].max()) <= 1.0
    # brightness 0.6 for a nodule image
    assert abs(float(xray['inputs'].mean()) - 0.6) < 0.05
    assert samples[1]['data_samples'].report == 'No acute findings. see findings.'
    assert samples[1]['data_samples'].gt_label.tolist() == [0.0, 0.0]
    assert [s['data_samples'].sample_idx for s in samples] == [0, 1, 2, 3]
    assert xray['data_samples'].img_unit == 'unit' and xray['data_samples'].affine is None
    ct = samples[2]['data_samples']
    assert ct.img_unit == 'HU' and ct.spacing == pytest.approx((3.0, 1.5, 1.5))
    # the affine maps (d, h, w) to RAS: d -> z (3 mm), h -> y, w -> x (1.5 mm)
    np.testing.assert_allclose(ct.affine @ np.array([1.0, 0.0, 0.0, 1.0]), [0, 0, 3.0, 1])
    np.testing.assert_allclose(ct.affine @ np.array([0.0, 0.0, 1.0, 1.0]), [1.5, 0, 0, 1])


def test_no_rows_left_after_filtering_is_an_error_naming_the_manifest(tmp_path):
    import json as _json

    from unimedi.datasets import ImageReportDataset, ManifestError
    manifest = tmp_path / 'm.jsonl'
    manifest.write_text(_json.dumps(dict(path='a.png', modality='2d', report='x',
                                         split='Train')) + '\n')
    with pytest.raises(ManifestError, match=r'm\.jsonl: no rows left'):
        ImageReportDataset(ann_file=str(manifest), split='train')


def test_csv_line_numbers_count_multi_line_reports(tmp_path):
    from unimedi.datasets import read_manifest
    manifest = tmp_path / 'm.csv'
    manifest.write_text('path,modality,report\n'
                        'a.png,2d,"FINDINGS: one\nIMPRESSION: two"\n'
                        'b.png,2d,three\n')
    assert [number for number, _ in read_manifest(str(manifest))] == [2, 4]


def test_finding_names_of_multi_hot_and_index_labels():
    from unimedi.datasets.manifest_dataset import finding_names

    classes = ('nodule', 'mass', 'effusion')
    assert finding_names({'gt_label': np.array([1, 0, 1])}, classes) == ['nodule', 'effusion']
    assert finding_names({'gt_label': 1}, classes) == ['mass']
    assert finding_names({}, classes) == [] and finding_names({'gt_label': [1]}, ()) == []
