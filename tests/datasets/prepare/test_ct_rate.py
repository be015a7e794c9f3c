"""CT-RATE on a fabricated tree: splits, exclusions, labels, v1 spacing and HU, v2 as is."""
from __future__ import annotations

import json

import numpy as np
import pytest
from mmengine.dataset import Compose

from unimedi.datasets import CT_RATE_CLASSES, CTRateDataset
from unimedi.datasets.prepare import build_ct_rate_rows, write_manifest
from unimedi.registry import TRANSFORMS
from fakes.ct_rate import (EMPTY_REPORT, MISSING_FILE, NO_CHEST, XY_SPACING, Z_SPACING,
                           write_fake_ct_rate)
from repo_scripts import load_script


@pytest.fixture(scope='module')
def ct_rate(tmp_path_factory):
    root = tmp_path_factory.mktemp('ct_rate')
    return root, write_fake_ct_rate(root)


def test_rows_splits_and_skips(ct_rate):
    root, volumes = ct_rate
    rows, summary = build_ct_rate_rows(str(root), val_fraction=0.25, seed=0)
    names = {row['volume'] for row in rows}
    assert names == set(volumes) - {NO_CHEST, MISSING_FILE, EMPTY_REPORT}
    assert summary.skipped == {'not a chest CT (no_chest list)': 1, 'volume file missing': 1,
                               'empty report (no findings or impression)': 1}
    assert {row['split'] for row in rows if row['volume'].startswith('valid')} == {'test'}
    train_side = [row for row in rows if row['volume'].startswith('train')]
    assert {row['split'] for row in train_side} == {'train', 'val'}
    split_of = {}
    for row in rows:  # every scan and reconstruction of a patient in one split
        assert split_of.setdefault(row['patient_id'], row['split']) == row['split']
    for row in rows:
        assert row['labels'] == volumes[row['volume']][2] and len(row['labels']) == 18
        assert row['path'].endswith(f'{row["volume"]}.nii.gz') and '_fixed' not in row['path']
        assert row['override_spacing'] == [Z_SPACING, *XY_SPACING]
        assert row['override_rescale'] == [1.0, -1024.0]
    assert summary.samples['test'] == 3 and 'predicted' in summary.notes['labels']


def test_v1_volumes_load_with_the_metadata_spacing_and_hu(ct_rate):
    root, volumes = ct_rate
    rows, _ = build_ct_rate_rows(str(root))
    row = next(r for r in rows if r['volume'] == 'train_1_a_2')
    load = Compose([TRANSFORMS.build(dict(type='LoadMedicalImage', modality='3d')),
                    TRANSFORMS.build(dict(type='OverrideHeader'))])
    out = load(dict(row, img_path=str(root / row['path'])))
    assert out['spacing'] == (Z_SPACING, XY_SPACING[0], XY_SPACING[1])
    np.testing.assert_allclose(np.linalg.norm(out['affine'][:3, :3], axis=0), out['spacing'])
    hu_xyz = volumes['train_1_a_2'][1]
    # a blank header gets nibabel's fallback orientation, LAS: x (W) is mirrored in RAS
    np.testing.assert_allclose(out['img'][0], hu_xyz.transpose(2, 1, 0)[:, :, ::-1])


def test_v2_fixed_volumes_are_read_as_they_are(ct_rate):
    root, volumes = ct_rate
    rows, summary = build_ct_rate_rows(str(root), fixed=True)
    row = next(r for r in rows if r['volume'] == 'valid_1_a_1')
    assert '_fixed' in row['path'] and 'override_spacing' not in row
    out = TRANSFORMS.build(dict(type='LoadMedicalImage', modality='3d'))(
        dict(row, img_path=str(root / row['path'])))
    out = TRANSFORMS.build(dict(type='OverrideHeader'))(out)  # nothing to override
    np.testing.assert_allclose(out['spacing'], (Z_SPACING, XY_SPACING[0], XY_SPACING[1]))
    np.testing.assert_allclose(out['img'][0], volumes['valid_1_a_1'][1].transpose(2, 1, 0))
    assert 'v2' in summary.notes['volumes']


def test_dataset_text_field_labels_and_unique_reports(ct_rate, tmp_path):
    root, volumes = ct_rate
    rows, _ = build_ct_rate_rows(str(root))
    write_manifest(rows, str(tmp_path / 'manifest.jsonl'))
    test = CTRateDataset(data_root=str(root), ann_file=str(tmp_path / 'manifest.jsonl'),
                         split='test')
    assert len(test) == 3 and test.metainfo['classes'] == CT_RATE_CLASSES
    info = test.get_data_info(0)
    assert info['report'] == f'Findings of {info["volume"]}.'
    assert 'findings' not in info and 'impression' not in info  # ParseReport reads report
    parsed = TRANSFORMS.build(dict(type='ParseReport'))(dict(info))
    assert 'Impression' not in parsed['report']
    assert info['gt_label'] == [float(v) for v in volumes[info['volume']][2]]
    both = CTRateDataset(data_root=str(root), ann_file=str(tmp_path / 'manifest.jsonl'),
                         split='test', text_field='both')
    assert both.get_data_info(0)['report'].startswith('FINDINGS: Findings of valid_1_a_1.')
    assert 'IMPRESSION: Impression of 1.' in both.get_data_info(0)['report']
    unique = CTRateDataset(data_root=str(root), ann_file=str(tmp_path / 'manifest.jsonl'),
                           split='test', unique_reports=True)
    assert len(unique) == 2  # valid_1_a_2 repeats the findings of valid_1_a_1
    with pytest.raises(ValueError, match='text_field'):
        CTRateDataset(data_root=str(root), ann_file='m.jsonl', text_field='report')


def test_tables_under_dataset_and_repeated_names(ct_rate, tmp_path):
    import shutil
    root, _ = ct_rate
    moved = tmp_path / 'hf_layout'  # the Hugging Face repository keeps the tables in dataset/
    shutil.copytree(root / 'dataset', moved / 'dataset')
    for folder in ('radiology_text_reports', 'multi_abnormality_labels', 'metadata'):
        shutil.copytree(root / folder, moved / 'dataset' / folder)
    reports = moved / 'dataset' / 'radiology_text_reports' / 'train_reports.csv'
    lines = reports.read_text().splitlines()
    reports.write_text('\n'.join(lines + [lines[1]]) + '\n')  # a repeated VolumeName
    rows, summary = build_ct_rate_rows(str(moved))
    assert len(rows) == 11
    assert summary.skipped['repeated VolumeName in train_reports.csv (first row kept)'] == 1


def test_prepare_tool_writes_the_manifest(ct_rate, tmp_path, capsys):
    root, _ = ct_rate
    out = tmp_path / 'manifest.jsonl'
    tool = load_script('tools/data/prepare_ct_rate.py')
    assert tool.main(['--root', str(root), '--out', str(out), '--val-fraction', '0.2']) == 0
    printed = capsys.readouterr().out
    assert 'CT-RATE:' in printed and 'CTRateDataset(data_root=' in printed
    assert 'not a chest CT (no_chest list): 1' in printed
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 11 and all(row['modality'] == '3d' for row in rows)
    assert tool.main(['--root', str(tmp_path / 'none'), '--out', str(out)]) == 2
    assert 'CT-RATE root folder not found' in capsys.readouterr().err
    (tmp_path / 'empty').mkdir()
    assert tool.main(['--root', str(tmp_path / 'empty'), '--out', str(out)]) == 2
    assert 'train_reports.csv: annotation file not found' in capsys.readouterr().err
