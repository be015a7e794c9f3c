"""SaveSampleListsHook: the sample ids a run trains, validates and tests on."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from mmengine.dataset import RepeatDataset
from mmengine.logging import MMLogger

from unimedi.datasets import ImageReportDataset
from unimedi.engine.hooks.save_sample_lists_hook import SaveSampleListsHook
from unimedi.registry import HOOKS
from conftest import TINY_CLASSES, write_tiny_dataset


@pytest.fixture(scope='module')
def manifest(tmp_path_factory) -> Path:
    return write_tiny_dataset(tmp_path_factory.mktemp('tiny20'), num_2d=20, num_3d=0)


def _dataset(manifest: Path, **kwargs) -> ImageReportDataset:
    return ImageReportDataset(ann_file=str(manifest), metainfo=dict(classes=TINY_CLASSES),
                              **kwargs)


def _loader(dataset):
    return SimpleNamespace(dataset=dataset)


def _runner(work_dir: Path, train=None, val=None, test=None):
    return SimpleNamespace(
        work_dir=str(work_dir), logger=MMLogger.get_current_instance(),
        train_dataloader=_loader(train) if train is not None else None,
        val_loop=SimpleNamespace(dataloader=_loader(val)) if val is not None else None,
        test_loop=SimpleNamespace(dataloader=_loader(test)) if test is not None else None)


def _read(path: Path) -> tuple[list[str], list[str]]:
    lines = path.read_text().splitlines()
    return [line for line in lines if line.startswith('#')], \
        [line for line in lines if not line.startswith('#')]


def test_writes_train_val_test_lists(manifest, tmp_path):
    train = _dataset(manifest, split='train', data_fraction=0.5, fraction_seed=2)
    val = _dataset(manifest, split='test')
    test = _dataset(manifest)
    hook = HOOKS.build(dict(type='SaveSampleListsHook'))
    assert isinstance(hook, SaveSampleListsHook)
    runner = _runner(tmp_path / 'work', train, val, test)
    hook.before_train(runner)
    folder = tmp_path / 'work' / 'sample_lists'
    header, ids = _read(folder / 'train.txt')
    assert ids == train.sample_ids and len(ids) == len(train) == 9
    assert header == ['# ImageReportDataset train: 9 samples, data_fraction=0.5, '
                      'fraction_seed=2']
    assert _read(folder / 'val.txt')[1] == ['case000', 'case001']
    assert not (folder / 'test.txt').exists()
    hook.before_test(runner)
    header, ids = _read(folder / 'test.txt')
    assert ids == [f'case{i:03d}' for i in range(20)]
    assert 'data_fraction=1.0' in header[0]


def test_unwraps_dataset_wrappers_and_skips_others(manifest, tmp_path):
    inner = _dataset(manifest, data_fraction=0.5)
    runner = _runner(tmp_path, train=RepeatDataset(inner, times=3), val=[1, 2, 3])
    SaveSampleListsHook().before_train(runner)
    assert _read(tmp_path / 'sample_lists' / 'train.txt')[1] == inner.sample_ids
    # a dataset without sample_ids (not a MedBaseDataset) is skipped, no val loop is fine
    assert not (tmp_path / 'sample_lists' / 'val.txt').exists()
    runner = _runner(tmp_path / 'no_val', train=inner)
    SaveSampleListsHook().before_train(runner)
    assert (tmp_path / 'no_val' / 'sample_lists' / 'train.txt').is_file()
    assert not (tmp_path / 'no_val' / 'sample_lists' / 'val.txt').exists()
