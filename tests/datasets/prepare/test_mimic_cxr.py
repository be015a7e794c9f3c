"""MIMIC-CXR adapter and CLI on a fabricated MIMIC-CXR-JPG tree."""
from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unimedi.datasets import ImageReportDataset
from unimedi.datasets.prepare import build_mimic_cxr_rows, read_chexpert_labels, read_report_file
from repo_scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[2]
CHEXPERT = ('Atelectasis', 'Cardiomegaly', 'No Finding', 'Pleural Effusion')

# (dicom_id, study_id, subject_id, split, ViewPosition)
IMAGES = [
    ('d1', '50414267', '10000032', 'train', 'PA'),
    ('d2', '50414267', '10000032', 'train', 'LATERAL'),
    ('d3', '53189527', '10000032', 'train', 'AP'),
    ('d4', '57375967', '10000764', 'validate', 'PA'),
    ('d5', '51000000', '11000011', 'test', 'AP'),    # empty report
    ('d6', '52000000', '12000000', 'test', 'PA'),    # no report (file / sectioned row)
    ('d7', '53000000', '13000000', 'train', ''),     # blank view
    ('d8', '54000000', '14000000', 'validate', 'LL'),
    ('d9', '55000000', '15000000', 'train', 'PA'),   # image file missing
]
NOT_IN_METADATA = ('d10', '56000000', '16000000', 'train')
SECTIONS = {  # study -> (impression, findings, last_paragraph)
    '50414267': ('No acute process.', 'Lungs are clear. Heart size normal.', ''),
    '53189527': ('Small left effusion.', '', ''),
    '57375967': ('', 'Mild cardiomegaly. ___ tube in place.', ''),
    '51000000': ('', '', 'Comparison with prior.'),
    '53000000': ('Normal.', '', ''),
    '54000000': ('Normal.', '', ''),
    '55000000': ('Normal.', '', ''),
    '56000000': ('Normal.', '', ''),
}
RAW = {
    '50414267': ('FINAL REPORT\n EXAMINATION:  CHEST (PA AND LAT)\n INDICATION: ___ with cough\n'
                 ' FINDINGS:\n Lungs are clear.\n Heart size normal.\n\n'
                 ' IMPRESSION:\n No acute process.\n'),
    '53189527': 'FINAL REPORT\n COMPARISON: None.\n IMPRESSION: Small left effusion.\n',
    '57375967': 'Mild cardiomegaly.  ___ tube in place.\n',  # no header: kept whole
    '51000000': 'FINAL REPORT\n INDICATION: fever\n COMPARISON: ___.\n',
}
for _study in ('53000000', '54000000', '55000000', '56000000'):
    RAW[_study] = 'IMPRESSION: Normal.'


def _write_csv(path: Path, header: list[str], rows: list, gz: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    if gz:
        with gzip.open(path, 'wt', encoding='utf-8', newline='') as f:
            f.write(buffer.getvalue())
    else:
        path.write_text(buffer.getvalue(), encoding='utf-8')


def _folder(root: Path, subject: str, study: str) -> Path:
    return root / 'files' / f'p{subject[:2]}' / f'p{subject}' / f's{study}'


def write_mimic_tree(root: Path, sectioned: bool = True, raw: bool = True) -> Path:
    """The MIMIC-CXR-JPG layout (gzipped tables, JPEGs) plus reports; returns root."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    split_rows = [image[:4] for image in IMAGES] + [NOT_IN_METADATA]
    _write_csv(root / 'mimic-cxr-2.0.0-split.csv.gz', ['dicom_id', 'study_id', 'subject_id',
                                                       'split'], split_rows, gz=True)
    _write_csv(root / 'mimic-cxr-2.0.0-metadata.csv.gz',
               ['dicom_id', 'subject_id', 'study_id', 'PerformedProcedureStepDescription',
                'ViewPosition', 'Rows', 'Columns'],
               [(d, subj, st, 'CHEST (PA AND LAT)', view, 16, 20)
                for d, st, subj, _, view in IMAGES], gz=True)
    _write_csv(root / 'mimic-cxr-2.0.0-chexpert.csv.gz', ['subject_id', 'study_id', *CHEXPERT],
               [('10000032', '50414267', '', '', '1.0', ''),
                ('10000032', '53189527', '-1.0', '0.0', '', '1.0'),
                ('10000764', '57375967', '', '1.0', '', '-1.0')], gz=True)
    for dicom_id, study, subject, _, _ in IMAGES:
        if dicom_id == 'd9':
            continue
        folder = _folder(root, subject, study)
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 255, (16, 20), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f'{dicom_id}.jpg')
    if sectioned:
        _write_csv(root / 'mimic_cxr_sectioned.csv',
                   ['study', 'impression', 'findings', 'last_paragraph', 'comparison'],
                   [(f's{study}', *values, '') for study, values in SECTIONS.items()],
                   gz=False)
    if raw:
        subjects = {study: subject for _, study, subject, _, _ in IMAGES + [
            NOT_IN_METADATA + ('',)]}
        for study, text in RAW.items():
            path = _folder(root, subjects[study], study).with_suffix('.txt')
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding='utf-8')
    return root


@pytest.fixture
def mimic_root(tmp_path) -> Path:
    return write_mimic_tree(tmp_path / 'mimic-cxr-jpg')


def _by_dicom(rows: list[dict]) -> dict[str, dict]:
    return {row['dicom_id']: row for row in rows}


def test_frontal_views_split_mapping_and_paths(mimic_root):
    rows, summary = build_mimic_cxr_rows(str(mimic_root))
    rows_by = _by_dicom(rows)
    assert sorted(rows_by) == ['d1', 'd3', 'd4']
    assert {r['view'] for r in rows} == {'PA', 'AP'}
    assert rows_by['d1']['split'] == 'train' and rows_by['d4']['split'] == 'val'
    assert rows_by['d1']['path'] == 'files/p10/p10000032/s50414267/d1.jpg'
    assert rows_by['d1']['modality'] == '2d'
    assert (rows_by['d1']['subject_id'], rows_by['d1']['study_id']) == ('10000032', '50414267')
    assert 'labels' not in rows_by['d1']
    assert summary.samples == {'train': 2, 'val': 1}
    assert summary.skipped['view not kept'] == 3  # LATERAL, blank, LL
    assert summary.notes['excluded views'] == {'(blank)': 1, 'LATERAL': 1, 'LL': 1}
    # other views on request
    rows, _ = build_mimic_cxr_rows(str(mimic_root), views=('LATERAL', 'll'))
    assert sorted(_by_dicom(rows)) == ['d2', 'd8']


def test_sectioned_reports_and_skip_counts(mimic_root):
    rows, summary = build_mimic_cxr_rows(str(mimic_root))
    rows_by = _by_dicom(rows)
    assert summary.notes['report source'].endswith('mimic_cxr_sectioned.csv')
    assert rows_by['d1']['report'] == ('FINDINGS: Lungs are clear. Heart size normal. '
                                       'IMPRESSION: No acute process.')
    assert rows_by['d3']['report'] == 'IMPRESSION: Small left effusion.'
    assert rows_by['d4']['report'] == 'FINDINGS: Mild cardiomegaly. XXXX tube in place.'
    assert summary.skipped == {
        'view not kept': 3, 'empty report (no findings or impression)': 1,
        'study not in sectioned CSV': 1, 'image file missing': 1, 'not in metadata': 1}
    assert summary.examples['image file missing'] == ['files/p15/p15000000/s55000000/d9.jpg']
    assert summary.examples['study not in sectioned CSV'] == ['s52000000']
    assert 'skipped 7' in summary.format()
    # last_paragraph fallback and no image check
    rows, summary = build_mimic_cxr_rows(str(mimic_root), use_last_paragraph=True,
                                         check_images=False, with_headers=False)
    rows_by = _by_dicom(rows)
    assert rows_by['d5']['report'] == 'Comparison with prior.'
    assert rows_by['d1']['report'] == 'Lungs are clear. Heart size normal. No acute process.'
    assert 'd9' in rows_by and 'image file missing' not in summary.skipped


def test_raw_report_files(mimic_root):
    rows, summary = build_mimic_cxr_rows(str(mimic_root), reports_dir='files')
    rows_by = _by_dicom(rows)
    assert sorted(rows_by) == ['d1', 'd3', 'd4']
    assert rows_by['d1']['report'] == ('FINDINGS: Lungs are clear. Heart size normal. '
                                       'IMPRESSION: No acute process.')
    assert rows_by['d3']['report'] == 'IMPRESSION: Small left effusion.'
    assert rows_by['d4']['report'] == 'FINDINGS: Mild cardiomegaly. XXXX tube in place.'
    assert summary.skipped['report file missing'] == 1
    assert summary.examples['report file missing'][0].endswith(
        'files/p12/p12000000/s52000000.txt')
    assert summary.skipped['empty report (no findings or impression)'] == 1
    assert read_report_file(str(_folder(mimic_root, '10000764', '57375967')) + '.txt',
                            with_headers=False) == 'Mild cardiomegaly. XXXX tube in place.'


def test_raw_reports_used_when_no_sectioned_csv(tmp_path):
    root = write_mimic_tree(tmp_path / 'r', sectioned=False)
    rows, summary = build_mimic_cxr_rows(str(root))
    assert summary.notes['report source'] == str(root / 'files')
    assert len(rows) == 3


def test_chexpert_labels(mimic_root):
    rows, summary = build_mimic_cxr_rows(str(mimic_root), with_labels=True)
    rows_by = _by_dicom(rows)
    assert summary.notes['classes'] == list(CHEXPERT)
    assert rows_by['d1']['labels'] == ['No Finding']
    assert rows_by['d3']['labels'] == ['Pleural Effusion']   # uncertain Atelectasis dropped
    assert rows_by['d4']['labels'] == ['Cardiomegaly']
    table = str(mimic_root / 'mimic-cxr-2.0.0-chexpert.csv.gz')
    classes, labels = read_chexpert_labels(table, uncertain='positive')
    assert classes == CHEXPERT
    assert labels['53189527'] == ['Atelectasis', 'Pleural Effusion']
    assert labels['57375967'] == ['Cardiomegaly', 'Pleural Effusion']
    with pytest.raises(ValueError, match='uncertain'):
        read_chexpert_labels(table, uncertain='ignore')


def test_errors_name_the_file_and_column(mimic_root, tmp_path):
    (mimic_root / 'mimic-cxr-2.0.0-split.csv.gz').unlink()
    with pytest.raises(FileNotFoundError, match=r'mimic-cxr-2\.0\.0-split\.csv\.gz'):
        build_mimic_cxr_rows(str(mimic_root))
    root = write_mimic_tree(tmp_path / 'bad')
    _write_csv(root / 'mimic-cxr-2.0.0-metadata.csv.gz', ['dicom_id', 'Rows'], [('d1', 1)],
               gz=True)
    with pytest.raises(ValueError, match=r"metadata\.csv\.gz: missing column\(s\) "
                                         r"\['ViewPosition'\]"):
        build_mimic_cxr_rows(str(root))
    _write_csv(root / 'mimic-cxr-2.0.0-metadata.csv', ['dicom_id', 'ViewPosition'],
               [('d1', 'PA')], gz=False)
    _write_csv(root / 'split.csv', ['dicom_id', 'study_id', 'subject_id', 'split'],
               [('d1', '50414267', '10000032', 'valid')], gz=False)
    with pytest.raises(ValueError, match=r"split\.csv:2: unknown split 'valid'"):
        build_mimic_cxr_rows(str(root), split_csv='split.csv',
                             metadata_csv='mimic-cxr-2.0.0-metadata.csv')
    with pytest.raises(ValueError, match=r"sectioned\.csv: missing column\(s\) "
                                         r"\['last_paragraph'\]"):
        _write_csv(root / 'sectioned.csv', ['study', 'impression', 'findings'], [], gz=False)
        build_mimic_cxr_rows(str(root), sectioned_csv='sectioned.csv', use_last_paragraph=True,
                             metadata_csv='mimic-cxr-2.0.0-metadata.csv')
    no_labels = write_mimic_tree(tmp_path / 'no_labels')
    (no_labels / 'mimic-cxr-2.0.0-chexpert.csv.gz').unlink()
    with pytest.raises(FileNotFoundError, match=r'mimic-cxr-2\.0\.0-chexpert\.csv\.gz'):
        build_mimic_cxr_rows(str(no_labels), with_labels=True)
    with pytest.raises(FileNotFoundError, match='reports_here: report folder not found'):
        build_mimic_cxr_rows(str(root), reports_dir='reports_here')
    with pytest.raises(ValueError, match='not both'):
        build_mimic_cxr_rows(str(root), reports_dir='files', sectioned_csv='sectioned.csv')


def test_cli_manifest_loads_in_image_report_dataset(mimic_root, tmp_path, capsys):
    out = tmp_path / 'out' / 'mimic.jsonl'
    tool = load_script('tools/data/prepare_mimic_cxr.py')
    assert tool.main(['--root', str(mimic_root), '--out', str(out), '--labels']) == 0
    printed = capsys.readouterr().out
    assert 'MIMIC-CXR: 3 rows' in printed and 'train: 2' in printed and 'val: 1' in printed
    assert 'view not kept: 3' in printed and 'image file missing: 1' in printed
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(not Path(row['path']).is_absolute() for row in rows)

    pipeline = [dict(type='LoadMedicalImage'), dict(type='ParseReport'),
                dict(type='PackMedInputs')]
    dataset = ImageReportDataset(data_root=str(mimic_root), ann_file=str(out),
                                 pipeline=pipeline, metainfo=dict(classes=CHEXPERT))
    assert len(dataset) == 3
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 16, 20)
    assert sample['data_samples'].report == 'Lungs are clear. Heart size normal. No acute process.'
    assert dataset.get_data_info(0)['gt_label'] == [0.0, 0.0, 1.0, 0.0]
    val = ImageReportDataset(data_root=str(mimic_root), ann_file=str(out), split='val',
                             pipeline=pipeline, metainfo=dict(classes=CHEXPERT))
    assert [val.get_data_info(i)['dicom_id'] for i in range(len(val))] == ['d4']

    assert tool.main(['--root', str(tmp_path / 'missing'), '--out', str(out)]) == 2
    assert 'mimic-cxr-2.0.0-split.csv.gz' in capsys.readouterr().err
