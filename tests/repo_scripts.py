"""What several tests share: loading a script of tools/ as a module, choosing which config
leaves to train, and the tiny UniMedI config (the phantom demo config with a 2-block
32-wide ViT and a random 1-layer BERT, so nothing is downloaded). Import from tests as
``from repo_scripts import load_script``."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
#: the label fraction in a config leaf's name: ``..._10pct.py``, ``..._100pct_setr-mla.py``
FRACTION_IN_NAME = re.compile(r'_(\d+)pct(?=[_.-])')
TINY_EMBED_DIM = 32
TINY_UNIMEDI_CONFIG = f"""
_base_ = [{str(REPO_ROOT / 'configs/unimedi/vit_tiny_pretrain_phantom.py')!r}]
model = dict(
    vision_encoder=dict(arch=dict(_delete_=True, embed_dim=32, depth=2, num_heads=2)),
    text_encoder=dict(_delete_=True, type='HFTextEncoder',
                      config=dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1,
                                  num_attention_heads=2, intermediate_size=64)),
    embed_dim={TINY_EMBED_DIM},
    dino_head=dict(out_dim=64, hidden_dim=64, bottleneck_dim=32))
"""


def load_script(relative_path: str) -> ModuleType:
    """``tools/...py`` (relative to the repository root) imported as a module."""
    path = REPO_ROOT / relative_path
    name = 'unimedi_script_' + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def redirect_caches(cfg, folder) -> None:
    """Point every ``CachedTransforms`` of a config (at any depth) at ``folder``, so tests
    never write into the repository's ``data/``."""
    if isinstance(cfg, dict):
        if cfg.get('type') == 'CachedTransforms':
            cfg['cache_dir'] = str(folder)
        for value in cfg.values():
            redirect_caches(value, folder)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            redirect_caches(value, folder)


def label_fraction_families(paths: list) -> dict:
    """Config leaves grouped by their name without the label fraction (``..._10pct.py``
    and ``..._100pct.py`` are one recipe): ``{name with _Npct: [(fraction, path)]}``.
    tests/configs/test_configs.py checks that a family's leaves differ only in
    ``train_dataloader.dataset.data_fraction``."""
    families: dict = {}
    for path in paths:
        match = FRACTION_IN_NAME.search(path)
        key = FRACTION_IN_NAME.sub('_Npct', path) if match else path
        fraction = int(match.group(1)) / 100 if match else None
        families.setdefault(key, []).append((fraction, path))
    return families


def one_per_label_fraction_family(paths: list) -> list:
    """The config leaves to train: one per :func:`label_fraction_families` family, the one
    nearest 10 % of the labels, so each recipe trains once and a fraction below 1 is still
    exercised.

    Args:
        paths: config paths relative to the repository root.
    """
    return sorted(min(family, key=lambda leaf: abs((leaf[0] or 1.0) - 0.1))[1]
                  for family in label_fraction_families(paths).values())
