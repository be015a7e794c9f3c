"""BIMCV-COVID19+ adapter and CLI on a fabricated MIDS subject tree."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from unimedi.datasets import ImageReportDataset
from unimedi.datasets.prepare import (build_bimcv_rows, find_ct_volumes, read_session_reports,
                                      subject_splits)
from repo_scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[2]
ES = 'Opacidades en vidrio deslustrado bilaterales.'
EN = 'Bilateral ground glass opacities.'


def _write_ct(path: Path, shape=(6, 5, 4)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    volume = np.full(shape, -800, np.float32)
    nib.save(nib.Nifti1Image(volume, np.diag([0.8, 0.8, 2.0, 1.0])), str(path))


def _write_xray(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path)


def _write_tsv(path: Path, header: list[str], rows: list) -> Path:
    with open(path, 'w', encoding='utf-8', newline='') as f:
        writer = csv.writer(f, delimiter='\t')
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _ct_path(root: Path, subject: str, session: str, run: int = 1) -> Path:
    return (root / subject / session / 'mod-ct'
            / f'{subject}_{session}_run-{run}_bp-chest_ct.nii.gz')


def write_bimcv_tree(root: Path) -> Path:
    """Four subjects: CT and X-ray sessions, a two-run session, a missing and an empty report.

    Returns the report table (``session_id``, Spanish ``Report``, English ``report_en``).
    """
    _write_ct(_ct_path(root, 'sub-S03047', 'ses-E06528'))
    _write_ct(_ct_path(root, 'sub-S03047', 'ses-E06528', run=2))
    _write_xray(root / 'sub-S03047' / 'ses-E06529' / 'mod-rx'
                / 'sub-S03047_ses-E06529_run-1_bp-chest_vp-pa_cr.png')
    _write_ct(_ct_path(root, 'sub-S03048', 'ses-E07000'))
    _write_ct(_ct_path(root, 'sub-S03049', 'ses-E08000'))  # empty English report
    _write_ct(_ct_path(root, 'sub-S03050', 'ses-E09000'))  # not in the report table
    (root / 'sub-S03048' / 'ses-E07000' / 'mod-ct' / 'notes.json').write_text('{}')
    _write_ct(_ct_path(root / 'derivatives', 'sub-S03048', 'ses-E07000'))  # not a CT
    return _write_tsv(root / 'sil_reports.tsv', ['session_id', 'participant', 'Report',
                                                 'report_en'], [
        ('ses-E06528', 'sub-S03047', ES, EN),
        ('ses-E06529', 'sub-S03047', 'Rx normal.', 'Normal radiograph.'),
        ('E07000', 'sub-S03048', 'Sin hallazgos.',
         'FINDINGS: No findings.\nIMPRESSION: Normal CT.'),
        ('ses-E08000', 'sub-S03049', 'Consolidación basal.', ''),
    ])


@pytest.fixture
def bimcv(tmp_path) -> tuple[Path, Path]:
    root = tmp_path / 'bimcv'
    return root, write_bimcv_tree(root)


def test_ct_only_rows_with_english_reports(bimcv):
    root, table = bimcv
    assert [v[:2] for v in find_ct_volumes(str(root))] == [
        ('sub-S03047', 'ses-E06528'), ('sub-S03047', 'ses-E06528'),
        ('sub-S03048', 'ses-E07000'), ('sub-S03049', 'ses-E08000'),
        ('sub-S03050', 'ses-E09000')]
    rows, summary = build_bimcv_rows(str(root), 'sil_reports.tsv')
    assert [r['path'] for r in rows] == [
        'sub-S03047/ses-E06528/mod-ct/sub-S03047_ses-E06528_run-1_bp-chest_ct.nii.gz',
        'sub-S03047/ses-E06528/mod-ct/sub-S03047_ses-E06528_run-2_bp-chest_ct.nii.gz',
        'sub-S03048/ses-E07000/mod-ct/sub-S03048_ses-E07000_run-1_bp-chest_ct.nii.gz']
    assert {r['modality'] for r in rows} == {'3d'}
    assert rows[0]['report'] == f'FINDINGS: {EN}'
    assert rows[2]['report'] == 'FINDINGS: No findings. IMPRESSION: Normal CT.'
    assert (rows[0]['subject'], rows[0]['session'], rows[0]['report_column']) == (
        'sub-S03047', 'ses-E06528', 'report_en')
    assert summary.skipped == {'session not in report table': 1,
                               'empty report (report_en)': 1}
    assert summary.examples['session not in report table'] == ['sub-S03050/ses-E09000']
    assert summary.notes['report rows without a CT volume'] == 1  # the X-ray session
    rows, summary = build_bimcv_rows(str(root), str(table), first_run_only=True,
                                     with_headers=False)
    assert len(rows) == 2 and rows[0]['report'] == EN
    assert summary.skipped['extra volume of a session (first_run_only)'] == 1


def test_translation_column_and_spanish_fallback(bimcv, tmp_path):
    root, table = bimcv
    rows, summary = build_bimcv_rows(str(root), str(table), fallback_to_spanish=True)
    by_session = {r['session']: r for r in rows}
    assert by_session['ses-E08000']['report'] == 'FINDINGS: Consolidación basal.'
    assert by_session['ses-E08000']['report_column'] == 'Report'
    assert by_session['ses-E06528']['report_column'] == 'report_en'
    assert summary.notes['reports read from the Spanish column'] == 1
    rows, _ = build_bimcv_rows(str(root), str(table), report_column='Report')
    assert rows[0]['report'] == f'FINDINGS: {ES}' and len(rows) == 4

    spanish_only = _write_tsv(tmp_path / 'es.tsv', ['ReportID', 'Report'],
                              [('ses-E06528', ES), ('ses-E07000', 'Normal.')])
    with pytest.raises(ValueError, match=r"es\.tsv: missing report column 'report_en'"):
        build_bimcv_rows(str(root), str(spanish_only))
    rows, _ = build_bimcv_rows(str(root), str(spanish_only), fallback_to_spanish=True)
    assert len(rows) == 3 and {r['report_column'] for r in rows} == {'Report'}
    reports, _ = read_session_reports(str(spanish_only), fallback_to_spanish=True)
    assert reports['E06528'] == (ES, 'Report')  # ReportID found as the session column


def test_errors_name_the_file_and_column(bimcv, tmp_path):
    root, _ = bimcv
    no_session = _write_tsv(tmp_path / 'x.tsv', ['id', 'Report', 'report_en'], [])
    with pytest.raises(ValueError, match=r"x\.tsv: no session id column .*'session_id'"):
        build_bimcv_rows(str(root), str(no_session))
    with pytest.raises(ValueError, match=r"x\.tsv: missing column\(s\) \['sess'\]"):
        build_bimcv_rows(str(root), str(no_session), session_column='sess')
    no_spanish = _write_tsv(tmp_path / 'y.tsv', ['session_id', 'text'], [])
    with pytest.raises(ValueError, match=r"y\.tsv: missing column\(s\) \['Report'\]"):
        build_bimcv_rows(str(root), str(no_spanish), fallback_to_spanish=True)
    with pytest.raises(FileNotFoundError, match=r'nope\.tsv: report table not found'):
        build_bimcv_rows(str(root), 'nope.tsv')
    empty_root = tmp_path / 'empty'
    empty_root.mkdir()
    with pytest.raises(FileNotFoundError, match=r'no CT volumes found .*mod-ct'):
        build_bimcv_rows(str(empty_root), str(no_session), session_column='id')
    with pytest.raises(ValueError, match='fractions'):
        subject_splits(['a'], (0.9, 0.2, 0.05))


def test_subject_disjoint_seeded_split(tmp_path):
    root = tmp_path / 'many'
    rows = []
    for s in range(20):
        subject = f'sub-S{s:05d}'
        for e in range(1 + s % 3):
            session = f'ses-E{s:03d}{e:02d}'
            _write_ct(_ct_path(root, subject, session), shape=(2, 2, 2))
            rows.append((session, f'Report {s}-{e}.', f'Text {s}-{e}.'))
    _write_tsv(root / 'reports.tsv', ['session_id', 'Report', 'report_en'], rows)
    manifest, summary = build_bimcv_rows(str(root), 'reports.tsv', seed=3)
    split_of = {}
    for row in manifest:
        assert split_of.setdefault(row['subject'], row['split']) == row['split']
    per_split = {s: sum(v == s for v in split_of.values()) for s in ('train', 'val', 'test')}
    assert per_split == {'train': 18, 'val': 1, 'test': 1}
    assert summary.notes['subjects'] == 20 and summary.num_samples == len(rows)
    again, _ = build_bimcv_rows(str(root), 'reports.tsv', seed=3)
    assert again == manifest
    other, _ = build_bimcv_rows(str(root), 'reports.tsv', seed=4)
    assert [r['split'] for r in other] != [r['split'] for r in manifest]
    halves = subject_splits([f's{i}' for i in range(10)], (0.5, 0.3, 0.2), seed=0)
    assert sorted(halves.values()).count('train') == 5
    assert list(halves.values()).count('val') == 3


def test_cli_manifest_loads_in_image_report_dataset(bimcv, tmp_path, capsys):
    root, _ = bimcv
    out = tmp_path / 'bimcv.jsonl'
    tool = load_script('tools/data/prepare_bimcv.py')
    assert tool.main(['--root', str(root), '--reports', 'sil_reports.tsv', '--out', str(out),
                      '--fractions', '1', '0', '0']) == 0
    printed = capsys.readouterr().out
    assert 'BIMCV-COVID19+ CT: 3 rows' in printed and 'train: 3' in printed
    assert 'session not in report table: 1' in printed
    assert len(out.read_text().splitlines()) == 3
    assert not Path(json.loads(out.read_text().splitlines()[0])['path']).is_absolute()

    pipeline = [dict(type='LoadMedicalImage'), dict(type='ParseReport'),
                dict(type='PackMedInputs')]
    dataset = ImageReportDataset(data_root=str(root), ann_file=str(out), split='train',
                                 pipeline=pipeline)
    assert len(dataset) == 3
    sample = dataset[2]
    assert sample['inputs'].ndim == 4 and sample['data_samples'].modality == '3d'
    assert sample['data_samples'].report == 'No findings. Normal CT.'
    assert dataset[0]['data_samples'].report == EN

    assert tool.main(['--root', str(root), '--reports', 'sil_reports.tsv', '--out', str(out),
                      '--report-column', 'english']) == 2
    assert "missing report column 'english'" in capsys.readouterr().err
