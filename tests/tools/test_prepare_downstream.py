"""tools/data/prepare_{chexpert,rsna_pneumonia,covidx,cc_ccii}.py on fake raw datasets."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from unimedi.datasets import CCCIIDataset, ManifestError
from unimedi.datasets.chexpert import chexpert_patient
from unimedi.datasets.prepare import (prepare_cc_ccii, split_chexpert, split_covidx,
                                      split_rsna_pneumonia)
from unimedi.datasets.transforms import LoadMedicalImage
from fakes.downstream import (CHEXPERT_HEADER, write_cc_ccii_scan, write_fake_chexpert,
                              write_fake_covidx, write_fake_rsna_pneumonia)
from repo_scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[2]


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


# ----------------------------------------------------------------------------- CheXpert
@pytest.fixture(scope='module')
def chexpert_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('chexpert')
    write_fake_chexpert(root)
    return root


def test_chexpert_protocol_is_patient_level_and_keeps_the_format(chexpert_root, tmp_path):
    base = chexpert_root / 'CheXpert-v1.0-small'
    report = split_chexpert(str(base / 'train.csv'), str(base / 'valid.csv'), str(tmp_path),
                            test_size=4, seed=0)
    tables = {split: _read_csv(tmp_path / f'{split}.csv') for split in ('train', 'val', 'test')}
    assert all(header == list(CHEXPERT_HEADER) for header, _ in tables.values())
    assert (tmp_path / 'val.csv').read_bytes() == (base / 'valid.csv').read_bytes()
    patients = {split: {chexpert_patient(row['Path'], split) for row in rows}
                for split, (_, rows) in tables.items()}
    assert not patients['train'] & patients['test'] and not patients['val'] & patients['train']
    official = _read_csv(base / 'train.csv')[1]
    assert sorted(map(str, tables['train'][1] + tables['test'][1])) == sorted(map(str, official))
    frontal_test = [r for r in tables['test'][1] if r['Frontal/Lateral'] == 'Frontal']
    assert len(frontal_test) == 4 and report.samples == {'train': 12, 'val': 4, 'test': 4}
    assert report.class_counts['test'] == {'Atelectasis': 1, 'Cardiomegaly': 1,
                                           'Consolidation': 1, 'Edema': 1,
                                           'Pleural Effusion': 1}
    again = tmp_path / 'again'
    split_chexpert(str(base / 'train.csv'), str(base / 'valid.csv'), str(again), 4, seed=0)
    assert (again / 'test.csv').read_bytes() == (tmp_path / 'test.csv').read_bytes()
    split_chexpert(str(base / 'train.csv'), str(base / 'valid.csv'), str(again), 4, seed=1)
    assert (again / 'test.csv').read_bytes() != (tmp_path / 'test.csv').read_bytes()


def test_chexpert_refuses_bad_inputs(chexpert_root, tmp_path, capsys):
    base = chexpert_root / 'CheXpert-v1.0-small'
    with pytest.raises(ValueError, match=r'test_size must be in \(0, 16\)'):
        split_chexpert(str(base / 'train.csv'), str(base / 'valid.csv'), str(tmp_path), 16)
    with pytest.raises(ValueError, match='patients are also in'):
        split_chexpert(str(base / 'train.csv'), str(base / 'train.csv'), str(tmp_path), 4)
    tool = load_script('tools/data/prepare_chexpert.py')
    assert tool.main(['--root', str(chexpert_root), '--out', str(tmp_path / 'cli'),
                      '--test-size', '4', '--seed', '2']) == 0
    printed = capsys.readouterr().out
    assert 'CheXpert: 20 samples' in printed and 'test: 4 samples, 4 patients' in printed
    assert tool.main(['--root', str(tmp_path), '--out', str(tmp_path / 'cli')]) == 2
    assert 'annotation file not found' in capsys.readouterr().err


# ----------------------------------------------------------------------------- RSNA
def test_rsna_split_is_stratified_70_15_15(tmp_path, capsys):
    write_fake_rsna_pneumonia(tmp_path)
    out = tmp_path / 'seed3'
    report = split_rsna_pneumonia(str(tmp_path / 'stage_2_train_labels.csv'), str(out), seed=3)
    tables = {split: _read_csv(out / f'{split}.csv') for split in ('train', 'val', 'test')}
    assert all(header == ['patientId', 'Target', 'boxes'] for header, _ in tables.values())
    counts = {s: Counter(r['Target'] for r in rows) for s, (_, rows) in tables.items()}
    assert counts == {'train': {'0': 14, '1': 14}, 'val': {'0': 3, '1': 3},
                      'test': {'0': 3, '1': 3}}
    ids = [{row['patientId'] for row in rows} for _, rows in tables.values()]
    assert sum(map(len, ids)) == len(set.union(*ids)) == 40
    boxes = {r['patientId']: json.loads(r['boxes']) for _, rows in tables.values() for r in rows}
    assert boxes['fake-rsna-0003'] == [[8.0, 10.0, 20.0, 24.0], [36.0, 12.0, 18.0, 22.0]]
    assert boxes['fake-rsna-0001'] == [[8.0, 10.0, 20.0, 24.0]] and boxes['fake-rsna-0000'] == []
    assert report.patients == {'train': 28, 'val': 6, 'test': 6}

    tool = load_script('tools/data/prepare_rsna_pneumonia.py')
    assert tool.main(['--root', str(tmp_path), '--out', str(tmp_path / 'cli'),
                      '--fractions', '0.5', '0.25', '0.25']) == 0
    assert 'val: 10 samples, 10 patients [Pneumonia 5, Normal 5]' in capsys.readouterr().out
    assert tool.main(['--root', str(tmp_path), '--out', str(tmp_path / 'cli'),
                      '--fractions', '0.5', '0.5', '0.5']) == 2
    assert 'fractions must be 3 non-negative numbers' in capsys.readouterr().err


def test_rsna_label_table_errors(tmp_path):
    header = 'patientId,x,y,width,height,Target\n'
    cases = {'mixed.csv': ('a,1,2,3,4,1\na,,,,,0\n', r'mixed.csv:3: patient a has rows'),
             'nobox.csv': ('a,,,,,1\n', r'nobox.csv:2: a Target 1 row needs numeric'),
             'box.csv': ('a,1,2,3,4,0\n', r'box.csv:2: a Target 0 row must have no box')}
    for name, (rows, message) in cases.items():
        (tmp_path / name).write_text(header + rows)
        with pytest.raises(ManifestError, match=message):
            split_rsna_pneumonia(str(tmp_path / name), str(tmp_path / 'out'))


# ----------------------------------------------------------------------------- COVIDx
def test_covidx_val_is_held_out_by_patient(tmp_path, capsys):
    write_fake_covidx(tmp_path)
    out = tmp_path / 'out'
    report = split_covidx(str(tmp_path / 'train.txt'), str(tmp_path / 'test.txt'), str(out),
                          val_fraction=0.25, seed=5)
    official = (tmp_path / 'train.txt').read_text().splitlines()
    train = (out / 'train_split.txt').read_text().splitlines()
    val = (out / 'val.txt').read_text().splitlines()
    assert sorted(train + val) == sorted(official)
    assert (out / 'test.txt').read_bytes() == (tmp_path / 'test.txt').read_bytes()
    patients = [{line.split()[0] for line in lines} for lines in (train, val)]
    assert not patients[0] & patients[1]
    assert {line.split()[2] for line in val} == {'normal', 'pneumonia', 'COVID-19'}
    assert Counter(p[5:8] for p in patients[1]) == {'nor': 2, 'pne': 2, 'cov': 2}
    assert report.patients == {'train': 18, 'val': 6, 'test': 6}

    tool = load_script('tools/data/prepare_covidx.py')
    assert tool.main(['--root', str(tmp_path), '--out', str(tmp_path / 'cli')]) == 0
    printed = capsys.readouterr().out
    assert 'COVIDx: 48 samples' in printed and 'test: 12 samples, 6 patients' in printed
    assert tool.main(['--root', str(tmp_path), '--out', str(out), '--val-fraction', '1']) == 2
    assert 'val_fraction must be in (0, 1)' in capsys.readouterr().err


# ----------------------------------------------------------------------------- CC-CCII
def _raw_cc_ccii(root: Path, num_per_class: int = 2, shape=(24, 32)) -> Path:
    rng = np.random.default_rng(0)
    for label, name in enumerate(('Normal', 'CP', 'NCP')):
        for j in range(num_per_class):
            write_cc_ccii_scan(root / name / f'{label}{j}' / '1', 12, 0.3, rng, shape)
    return root


def test_cc_ccii_volumes_keep_slice_order_and_orientation(tmp_path):
    raw = _raw_cc_ccii(tmp_path / 'raw')
    short = raw / 'NCP' / '20' / '2'
    write_cc_ccii_scan(short, 3, 0.3, np.random.default_rng(1))
    out = tmp_path / 'out'
    report = prepare_cc_ccii(str(raw), str(out), fractions={'train': 0.5, 'val': 0.5, 'test': 0},
                             min_slices=4, spacing=(0.7, 0.8, 2.5), progress=False)
    assert report.skipped == {'fewer than min_slices=4 slices': 1}
    assert report.examples['fewer than min_slices=4 slices'] == [str(short)]
    header, rows = _read_csv(out / 'cc_ccii.csv')
    assert header == ['path', 'label', 'patient_id', 'scan_id', 'split']
    assert len(rows) == 6 and Counter(r['split'] for r in rows) == {'train': 3, 'val': 3}
    assert Counter(r['label'] for r in rows if r['split'] == 'val') == {
        'Normal': 1, 'CP': 1, 'NCP': 1}
    assert rows[0]['path'] == 'volumes/Normal/00/1.nii.gz'
    image = nib.load(str(out / rows[0]['path']))
    assert image.shape == (32, 24, 12) and image.get_data_dtype() == np.uint8
    np.testing.assert_allclose(np.diag(image.affine), [0.7, 0.8, 2.5, 1.0])

    loaded = LoadMedicalImage(modality='3d')(dict(img_path=str(out / rows[0]['path'])))
    assert loaded['img'].shape == (1, 12, 24, 32)
    assert loaded['img'][0, :, 0, 0].tolist() == list(range(1, 13))  # slice n holds n
    first = np.asarray(Image.open(raw / 'Normal' / '00' / '1' / '1.png'))
    np.testing.assert_array_equal(loaded['img'][0, 0], first)  # slices as stored
    assert loaded['spacing'] == pytest.approx((2.5, 0.8, 0.7))
    assert len(CCCIIDataset('cc_ccii.csv', str(out), split='val')) == 3


def test_cc_ccii_layout_errors(tmp_path, capsys):
    raw = _raw_cc_ccii(tmp_path / 'raw', num_per_class=1)
    (raw / 'CP' / '10' / '1' / 'notes.txt').write_text('x')
    with pytest.raises(ValueError, match=r'notes.txt: not an image slice'):
        prepare_cc_ccii(str(raw), str(tmp_path / 'out'), progress=False)
    tool = load_script('tools/data/prepare_cc_ccii.py')
    assert tool.main(['--root', str(tmp_path), '--out', str(tmp_path / 'out')]) == 2
    assert 'Normal: class folder not found' in capsys.readouterr().err


# ----------------------------------------------------------------------------- the CLIs
def test_every_cli_runs_as_a_script(tmp_path):
    """One interpreter runs each script as ``__main__`` (importing unimedi once)."""
    write_fake_covidx(tmp_path / 'covidx')
    write_fake_rsna_pneumonia(tmp_path / 'rsna', num=20)
    write_fake_chexpert(tmp_path / 'chexpert')
    _raw_cc_ccii(tmp_path / 'cc_raw')
    jobs = [
        ('prepare_chexpert', ['--root', tmp_path / 'chexpert', '--test-size', '4']),
        ('prepare_rsna_pneumonia', ['--root', tmp_path / 'rsna']),
        ('prepare_covidx', ['--root', tmp_path / 'covidx']),
        ('prepare_cc_ccii', ['--root', tmp_path / 'cc_raw', '--min-slices', '4', '--workers',
                             '2', '--spacing', '1', '1', '2']),
    ]
    jobs = [(str(REPO_ROOT / 'tools' / 'data' / f'{name}.py'),
             [str(a) for a in args] + ['--out', str(tmp_path / 'out' / name)])
            for name, args in jobs]
    code = textwrap.dedent(f"""
        import runpy, sys
        for script, args in {jobs!r}:
            sys.argv = [script, *args]
            try:
                runpy.run_path(script, run_name='__main__')
            except SystemExit as exc:
                if exc.code:
                    raise
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for summary in ('CheXpert: 20 samples', 'RSNA Pneumonia: 20 samples', 'COVIDx: 48 samples',
                    'CC-CCII: 6 samples'):
        assert summary in result.stdout, result.stdout
    assert (tmp_path / 'out' / 'prepare_cc_ccii' / 'volumes' / 'NCP' / '20' / '1.nii.gz').exists()
