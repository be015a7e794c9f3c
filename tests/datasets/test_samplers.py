"""ModalityRatioBatchSampler: every batch keeps its 2D:3D ratio, in order, seeded, sharded."""
from __future__ import annotations

import itertools
from collections import Counter

import pytest
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.registry import init_default_scope

from unimedi.datasets import ImageReportDataset, ModalityRatioBatchSampler
from unimedi.registry import DATA_SAMPLERS


@pytest.fixture
def dataset(tmp_path):
    import json
    rows = [dict(case_id=f'c{i}', path=f'x{i}.png', modality='3d' if i % 5 == 0 else '2d',
                 report='r') for i in range(40)]  # 8 CTs, 32 radiographs
    (tmp_path / 'manifest.jsonl').write_text('\n'.join(json.dumps(r) for r in rows))
    return ImageReportDataset(ann_file='manifest.jsonl', data_root=str(tmp_path))


def _modalities(dataset, batch):
    return Counter(dataset.get_data_info(i)['modality'] for i in batch)


@pytest.mark.parametrize('num_3d', [0, 3, 4, 8])
def test_every_batch_keeps_the_ratio(dataset, num_3d):
    sampler = ModalityRatioBatchSampler(InfiniteSampler(dataset, seed=0), batch_size=8,
                                        num_3d=num_3d)
    batches = list(itertools.islice(iter(sampler), 50))
    assert all(len(b) == 8 for b in batches)
    for batch in batches:
        assert _modalities(dataset, batch) == +Counter({'2d': 8 - num_3d, '3d': num_3d})
    # the rarer CTs (20 % of the data) fill half of each batch at num_3d=4: all of them are seen
    if num_3d:
        seen = {i for b in batches for i in b if dataset.get_data_info(i)['modality'] == '3d'}
        assert len(seen) == 8


def test_fraction_seed_and_registry(dataset):
    init_default_scope('unimedi')
    built = DATA_SAMPLERS.build(dict(type='ModalityRatioBatchSampler', fraction_3d=0.25),
                                default_args=dict(sampler=InfiniteSampler(dataset, seed=1),
                                                  batch_size=16))
    assert built.need == {'2d': 12, '3d': 4}
    again = ModalityRatioBatchSampler(InfiniteSampler(dataset, seed=1), 16, fraction_3d=0.25)
    assert list(itertools.islice(iter(built), 5)) == list(itertools.islice(iter(again), 5))
    finite = ModalityRatioBatchSampler(DefaultSampler(dataset, shuffle=False), 8, num_3d=2)
    assert len(finite) == 5 and all(len(b) == 8 for b in finite)


def test_bad_arguments(dataset):
    sampler = InfiniteSampler(dataset, seed=0)
    with pytest.raises(ValueError, match='exactly one of'):
        ModalityRatioBatchSampler(sampler, 8)
    with pytest.raises(ValueError, match='num_3d must be in'):
        ModalityRatioBatchSampler(sampler, 8, num_3d=9)
    with pytest.raises(ValueError, match='fraction_3d'):
        ModalityRatioBatchSampler(sampler, 8, fraction_3d=1.5)
    only_2d = ImageReportDataset(ann_file=dataset.ann_file, modalities=('2d', ))
    with pytest.raises(ValueError, match='asks for 2 3d samples but the dataset has none'):
        ModalityRatioBatchSampler(InfiniteSampler(only_2d, seed=0), 8, num_3d=2)


def test_in_a_dataloader_built_by_the_runner(dataset):
    from mmengine.runner import Runner
    init_default_scope('unimedi')
    loader = Runner.build_dataloader(dict(
        batch_size=6, num_workers=0, dataset=dataset, collate_fn=dict(type='pseudo_collate'),
        sampler=dict(type='InfiniteSampler', shuffle=True),
        batch_sampler=dict(type='ModalityRatioBatchSampler', num_3d=2)), seed=0)
    assert isinstance(loader.batch_sampler, ModalityRatioBatchSampler)
    assert loader.batch_sampler.need == {'2d': 4, '3d': 2}
