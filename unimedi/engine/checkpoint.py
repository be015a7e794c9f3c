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
