"""The checkpoint policy of unimedi, in one place.

- Every file is read with ``torch.load(weights_only=True)``: no checkpoint, ours or a
  third party's, is ever unpickled blindly (torch >= 2.6 does this by default; it is
  explicit here so that older torch behaves the same).
- The runner's own checkpoints are made loadable that way: before saving,
  :func:`to_weights_only` turns MMEngine's ``HistoryBuffer`` logs and numpy values into
  plain lists and numbers; after loading, :func:`restore_history_buffers` turns the logs
  back, so ``--resume`` works on torch >= 2.6 without ``weights_only=False``.
- Pretrained weights load from ``.safetensors`` or from ``.pth``/``.pt`` with
  ``weights_only=True`` (:func:`load_state_dict_file`).
- MMEngine's own loading (``load_from``, ``--resume``, ``tools/test.py``, ``Pretrained``
  initialisation) goes through the same function: importing this module registers it as
  MMEngine's loader of local paths, and refuses the download schemes.
- A bad file gets an error that names it and says which kind it is: corrupt or truncated
  (:class:`CorruptCheckpointError`), or holding Python objects (:class:`UnsafeCheckpointError`).

:class:`~unimedi.engine.hooks.SafeCheckpointHook` applies the first two rules in a run.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import pickle
import re
import zipfile
from collections import OrderedDict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

_HISTORY_TAG = '__history_buffer__'


def to_weights_only(value):
    """Recursively replace numpy values and ``HistoryBuffer`` objects by plain Python.

    Tensors, numbers, strings, lists, tuples and dicts are kept. A ``HistoryBuffer``
    becomes a tagged dict that :func:`restore_history_buffers` reads back.
    """
    if isinstance(value, HistoryBuffer):
        logs, counts = value.data
        return {_HISTORY_TAG: True, 'log_history': np.asarray(logs).tolist(),
                'count_history': np.asarray(counts).tolist(), 'max_length': value.max_length}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        items = [(k, to_weights_only(v)) for k, v in value.items()]
        return OrderedDict(items) if isinstance(value, OrderedDict) else dict(items)
    if isinstance(value, list):
        return [to_weights_only(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_weights_only(v) for v in value)
    return value


def restore_history_buffers(value):
    """Inverse of the ``HistoryBuffer`` part of :func:`to_weights_only` (recursive)."""
    if isinstance(value, dict):
        if value.get(_HISTORY_TAG):
            return HistoryBuffer(value['log_history'], value['count_history'],
                                 value['max_length'])
        for key in list(value):
            value[key] = restore_history_buffers(value[key])
    elif isinstance(value, list):
        return [restore_history_buffers(v) for v in value]
    elif isinstance(value, tuple):
        return tuple(restore_history_buffers(v) for v in value)
    return value


class CheckpointError(ValueError):
    """A weights file that cannot be used; the message names the file and the problem."""


class CorruptCheckpointError(CheckpointError):
    """The file is empty, truncated or not a checkpoint at all."""


class UnsafeCheckpointError(CheckpointError):
    """The file needs Python objects beyond tensors and plain containers to load."""


_UNSAFE_GLOBAL = re.compile(r'(?:unsupported|Unsupported) global:? (?:GLOBAL )?([\w.]+)')


def _unsafe_global(message: str) -> str | None:
    """The global a weights-only unpickler refused, from its message (None: none named)."""
    match = _UNSAFE_GLOBAL.search(message)
    return match.group(1) if match else None


def torch_load_weights_only(path: str, map_location: str | torch.device | None = 'cpu'):
    """``torch.load(path, weights_only=True)``, whatever the environment says.

    ``weights_only=True`` is passed explicitly, so ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` (and
    torch's default on versions before 2.6) cannot turn the file into code. Errors tell the
    two kinds of bad file apart, and never advise unpickling a file of unknown origin.

    Raises:
        FileNotFoundError: no such file.
        CorruptCheckpointError: empty, truncated or not a torch file.
        UnsafeCheckpointError: it holds other Python objects (names the first one).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: checkpoint not found (weights are never downloaded; '
                                'give a local file)')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        name = _unsafe_global(str(exc))
        if name is None:
            raise CorruptCheckpointError(
                f'{path}: not a readable checkpoint: {osp.getsize(path)} bytes that are not a '
                'torch file of tensors (corrupt, or another format)') from exc
        raise UnsafeCheckpointError(
            f'{path}: refused to load: it holds Python objects beyond tensors and plain '
            f'containers (the first: {name}), which could run code when unpickled; unimedi '
            'never unpickles those. If the file comes from a source you trust, save its '
            'tensors there as a plain state dict or a .safetensors file and load that.'
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        detail = (str(exc).splitlines() or [''])[0][:120]
        raise CorruptCheckpointError(
            f'{path}: not a readable checkpoint: the file is empty, truncated or corrupt '
            f'({osp.getsize(path)} bytes; {type(exc).__name__}{": " if detail else ""}'
            f'{detail}). If it was being written or copied, copy it again.') from exc


def load_state_dict_file(path: str, map_location: str | torch.device = 'cpu') -> dict:
    """Load weights from a local ``.safetensors`` or ``.pth``/``.pt``/``.bin`` file safely.

    A ``.pth`` is read by :func:`torch_load_weights_only`; a runner checkpoint's
    ``state_dict`` is returned when the file holds one.

    Raises:
        FileNotFoundError: no such file (nothing is ever downloaded).
        CorruptCheckpointError: an empty, truncated or corrupt file (names the file).
        UnsafeCheckpointError: the file needs arbitrary Python objects to load.
        CheckpointError: the file holds something other than a state dict.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: checkpoint not found (weights are never downloaded; '
                                'give a local file)')
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        try:
            return load_file(path, device=str(map_location))
        except Exception as exc:  # safetensors_rust.SafetensorError: header, size, ...
            raise CorruptCheckpointError(
                f'{path}: not a readable .safetensors file ({osp.getsize(path)} bytes; '
                f'{exc})') from exc
    checkpoint = torch_load_weights_only(path, map_location)
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get('state_dict'), dict):
        return checkpoint['state_dict']
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{path}: expected a state dict, got {type(checkpoint).__name__}')
    return checkpoint


def load_from_local_weights_only(filename: str, map_location=None):
    """MMEngine's local checkpoint loader, with :func:`torch_load_weights_only`.

    Registered for every local path when :mod:`unimedi.engine` is imported, so
    ``load_from``, ``--resume``, ``tools/test.py`` and ``init_cfg=dict(type='Pretrained')``
    all load with ``weights_only=True``.
    """
    return torch_load_weights_only(osp.expanduser(filename), map_location)


def refuse_remote_checkpoint(filename: str, map_location=None):
    """The loader of MMEngine's download schemes (``http://``, ``open-mmlab://``, ...)."""
    raise FileNotFoundError(f'{filename}: weights are never downloaded; download the file '
                            'where you trust it and give its local path')


REMOTE_SCHEMES = ('http://', 'https://', 'pavi://', 'modelzoo://', 'torchvision://',
                  'open-mmlab://', 'openmmlab://', 'mmcls://')
CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_weights_only, force=True)
CheckpointLoader.register_scheme(prefixes=REMOTE_SCHEMES, loader=refuse_remote_checkpoint,
                                 force=True)


#: ``config.json`` ``format`` of the folders ``unimedi.apis.model_export`` writes
MODEL_FOLDER_FORMAT = 'unimedi'
#: the sub-folder of a whole-model folder holding the text tower (Hugging Face layout)
TEXT_FOLDER = 'text_encoder'


def is_model_folder(path: str) -> bool:
    """A folder written by ``unimedi.apis.model_export`` (``config.json`` with
    ``format: 'unimedi'``)."""
    config = osp.join(path, 'config.json')
    if not (osp.isdir(path) and osp.isfile(config)):
        return False
    try:
        with open(config, encoding='utf-8') as f:
            return json.load(f).get('format') == MODEL_FOLDER_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def read_model_folder(folder: str) -> tuple[dict, dict]:
    """``(info, state)`` of a unimedi model folder: its ``config.json`` and the tensors of
    its ``model.safetensors``.

    Raises:
        FileNotFoundError: no such folder or weights file.
        ValueError: not a unimedi model folder (names what is there).
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{folder}: model folder not found (nothing is downloaded)')
    if not is_model_folder(folder):
        raise ValueError(f'{folder}: not a unimedi model folder (config.json with format '
                         f'"{MODEL_FOLDER_FORMAT}"); found {sorted(os.listdir(folder))[:8]}')
    with open(osp.join(folder, 'config.json'), encoding='utf-8') as f:
        info = json.load(f)
    for key in ('kind', 'encoder'):
        if key not in info:
            raise ValueError(f'{folder}/config.json: no {key!r}')
    return info, load_state_dict_file(osp.join(folder, 'model.safetensors'))
