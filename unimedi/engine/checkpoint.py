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

:class:`~unimedi.engine.hooks.SafeCheckpointHook` applies the first two rules in a run.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from collections import OrderedDict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

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


def load_state_dict_file(path: str, map_location: str | torch.device = 'cpu') -> dict:
    """Load weights from a local ``.safetensors`` or ``.pth``/``.pt``/``.bin`` file safely.

    A ``.pth`` is read with ``weights_only=True``; a runner checkpoint's ``state_dict`` is
    returned when the file holds one.

    Raises:
        FileNotFoundError: no such file (nothing is ever downloaded).
        ValueError: the file needs arbitrary Python objects to load (names the file).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: checkpoint not found (weights are never downloaded; '
                                'give a local file)')
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path, device=str(map_location))
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle.UnpicklingError and friends
        raise ValueError(
            f'{path}: refused to load; it holds Python objects beyond tensors and plain '
            'containers, which could run code when unpickled. Convert it where you trust it, '
            'e.g. torch.save(torch.load(path, weights_only=False)["state_dict"], new_path).'
            f' ({type(exc).__name__})') from exc
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get('state_dict'), dict):
        return checkpoint['state_dict']
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path}: expected a state dict, got {type(checkpoint).__name__}')
    return checkpoint


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
