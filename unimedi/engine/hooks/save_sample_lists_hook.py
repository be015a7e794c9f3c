"""``SaveSampleListsHook``: write the samples a run trains, validates and tests on."""
from __future__ import annotations

import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from unimedi.registry import HOOKS


def _base_dataset(dataset):
    """Unwrap MMEngine dataset wrappers (``ClassBalancedDataset``, ``RepeatDataset``...)."""
    while hasattr(dataset, 'dataset') and not hasattr(dataset, 'sample_ids'):
        dataset = dataset.dataset
    return dataset


@HOOKS.register_module()
class SaveSampleListsHook(Hook):
    """Write ``<work_dir>/sample_lists/{train,val,test}.txt``: one sample id a line.

    With ``data_fraction`` < 1 the training list is the drawn subset, so a run's label
    fraction can be checked and reproduced from its work dir. The header lines (``#``)
    give the dataset class, its size, the fraction and the seed. Datasets without
    ``sample_ids`` (not a ``MedBaseDataset``) are skipped.
    """

    priority = 'VERY_LOW'

    def _write(self, runner, split: str, dataloader) -> None:
        if not is_main_process() or dataloader is None:
            return
        dataset = _base_dataset(getattr(dataloader, 'dataset', None))
        ids = getattr(dataset, 'sample_ids', None)
        if ids is None:
            return
        folder = osp.join(runner.work_dir, 'sample_lists')
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, f'{split}.txt')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(f'# {type(dataset).__name__} {split}: {len(ids)} samples, '
                    f'data_fraction={getattr(dataset, "data_fraction", 1.0)}, '
                    f'fraction_seed={getattr(dataset, "fraction_seed", 0)}\n')
            f.writelines(f'{sample_id}\n' for sample_id in ids)
        runner.logger.info(f'{len(ids)} {split} sample ids written to {path}')

    def before_train(self, runner) -> None:
        self._write(runner, 'train', runner.train_dataloader)
        if runner.val_loop is not None:
            self._write(runner, 'val', runner.val_loop.dataloader)

    def before_test(self, runner) -> None:
        self._write(runner, 'test', runner.test_loop.dataloader)
