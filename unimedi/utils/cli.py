"""What tools/train.py and tools/test.py share: merging command-line options into a config."""
from __future__ import annotations

import os.path as osp

from mmengine.config import Config


def apply_cli_options(cfg: Config, config_path: str, work_dir: str | None = None,
                      cfg_options: dict | None = None, launcher: str = 'none') -> Config:
    """Set the launcher, merge ``--cfg-options`` and choose the work dir.

    The work dir is ``work_dir`` when given, else the config's ``work_dir``, else
    ``work_dirs/<config name>``.
    """
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(config_path))[0])
    return cfg
