"""What the figure tools' tests share: tiny phantoms and a 2-iteration pre-training run of
the tiny UniMedI on them (trained once per session, in process)."""
from __future__ import annotations

import uuid

import pytest
from mmengine.config import Config

from unimedi.datasets.phantom.generator import PhantomConfig, write_phantom_dataset
from repo_scripts import TINY_UNIMEDI_CONFIG, redirect_caches


@pytest.fixture(scope='session')
def two_iteration_run(tmp_path_factory) -> dict:
    """``config`` (tiny UniMedI), ``checkpoint`` (``iter_2.pth``), ``work_dir`` (with its
    ``scalars.json``), ``phantoms`` (14 CTs, 14 radiographs) and a scratch ``root``."""
    from unimedi.engine.runner import UniMedIRunner

    root = tmp_path_factory.mktemp('two_iterations')
    phantoms = root / 'phantoms'
    write_phantom_dataset(str(phantoms), 14, 14, seed=0, workers=1, progress=False,
                          config=PhantomConfig(ct_shape=(32, 64, 64), ct_spacing=(10.0, 5.6, 5.6),
                                               xray_size=(64, 64)))
    config = root / 'tiny.py'
    config.write_text(TINY_UNIMEDI_CONFIG)
    cfg = Config.fromfile(str(config))
    loader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                  dataset=dict(data_root=str(phantoms)))
    work_dir = root / 'work'
    cfg.merge_from_dict(dict(
        train_dataloader=loader, val_dataloader=loader, test_dataloader=loader,
        train_cfg=dict(max_iters=2, val_interval=100), work_dir=str(work_dir),
        default_hooks=dict(checkpoint=dict(interval=2), logger=dict(interval=1)),
        custom_hooks=[], experiment_name=f'two_iterations_{uuid.uuid4().hex[:8]}',
        launcher='none', load_from=None))
    redirect_caches(cfg._cfg_dict, root / 'cache')
    UniMedIRunner.from_cfg(cfg).train()
    return dict(config=str(config), checkpoint=str(work_dir / 'iter_2.pth'),
                work_dir=str(work_dir), phantoms=str(phantoms), root=root)
