"""tools/infer.py on a folder of 2 PNGs, 1 NIfTI and a corrupt file, with a tiny model.

One run as a user runs it (a subprocess); argument errors are checked in process.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from unimedi.apis import init_model
from repo_scripts import TINY_UNIMEDI_CONFIG, load_script

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORTS = ['There is a pulmonary nodule.', 'The lungs are clear.', 'Small pleural effusion.']


@pytest.fixture(scope='module')
def setup(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('infer')
    config = root / 'tiny.py'
    config.write_text(TINY_UNIMEDI_CONFIG)
    torch.manual_seed(0)
    torch.save(dict(state_dict=init_model(config).state_dict()), root / 'tiny.pth')
    images = root / 'images'
    (images / 'ct').mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, shape in (('a.png', (40, 50)), ('b.png', (64, 48))):
        Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).save(images / name)
    hu = rng.normal(-500, 300, (24, 20, 12)).astype(np.float32)
    nib.save(nib.Nifti1Image(hu, np.diag([1.5, 1.5, 3.0, 1.0])), str(images / 'ct' / 'c.nii.gz'))
    (images / 'broken.png').write_bytes(b'not a png')
    (images / 'notes.txt').write_text('ignored')
    (root / 'reports.txt').write_text('\n'.join(REPORTS) + '\n\n')
    return dict(root=root, config=str(config), checkpoint=str(root / 'tiny.pth'),
                images=images, reports=str(root / 'reports.txt'))


@pytest.fixture(scope='module')
def run(setup) -> dict:
    root = setup['root']
    out, npz = root / 'results.csv', root / 'emb.npz'
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run(
        [sys.executable, 'tools/infer.py', setup['config'], setup['checkpoint'],
         str(setup['images']), '--out', str(out), '--reports', setup['reports'], '--top-k', '2',
         '--batch-size', '2', '--save-embeddings', str(npz), '--save-maps', str(root / 'maps')],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(out, newline='') as f:
        rows = list(csv.DictReader(f))
    return dict(stdout=result.stdout, stderr=result.stderr, rows=rows, npz=npz,
                maps=root / 'maps')


def test_csv_has_a_row_per_readable_image(run, setup):
    rows, images = run['rows'], setup['images']
    assert [r['path'] for r in rows] == [str(images / 'a.png'), str(images / 'b.png'),
                                         str(images / 'ct' / 'c.nii.gz')]
    assert [r['modality'] for r in rows] == ['2d', '2d', '3d']
    classes = list(Config.fromfile(setup['config']).model.zero_shot_prompts)
    expected = (['path', 'modality'] + [f'zs_{c}' for c in classes] +
                [f'top{k}_{field}' for k in (1, 2) for field in ('index', 'report', 'score')] +
                ['map'])
    assert list(rows[0]) == expected
    for row in rows:
        assert all(0.0 <= float(row[f'zs_{c}']) <= 1.0 for c in classes)
        assert float(row['top1_score']) >= float(row['top2_score'])
        for k in (1, 2):
            assert row[f'top{k}_report'] == REPORTS[int(row[f'top{k}_index'])]
    assert 'wrote 3 rows' in run['stdout'] and 'skipped 1 of 4 inputs' in run['stdout']
    assert 'broken.png' in run['stdout']
    assert 'images' in run['stderr']  # the progress bar


def test_save_maps_writes_a_figure_per_row(run):
    from unimedi.visualization.selection_figures import CT_SIZE, DPI, RADIOGRAPH_SIZE

    maps = [r['map'] for r in run['rows']]
    assert [Path(m).name for m in maps] == ['0000_a.png', '0001_b.png', '0002_c.png']
    assert sorted(p.name for p in run['maps'].iterdir()) == [Path(m).name for m in maps]
    expected = [RADIOGRAPH_SIZE, RADIOGRAPH_SIZE, CT_SIZE]
    for path, size in zip(maps, expected):
        assert Image.open(path).size == (round(size[0] * DPI), round(size[1] * DPI))
    assert '3 attention maps written' in run['stdout']


def test_map_names_are_unique_per_row():
    tool = load_script('tools/infer.py')
    assert tool.map_name(3, '/scans/ct.nii.gz') == '0003_ct.png'
    assert tool.map_name(12, '/scans/series folder/') == '0012_series_folder.png'


def test_saved_embeddings_match_the_csv(run, setup):
    saved = np.load(run['npz'])
    assert saved['image_embeddings'].shape == (3, 32)
    assert saved['report_embeddings'].shape == (3, 32)
    assert list(saved['paths']) == [r['path'] for r in run['rows']]
    similarity = saved['image_embeddings'] @ saved['report_embeddings'].T
    for row, scores in zip(run['rows'], similarity):
        assert int(row['top1_index']) == int(scores.argmax())
        assert float(row['top1_score']) == pytest.approx(float(scores.max()), abs=1e-5)


def test_on_error_stops_naming_the_file(setup, tmp_path, capsys):
    tool = load_script('tools/infer.py')
    with pytest.raises(SystemExit, match=r'broken\.png'):
        tool.main([setup['config'], setup['checkpoint'], str(setup['images']), '--out',
                   str(tmp_path / 'out.csv'), '--on-error', 'error', '--no-progress'])
    # without reports and zero-shot: only path and modality; a file and a folder as inputs
    tool.main([setup['config'], setup['checkpoint'], str(setup['images'] / 'a.png'),
               str(setup['images'] / 'ct'), '--out', str(tmp_path / 'plain.csv'),
               '--no-zero-shot', '--no-progress'])
    with open(tmp_path / 'plain.csv', newline='') as f:
        rows = list(csv.reader(f))
    assert rows == [['path', 'modality'], [str(setup['images'] / 'a.png'), '2d'],
                    [str(setup['images'] / 'ct' / 'c.nii.gz'), '3d']]
    assert 'wrote 2 rows' in capsys.readouterr().out


def test_read_reports_from_text_and_csv(tmp_path):
    tool = load_script('tools/infer.py')
    text = tmp_path / 'reports.txt'
    text.write_text('first report\n\n  second report  \n')
    assert tool.read_reports(str(text)) == ['first report', 'second report']
    table = tmp_path / 'reports.csv'
    table.write_text('id,report\n1,"multi\nline report"\n2,clear lungs\n')
    assert tool.read_reports(str(table)) == ['multi\nline report', 'clear lungs']
    table.write_text('id,text\n1,clear\n')
    with pytest.raises(SystemExit, match="'report' column"):
        tool.read_reports(str(table))


@pytest.mark.parametrize('name, data, line, column', [
    ('reports.txt', b'clear lungs\n\nsmall \xe9panchement\n', 3, 7),
    ('reports.csv', b'id,report\n1,"multi\nline"\n2,\xff\n', 4, 3),
], ids=['text', 'csv'])
def test_read_reports_invalid_utf8_names_file_and_line(tmp_path, name, data, line, column):
    tool = load_script('tools/infer.py')
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SystemExit, match=rf'{name}, line {line}: not valid UTF-8 \(byte '
                                         rf'0x.. at column {column}\)'):
        tool.read_reports(str(path))
