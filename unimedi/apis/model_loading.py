"""Build a model from a config and load its weights with unimedi's safe checkpoint policy."""
from __future__ import annotations

import copy
import logging
import os
import warnings

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import MODELS, DefaultScope
from mmengine.utils import import_modules_from_strings
from torch import nn

from unimedi.engine.checkpoint import load_state_dict_file

_SHOWN_KEYS = 10


def _key_list(keys) -> str:
    keys = list(keys)
    shown = ', '.join(keys[:_SHOWN_KEYS])
    more = len(keys) - _SHOWN_KEYS
    return shown + (f' (and {more} more)' if more > 0 else '')


def load_config(config: str | os.PathLike | Config, cfg_options: dict | None = None) -> Config:
    """A config file or ``Config`` (copied) with ``cfg_options`` merged in."""
    if isinstance(config, (str, os.PathLike)):
        cfg = Config.fromfile(os.fspath(config))
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError(f'config must be a config file path or an mmengine Config, '
                        f'got {type(config).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('model') is None:
        raise ValueError(f'{getattr(cfg, "filename", None) or "the config"}: no "model" to build')
    return cfg


def load_weights(model: nn.Module, checkpoint: str | os.PathLike, strict: bool = True) -> None:
    """Load a checkpoint file into ``model`` without unpickling arbitrary objects.

    Reads ``.safetensors`` or ``.pth``/``.pt`` (a runner checkpoint's ``state_dict`` or a
    plain state dict) with :func:`~unimedi.engine.checkpoint.load_state_dict_file`; a
    ``module.`` prefix (DDP) is stripped.

    Args:
        model: the built model.
        checkpoint: the weights file.
        strict: weights of the model missing from the checkpoint raise; ``False`` only
            warns and leaves them as initialised. Checkpoint entries the model does not
            have always only warn.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not loadable safely, tensor shapes differ from the model's,
            or (``strict``) model weights are missing; the message names the keys.
    """
    path = os.fspath(checkpoint)
    state = load_state_dict_file(path, map_location='cpu')
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches raise even with strict=False
        raise ValueError(f'{path}: the weights do not fit the model built from the config '
                         f'({exc})') from exc
    if result.missing_keys:
        message = (f'{path}: {len(result.missing_keys)} weights of the model are not in the '
                   f'checkpoint: {_key_list(result.missing_keys)}')
        if strict:
            raise ValueError(message + '. Is it a checkpoint of this config? (strict=False '
                             'loads it anyway and keeps those weights as initialised)')
        warnings.warn(message + '; they keep their initial values', stacklevel=3)
    if result.unexpected_keys:
        warnings.warn(f'{path}: {len(result.unexpected_keys)} checkpoint entries are not used '
                      f'by the model: {_key_list(result.unexpected_keys)}', stacklevel=3)


def init_model(config: str | os.PathLike | Config, checkpoint: str | os.PathLike | None = None,
               device: str | torch.device = 'cpu', cfg_options: dict | None = None,
               strict: bool = True) -> nn.Module:
    """Build the model of a config, load its weights and put it in eval mode.

    The model is built under the config's ``default_scope`` (``'unimedi'`` when unset),
    after importing its ``custom_imports``; a top-level ``data_preprocessor`` is used when
    the model config has none (as ``Runner`` does).

    Args:
        config: a config file or an ``mmengine.Config`` (not modified).
        checkpoint: weights to load (see :func:`load_weights`); ``None`` keeps the random
            initialisation and logs a warning.
        device: where the model goes, e.g. ``'cpu'``, ``'cuda:0'``.
        cfg_options: overrides merged into the config, e.g. ``{'model.embed_dim': 64}``.
        strict: see :func:`load_weights`.

    Returns:
        the model in eval mode on ``device``, with the merged config as ``model.cfg``.
    """
    cfg = load_config(config, cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'unimedi')):
        model = MODELS.build(model_cfg)
    if checkpoint is None:
        print_log('init_model: no checkpoint given; the model keeps its random initial weights',
                  logger='current', level=logging.WARNING)
    else:
        load_weights(model, checkpoint, strict=strict)
    model.cfg = cfg
    model.to(torch.device(device))
    model.eval()
    return model
