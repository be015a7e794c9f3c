"""Chest phantoms: determinism, agreement of reports / labels / masks, HU, file round trip."""
import filecmp
import json
import os

import numpy as np
import pytest

from unimedi.datasets import ImageReportDataset, PhantomDataset
from unimedi.datasets.phantom import (FINDING_CLASSES, TISSUE_HU, PhantomConfig,
                                      build_chest_anatomy, generate_ct_case, generate_xray_case,
                                      label_of, mentioned_findings, sample_findings,
                                      write_phantom_dataset)
from unimedi.datasets.phantom.findings import PAINT_ORDER
from unimedi.datasets.transforms import LoadMedicalImage, LoadMedicalMask

SMALL = PhantomConfig(ct_shape=(32, 64, 64), ct_spacing=(10.0, 5.6, 5.6),
                      xray_volume_shape=(48, 24, 48), xray_volume_spacing=(7.0, 12.0, 7.0),
                      xray_size=(64, 64))


@pytest.fixture(scope='module')
def ct_cases():
    return [generate_ct_case(3, i) for i in range(6)]


@pytest.fixture(scope='module')
def xray_cases():
    return [generate_xray_case(3, i, keep_volume=True) for i in range(8)]


def _files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, files in os.walk(root) for f in files)


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    write_phantom_dataset(str(a), 3, 4, seed=5, config=SMALL, workers=1, progress=False)
    write_phantom_dataset(str(b), 3, 4, seed=5, config=SMALL, workers=2, progress=False)
    write_phantom_dataset(str(c), 3, 4, seed=6, config=SMALL, workers=1, progress=False)
    files = _files(a)
    assert files == _files(b)
    assert {'manifest.jsonl', 'meta.json', 'ct/ct_00000.nii.gz', 'ct/ct_00000_mask.nii.gz',
            'xray/xray_00003.png', 'xray/xray_00003_mask.png'} <= set(files)
    match, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert mismatch == [] and errors == []
    _, differ, _ = filecmp.cmpfiles(a, c, ['ct/ct_00000.nii.gz'], shallow=False)
    assert differ == ['ct/ct_00000.nii.gz'], 'another seed must give another phantom'


def test_ct_report_labels_and_mask_agree(ct_cases):
    for case in ct_cases:
        kinds = {f.kind for f in case['findings']}
        in_mask = {FINDING_CLASSES[v - 1] for v in np.unique(case['labels']) if v > 0}
        assert mentioned_findings(case['report']) == kinds == in_mask, case['report']
    assert any(case['findings'] for case in ct_cases)


def test_xray_report_labels_and_mask_agree(xray_cases):
    for case in xray_cases:
        kinds = {f.kind for f in case['findings']}
        in_volume = {FINDING_CLASSES[v - 1] for v in np.unique(case['volume_labels']) if v > 0}
        assert mentioned_findings(case['report']) == kinds == in_volume, case['report']
        # every finding shows in the projected mask unless a smaller kind covers it entirely
        in_image = {FINDING_CLASSES[v - 1] for v in np.unique(case['labels']) if v > 0}
        assert in_image <= kinds
        assert 'radiograph' in case['report'].lower() and 'lobe' not in case['report']


def test_lesion_voxels_lie_exactly_in_listed_slices(ct_cases):
    for case in ct_cases:
        union = set()
        for finding in case['findings']:
            voxels = case['labels'] == label_of(finding.kind)
            assert finding.slices == np.flatnonzero(voxels.any(axis=(1, 2))).tolist()
            union |= set(finding.slices)
        assert case['lesion_slices'] == sorted(union)
        assert case['lesion_slices'] == np.flatnonzero(
            (case['labels'] > 0).any(axis=(1, 2))).tolist()


def test_projected_2d_mask_matches_projection_of_3d_mask(xray_cases):
    for case in xray_cases:
        volume = case['volume_labels']
        rows, cols = case['labels'].shape
        expected = np.zeros((volume.shape[0], volume.shape[2]), np.uint8)
        for kind in PAINT_ORDER:  # overlaps: the smaller kind wins
            expected[np.max(volume == label_of(kind), axis=1)] = label_of(kind)
        expected = expected[::-1, ::-1]  # superior up, patient's right on the viewer's left
        r = np.minimum(((np.arange(rows) + 0.5) * volume.shape[0] / rows).astype(int),
                       volume.shape[0] - 1)
        c = np.minimum(((np.arange(cols) + 0.5) * volume.shape[2] / cols).astype(int),
                       volume.shape[2] - 1)
        np.testing.assert_array_equal(case['labels'], expected[r][:, c])


def test_hu_ranges_per_tissue():
    rng = np.random.default_rng(0)
    anatomy = build_chest_anatomy(rng)
    hu = anatomy.hu
    lungs = (anatomy.lungs['right'] | anatomy.lungs['left']) & ~anatomy.vessels
    assert np.all(hu[lungs] == TISSUE_HU['lung'])
    assert -900 < TISSUE_HU['lung'] < -800
    assert np.all(hu[anatomy.heart] == TISSUE_HU['blood'])
    assert hu[0, 0, 0] == TISSUE_HU['air']  # corner of the field of view, outside the body
    assert (hu >= TISSUE_HU['cortical_bone']).sum() > 500  # spine and ribs
    assert ((hu > -150) & (hu < -50)).sum() > 1000  # subcutaneous fat
    # the right lung is larger than the left (the heart lies left)
    assert anatomy.lungs['right'].sum() > anatomy.lungs['left'].sum()
    volume = generate_ct_case(0, 0)['hu']
    assert volume.dtype == np.int16 and volume.min() >= -1024
    # with blur and noise the lung parenchyma still reads as lung
    assert -950 < np.median(volume[lungs]) < -750


def test_findings_range_from_subtle_to_obvious():
    rng = np.random.default_rng(1)
    findings = [f for _ in range(400) for f in sample_findings(rng)]
    kinds = {f.kind for f in findings}
    assert kinds == set(FINDING_CLASSES)
    nodules = [f.size_mm for f in findings if f.kind == 'nodule']
    assert min(nodules) <= 6 and max(nodules) >= 20
    assert {f.amount for f in findings if f.kind == 'pleural_effusion'} == \
        {'small', 'moderate', 'large'}
    normals = sum(1 for _ in range(200) if not sample_findings(rng))
    assert 30 < normals < 90  # about 30 % normal cases


def test_files_round_trip_through_the_loaders(tmp_path):
    root = tmp_path / 'phantoms'
    meta = write_phantom_dataset(str(root), 2, 3, seed=2, config=SMALL, workers=1,
                                 progress=False)
    assert meta['classes'] == list(FINDING_CLASSES)
    rows = [json.loads(line) for line in open(root / 'manifest.jsonl')]
    ct_row = next(r for r in rows if r['modality'] == '3d')
    case = generate_ct_case(2, int(ct_row['case_id'].split('_')[1]), SMALL)
    loaded = LoadMedicalImage()(dict(img_path=str(root / ct_row['path']), modality='3d',
                                     seg_map_path=str(root / ct_row['mask'])))
    loaded = LoadMedicalMask()(loaded)
    np.testing.assert_array_equal(loaded['img'][0], case['hu'].astype(np.float32))
    np.testing.assert_array_equal(loaded['gt_seg'], case['labels'])
    assert loaded['spacing'] == pytest.approx(SMALL.ct_spacing)
    assert loaded['img_unit'] == 'HU'
    xray_row = next(r for r in rows if r['modality'] == '2d')
    xcase = generate_xray_case(2, int(xray_row['case_id'].split('_')[1]), SMALL)
    loaded = LoadMedicalImage()(dict(img_path=str(root / xray_row['path']), modality='2d'))
    np.testing.assert_allclose(loaded['img'][0], np.round(xcase['image'] * 255) / 255,
                               atol=1e-6)
    # the manifest is read unchanged by the foundation's dataset, with the full pipeline
    dataset = ImageReportDataset(
        ann_file=str(root / 'manifest.jsonl'), data_root=str(root),
        metainfo=dict(classes=FINDING_CLASSES),
        pipeline=[dict(type='LoadMedicalImage'), dict(type='LoadMedicalMask'),
                  dict(type='ParseReport'), dict(type='PackMedInputs')])
    assert len(dataset) == 5
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        row = rows[i]
        assert sample.gt_label.tolist() == [float(k in row['labels']) for k in FINDING_CLASSES]
        assert sample.report and 'FINDINGS' not in sample.report


def test_on_the_fly_dataset_equals_files(tmp_path):
    root = tmp_path / 'phantoms'
    write_phantom_dataset(str(root), 2, 2, seed=4, config=SMALL, workers=1, progress=False)
    on_disk = ImageReportDataset(ann_file=str(root / 'manifest.jsonl'), data_root=str(root),
                                 metainfo=dict(classes=FINDING_CLASSES),
                                 pipeline=[dict(type='LoadMedicalImage'),
                                           dict(type='LoadMedicalMask')])
    on_the_fly = PhantomDataset(num_3d=2, num_2d=2, seed=4, phantom_cfg=vars(SMALL))
    assert len(on_the_fly) == len(on_disk) == 4
    for i in range(4):
        disk, fly = on_disk[i], on_the_fly[i]
        assert disk['modality'] == fly['modality']
        tolerance = 0 if fly['modality'] == '3d' else 0.5 / 255 + 1e-6
        np.testing.assert_allclose(disk['img'], fly['img'], atol=tolerance)
        np.testing.assert_array_equal(disk['gt_seg'], fly['gt_seg'])
        assert disk['gt_label'] == fly['gt_label']
        assert disk['report'] == fly['report']
    assert {s['split'] for s in PhantomDataset(num_3d=30, num_2d=0, split='val').data_list} \
        == {'val'}
