"""Load a pre-trained vision encoder: a UniMedI checkpoint or exported encoder, or general ViT
weights (timm, Hugging Face ``ViTModel``) converted on the fly (``vit_weights.py``)."""
from __future__ import annotations

import math

import torch
from mmengine.logging import MMLogger
from torch import nn

from unimedi.utils.pretrained import resolve_pretrained_path
from ..tokenizers.patch_embed import resample_pos_embed
from .vit_weights import UNIMEDI_ONLY, general_vit_to_unimedi, read_weights


def _top_level_prefixes(keys) -> list[str]:
    return sorted({key.split('.', 1)[0] + '.' for key in keys})


def _infer_old_grid(length: int, new_grid: tuple[int, ...]) -> tuple[int, ...] | None:
    """The grid of ``length`` tokens with ``new_grid``'s aspect ratio, if there is one."""
    scale = (length / math.prod(new_grid))**(1.0 / len(new_grid))
    grid = tuple(int(round(g * scale)) for g in new_grid)
    return grid if math.prod(grid) == length else None


def _match_pos_embeds(encoder: nn.Module, state: dict, source: str) -> list[str]:
    """Resample position tables laid out for another input size (uniform scaling only)."""
    resampled = []
    own = encoder.state_dict()
    for key, value in list(state.items()):
        if not key.endswith('pos_embed') or key not in own or value.shape == own[key].shape:
            continue
        tokenizer = encoder.get_submodule(key.rsplit('.', 1)[0])
        new_grid = tuple(tokenizer.grid_size)
        old_grid = _infer_old_grid(value.shape[1], new_grid)
        if old_grid is None or value.shape[-1] != own[key].shape[-1]:
            raise ValueError(
                f'{source}: {key} has shape {tuple(value.shape)}, the model '
                f'{tuple(own[key].shape)} (grid {new_grid}); set the tokenizer img_size to '
                'the pre-training one (the table is interpolated for other input sizes at '
                'run time)')
        state[key] = resample_pos_embed(value, old_grid, new_grid)
        resampled.append(f'{key}: {old_grid} -> {new_grid}')
    return resampled


def pretrained_spec(pretrained: str | dict | None) -> dict | None:
    """A config's ``pretrained`` as :func:`load_encoder_checkpoint` arguments: ``None``, a
    path, or ``dict(checkpoint=..., format=..., prefix=..., strict=...)``.

    Raises:
        ValueError: a dict without ``checkpoint``, or with unknown keys.
    """
    if pretrained is None:
        return None
    if isinstance(pretrained, str):
        pretrained = dict(checkpoint=pretrained)
    pretrained = dict(pretrained)
    if not pretrained.get('checkpoint'):
        raise ValueError(f'pretrained needs a "checkpoint" path, got {pretrained}')
    unknown = set(pretrained) - {'checkpoint', 'format', 'prefix', 'strict'}
    if unknown:
        raise ValueError(f'pretrained has unknown keys {sorted(unknown)}; allowed: checkpoint, '
                         'format, prefix, strict')
    return pretrained


def _check_shapes(encoder: nn.Module, state: dict, source: str) -> None:
    """Raise ``ValueError`` naming the tensors whose shapes differ from the encoder's
    (position tables are checked, and resampled to another grid, by ``_match_pos_embeds``)."""
    own = encoder.state_dict()
    wrong = [f'{key}: {tuple(value.shape)} vs {tuple(own[key].shape)}'
             for key, value in state.items() if key in own and value.shape != own[key].shape
             and not key.endswith('pos_embed')]
    if wrong:
        raise ValueError(f'{source}: {len(wrong)} tensors do not fit this encoder (file vs '
                         f'model): {wrong[:6]}{" ..." if len(wrong) > 6 else ""}; is the arch '
                         '(width, depth) the checkpoint\'s?')


def load_encoder_checkpoint(encoder: nn.Module, checkpoint: str,
                            prefix: str | None = 'vision_encoder.', strict: bool = True,
                            format: str = 'auto') -> dict:
    """Copy pre-trained weights into ``encoder`` (safe loading, no unpickling).

    Args:
        encoder: the module to fill (e.g. a ``UnifiedViT``).
        checkpoint: a UniMedI runner checkpoint, a file written by
            ``tools/misc/export_encoder.py`` or ``tools/misc/convert_vit_weights.py``
            (``.safetensors``/``.pth``), a timm ViT checkpoint, a Hugging Face ``ViTModel``
            folder, or ``package:<name>``. Local files only: nothing is downloaded.
        prefix: the encoder's key prefix inside a UniMedI checkpoint (``'vision_encoder.'``
            the student, ``'teacher.encoder.'`` the EMA teacher); a file without keys under
            the prefix (an exported encoder) is read as the encoder's own keys. ``None`` or
            ``''``: the keys are the encoder's. Not used for timm / Hugging Face weights.
        strict: raise when encoder weights are missing from the file (a general ViT never
            has the UniMedI-only ``mask_token`` / ``extra_embed`` / register tokens: they
            keep their initialisation), or, for a general ViT, when a tokenizer is a conv
            stem.
        format: ``'unimedi'``, ``'timm'``, ``'hf'`` or ``'auto'`` (told by the keys).

    Returns:
        ``{'loaded': n, 'missing': [...], 'unexpected': [...], 'resampled': [...]}``.

    Raises:
        ValueError: nothing in the file matches the encoder, or (``strict``) weights are
            missing; the message names the file and the keys.
    """
    path = resolve_pretrained_path(checkpoint)
    state, fmt = read_weights(path, format)
    logger = MMLogger.get_current_instance()
    optional = set()
    if fmt in ('timm', 'hf'):
        state, notes = general_vit_to_unimedi(state, fmt, encoder, path, strict=strict)
        for note in notes:
            logger.info(f'{path} ({fmt}): {note}')
        optional = {key for key in encoder.state_dict()
                    if key in UNIMEDI_ONLY or key == 'cls_pos'
                    or (not strict and key.startswith('tokenizers.') and '.proj.' in key)}
        prefix = None
    elif prefix and any(key.startswith(prefix) for key in state):
        state = {key[len(prefix):]: value for key, value in state.items()
                 if key.startswith(prefix)}
    elif prefix:
        logger.info(f'{path}: no keys under {prefix!r}; reading it as an exported encoder')
    own_keys = set(encoder.state_dict())
    if not own_keys & set(state):
        raise ValueError(f'{path}: no weights for this encoder (prefix {prefix!r}); the file\'s '
                         f'top-level keys are {_top_level_prefixes(state)[:10]}')
    _check_shapes(encoder, state, path)
    resampled = _match_pos_embeds(encoder, state, path)
    unexpected = sorted(set(state) - own_keys)
    state = {key: value for key, value in state.items() if key in own_keys}
    missing = sorted(own_keys - set(state) - optional)
    kept = sorted((own_keys - set(state)) & optional)
    if kept:
        logger.info(f'{path}: not in {fmt} weights, kept as initialised: {kept}')
    if missing and strict:
        raise ValueError(f'{path}: the checkpoint lacks {len(missing)} encoder weights: '
                         f'{missing[:10]}{" ..." if len(missing) > 10 else ""} '
                         '(strict=False loads the rest)')
    with torch.no_grad():
        incompatible = encoder.load_state_dict(state, strict=False)
    if missing:
        logger.warning(f'{path}: encoder weights not in the checkpoint (left as initialised): '
                       f'{missing}')
    if unexpected:
        logger.info(f'{path}: {len(unexpected)} tensors are not part of this encoder and were '
                    f'ignored: {unexpected[:10]}')
    for line in resampled:
        logger.info(f'{path}: resampled position table {line}')
    logger.info(f'loaded {len(state)} encoder tensors from {path} ({fmt}'
                + (f', prefix {prefix!r})' if fmt == 'unimedi' else ')'))
    return dict(loaded=len(state), missing=list(incompatible.missing_keys),
                unexpected=unexpected, resampled=resampled)
