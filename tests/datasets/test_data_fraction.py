"""MedBaseDataset `data_fraction`, `fraction_seed` and `sample_ids` (on ImageReportDataset)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from unimedi.datasets import ImageReportDataset, stratified_fraction
from conftest import TINY_CLASSES, write_tiny_dataset


@pytest.fixture(scope='module')
def manifest(tmp_path_factory) -> Path:
    """20 labelled 2D rows (read only by the tests)."""
    return write_tiny_dataset(tmp_path_factory.mktemp('tiny20'), num_2d=20, num_3d=0)


def _dataset(manifest: Path, **kwargs) -> ImageReportDataset:
    return ImageReportDataset(ann_file=str(manifest), metainfo=dict(classes=TINY_CLASSES),
                              **kwargs)


def _rows(manifest: Path) -> list[dict]:
    return [json.loads(line) for line in manifest.read_text().splitlines() if line]


def _label_key(info: dict) -> tuple:
    return tuple(info['gt_label'])


def test_full_dataset_sample_ids_are_case_ids(manifest):
    dataset = _dataset(manifest)
    assert dataset.data_fraction == 1.0 and dataset.fraction_seed == 0
    assert len(dataset) == 20
    assert dataset.sample_ids == [row['case_id'] for row in _rows(manifest)]
    split = _dataset(manifest, split='test')
    assert split.sample_ids == ['case000', 'case001']


def test_fraction_is_the_stratified_subset(manifest):
    full = _dataset(manifest)
    infos = [full.get_data_info(i) for i in range(len(full))]
    keep = stratified_fraction([info['gt_label'] for info in infos], 0.5, seed=0)
    dataset = _dataset(manifest, data_fraction=0.5)
    assert len(dataset) == len(keep) == 10
    assert dataset.sample_ids == [infos[i]['case_id'] for i in keep]
    assert [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))] == \
        [infos[i]['img_path'] for i in keep]
    # stratified: each label group keeps half of its samples (up to rounding)
    full_counts = Counter(_label_key(i) for i in infos)
    kept_counts = Counter(_label_key(dataset.get_data_info(i)) for i in range(len(dataset)))
    for key, count in full_counts.items():
        assert abs(kept_counts[key] - count / 2) <= 1, key


def test_fraction_is_stable_and_seeded(manifest):
    first = _dataset(manifest, data_fraction=0.5, fraction_seed=3)
    again = _dataset(manifest, data_fraction=0.5, fraction_seed=3)
    assert first.sample_ids == again.sample_ids
    assert (first.data_fraction, first.fraction_seed) == (0.5, 3)
    other = _dataset(manifest, data_fraction=0.5, fraction_seed=4)
    assert other.sample_ids != first.sample_ids
    assert len(other) == len(first)
    # the subset composes with the split filter (drawn among the kept rows)
    train = _dataset(manifest, split='train', data_fraction=0.5)
    assert len(train) == 9 and set(train.sample_ids) <= {
        r['case_id'] for r in _rows(manifest) if r['split'] == 'train'}


def test_rows_without_labels_raise_only_with_a_fraction(manifest, tmp_path):
    rows = _rows(manifest)
    for row in rows[3:6]:
        del row['labels']
    unlabeled = tmp_path / 'unlabeled.jsonl'
    unlabeled.write_text('\n'.join(json.dumps(r) for r in rows) + '\n')
    assert len(_dataset(unlabeled)) == 20  # fine at 1.0: nothing to stratify
    with pytest.raises(ValueError, match=r'data_fraction needs a stratify_label or gt_label '
                                         r'on every sample.*3 samples have none.*xray_3\.png'):
        _dataset(unlabeled, data_fraction=0.5)


@pytest.mark.parametrize('fraction', [0.0, -0.1, 1.5])
def test_bad_fraction_raises(manifest, fraction):
    with pytest.raises(ValueError, match='data_fraction must be in'):
        _dataset(manifest, data_fraction=fraction)


def test_sample_ids_follow_indices_and_subsets(manifest):
    dataset = _dataset(manifest, indices=[0, 1, 2])
    assert len(dataset) == 3
    assert dataset.sample_ids == ['case000', 'case001', 'case002']
    subset = _dataset(manifest).get_subset([4, 5])
    assert subset.sample_ids == ['case004', 'case005']
