"""General ViT weights (timm, Hugging Face ``ViTModel``) as ``UnifiedViT`` weights.

timm's ``VisionTransformer`` and ``UnifiedViT`` share the block names (``blocks.N.norm1``,
``attn.qkv``, ``attn.proj``, ``mlp.fc1``...), ``cls_token`` and ``norm``. What differs:

- timm's ``pos_embed`` holds the [CLS] position and the 2D table; ``UnifiedViT`` keeps
  the first as ``cls_pos`` and the table in each tokenizer, on that tokenizer's grid
  (resampled with timm's ``resample_abs_pos_embed``);
- timm's ``patch_embed.proj`` reads RGB; each tokenizer gets it for its own input channels
  (timm's ``adapt_input_conv``: summed over RGB for one channel, so a grey image gives the
  tokens timm gives that image repeated over RGB), at its patch size
  (``resample_patch_embed`` when it is not 16);
- the 3D tokenizer is inflated from the 2D one (I3D, Carreira & Zisserman 2017): the kernel
  repeated over depth and divided by the depth, the position table repeated over the depth
  of the grid, so a volume of identical slices gives the 2D tokens in every slab.

Hugging Face ``ViTModel`` keys are renamed to timm's first (query / key / value joined
into ``qkv``). Nothing is downloaded: the files are local. Weights ``UnifiedViT`` has no
place for (LayerScale, register or distillation tokens, q/k norms, a pre-norm) raise an
error that names them; classifier heads are dropped.
"""
from __future__ import annotations

import json
import math
import os
import os.path as osp
import re

import torch
from torch import nn

from unimedi.engine.checkpoint import is_model_folder, load_state_dict_file, read_model_folder

FORMATS = ('auto', 'unimedi', 'timm', 'hf')
#: UnifiedViT weights a general ViT does not have (they keep their initialisation)
UNIMEDI_ONLY = ('mask_token', 'extra_embed', 'register_tokens')
#: timm weights with no place in UnifiedViT, by the pattern that finds them
UNSUPPORTED = {
    r'(^|\.)ls[12]\.': 'LayerScale',
    r'^reg_token$': 'register tokens',
    r'^dist_token$|^head_dist\.': 'a distillation token (DeiT distilled)',
    r'\.(q_norm|k_norm)\.': 'q/k normalisation',
    r'^norm_pre\.': 'a pre-norm (CLIP-style)',
    r'^attn_pool\.': 'attention pooling',
    r'^patch_embed\.norm\.': 'a patch-embedding norm',
}
#: timm weights that are dropped: the classifier
DROPPED = (r'^head\.', r'^head_drop\.')
HF_WEIGHT_FILES = ('model.safetensors', 'pytorch_model.bin')


# ----------------------------------------------------------------------------- reading
def read_hf_folder(folder: str) -> dict[str, torch.Tensor]:
    """The weights of a local Hugging Face model folder (``config.json`` + weights, or a
    sharded ``*.index.json``), read without unpickling."""
    for name in HF_WEIGHT_FILES:
        index = osp.join(folder, f'{name}.index.json')
        if osp.isfile(index):
            with open(index, encoding='utf-8') as f:
                shards = sorted(set(json.load(f)['weight_map'].values()))
            state = {}
            for shard in shards:
                state.update(load_state_dict_file(osp.join(folder, shard)))
            return state
        if osp.isfile(osp.join(folder, name)):
            return load_state_dict_file(osp.join(folder, name))
    raise FileNotFoundError(f'{folder}: no {" or ".join(HF_WEIGHT_FILES)} (nor a sharded index) '
                            'in this model folder; nothing is downloaded')


def detect_format(state: dict) -> str:
    """``'timm'``, ``'hf'`` or ``'unimedi'`` from the keys of a state dict."""
    keys = set(state)
    if any(k.endswith('embeddings.patch_embeddings.projection.weight') for k in keys):
        return 'hf'
    if 'patch_embed.proj.weight' in keys:
        return 'timm'
    return 'unimedi'


# ----------------------------------------------------------------------------- Hugging Face
# the file layout (``encoder.layer.N.attention.attention.query``) and the in-memory names of
# transformers >= 5 (``layers.N.attention.q_proj``)
_HF_LAYER = re.compile(r'^(?:encoder\.layer|layers)\.(\d+)\.(.+)$')
_HF_QKV = re.compile(r'^attention\.(?:attention\.(query|key|value)|(q|k|v)_proj)\.(weight|bias)$')
_HF_BLOCK = {
    'layernorm_before.': 'norm1.',
    'layernorm_after.': 'norm2.',
    'attention.output.dense.': 'attn.proj.',
    'attention.o_proj.': 'attn.proj.',
    'intermediate.dense.': 'mlp.fc1.',
    'output.dense.': 'mlp.fc2.',
    'mlp.fc1.': 'mlp.fc1.',
    'mlp.fc2.': 'mlp.fc2.',
}
_QKV_NAMES = {'q': 'query', 'k': 'key', 'v': 'value'}
#: heads of ViTFor* / DeiTFor* models, dropped
_HF_DROPPED = ('pooler.', 'classifier.', 'distillation_classifier.', 'cls_classifier.')
_HF_TOP = {
    'embeddings.cls_token': 'cls_token',
    'embeddings.distillation_token': 'dist_token',  # refused by name (DeiT distilled)
    'embeddings.position_embeddings': 'pos_embed',
    'embeddings.patch_embeddings.projection.weight': 'patch_embed.proj.weight',
    'embeddings.patch_embeddings.projection.bias': 'patch_embed.proj.bias',
    'layernorm.weight': 'norm.weight',
    'layernorm.bias': 'norm.bias',
}


def hf_to_timm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a Hugging Face ``ViTModel`` (or ``ViTFor*``, prefix ``vit.``) state dict to
    timm's ``VisionTransformer`` names; the pooler, classifier and mask token are dropped."""
    for prefix in ('vit.', 'deit.'):  # ViTFor* / DeiTFor* heads around the encoder
        if any(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    out, qkv = {}, {}
    for key, value in state.items():
        if key.startswith(_HF_DROPPED) or key == 'embeddings.mask_token':
            continue
        if key in _HF_TOP:
            out[_HF_TOP[key]] = value
            continue
        match = _HF_LAYER.match(key)
        if match is None:
            out[key] = value  # reported as unexpected by the caller
            continue
        index, rest = match.groups()
        attention = _HF_QKV.match(rest)
        if attention:
            part = attention[1] or _QKV_NAMES[attention[2]]
            qkv.setdefault((index, attention[3]), {})[part] = value
            continue
        for old, new in _HF_BLOCK.items():
            if rest.startswith(old):
                out[f'blocks.{index}.{new}{rest[len(old):]}'] = value
                break
        else:
            out[key] = value  # reported as unexpected by the caller
    for (index, kind), parts in qkv.items():
        if set(parts) != {'query', 'key', 'value'}:
            raise ValueError(f'layer {index}: attention {kind} lacks '
                             f'{sorted({"query", "key", "value"} - set(parts))}')
        out[f'blocks.{index}.attn.qkv.{kind}'] = torch.cat(
            [parts['query'], parts['key'], parts['value']], dim=0)
    return out


# ----------------------------------------------------------------------------- timm
def _split_pos_embed(pos_embed: torch.Tensor, source: str
                     ) -> tuple[torch.Tensor | None, torch.Tensor, tuple[int, int]]:
    """timm's ``(1, [1 +] N, C)`` table -> the [CLS] position (or None), the 2D table and
    its square grid."""
    length = pos_embed.shape[1]
    for prefix in (1, 0):
        side = math.isqrt(length - prefix)
        if side * side == length - prefix:
            cls_pos = pos_embed[:, :1] if prefix else None
            return cls_pos, pos_embed[:, prefix:], (side, side)
    raise ValueError(f'{source}: pos_embed of {length} positions is not a square grid (with or '
                     'without a [CLS] position)')


def _patch_weight_for(tokenizer: nn.Module, weight: torch.Tensor) -> torch.Tensor:
    """timm's ``(C, 3, p, p)`` patch kernel for one tokenizer: its channels, its in-plane
    patch size, inflated over depth for a 3D tokenizer."""
    from timm.layers import resample_patch_embed
    from timm.models._manipulate import adapt_input_conv

    weight = adapt_input_conv(tokenizer.in_channels, weight.float())
    in_plane = tuple(tokenizer.patch_size[-2:])
    if tuple(weight.shape[-2:]) != in_plane:
        weight = resample_patch_embed(weight, list(in_plane))
    if tokenizer.spatial_dims == 3:
        depth = tokenizer.patch_size[0]
        weight = weight.unsqueeze(2).repeat(1, 1, depth, 1, 1) / depth
    return weight


def _pos_table_for(tokenizer: nn.Module, table: torch.Tensor,
                   old_grid: tuple[int, int]) -> torch.Tensor:
    """The 2D table on one tokenizer's grid: resampled in plane, repeated over depth in 3D
    (the tokens are flattened depth first)."""
    from timm.layers import resample_abs_pos_embed

    grid = tuple(tokenizer.grid_size)
    in_plane = grid[-2:]
    if in_plane != old_grid:
        table = resample_abs_pos_embed(table.float(), list(in_plane), list(old_grid),
                                       num_prefix_tokens=0)
    if tokenizer.spatial_dims == 3:
        table = table.unsqueeze(1).repeat(1, grid[0], 1, 1).reshape(1, -1, table.shape[-1])
    return table


def timm_to_unimedi(state: dict[str, torch.Tensor], encoder: nn.Module, source: str,
                    strict: bool = True) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Convert a timm ``VisionTransformer`` state dict for ``encoder`` (a ``UnifiedViT``).

    Args:
        state: timm's keys (``patch_embed.proj.weight``, ``pos_embed``, ``blocks.N...``).
        encoder: the target; its tokenizers decide channels, patch sizes and grids.
        source: the file, for messages.
        strict: a tokenizer whose projection is not a single convolution (a conv stem)
            is an error; ``False`` leaves its projection as initialised (its position table
            still loads).

    Returns:
        the state dict in ``UnifiedViT`` keys, and notes for the log.

    Raises:
        ValueError: weights ``UnifiedViT`` has no place for (named), or a conv-stem
            tokenizer under ``strict``.
    """
    unsupported = {}
    for key in state:
        for pattern, what in UNSUPPORTED.items():
            if re.search(pattern, key):
                unsupported.setdefault(what, []).append(key)
    if unsupported:
        listed = '; '.join(f'{what}: {keys[:4]}{" ..." if len(keys) > 4 else ""}'
                           for what, keys in unsupported.items())
        raise ValueError(f'{source}: UnifiedViT has no place for these weights ({listed}); '
                         'choose a plain ViT checkpoint (vit_*_patch16_*: DeiT, AugReg, MAE)')
    for required in ('patch_embed.proj.weight', 'pos_embed', 'cls_token'):
        if required not in state:
            raise ValueError(f'{source}: a timm ViT checkpoint needs {required!r}; found '
                             f'{sorted(state)[:8]}')
    notes = []
    out = {k: v for k, v in state.items()
           if not k.startswith(('patch_embed.', 'pos_embed', 'fc_norm.'))
           and not any(re.search(p, k) for p in DROPPED)}
    dropped = sorted(k for k in state if any(re.search(p, k) for p in DROPPED))
    if dropped:
        notes.append(f'dropped the classifier: {dropped}')
    if 'norm.weight' not in state and 'fc_norm.weight' in state:
        out['norm.weight'], out['norm.bias'] = state['fc_norm.weight'], state['fc_norm.bias']
        notes.append('fc_norm (global-pool checkpoint) loaded as norm')
    cls_pos, table, old_grid = _split_pos_embed(state['pos_embed'], source)
    if cls_pos is not None:
        out['cls_pos'] = cls_pos
    else:  # the class token was trained without a position: none is the same as zero
        out['cls_pos'] = torch.zeros_like(state['cls_token'])
        notes.append('pos_embed has no [CLS] position: cls_pos set to zero')
    weight, bias = state['patch_embed.proj.weight'], state.get('patch_embed.proj.bias')
    for modality, tokenizer in encoder.tokenizers.items():
        prefix = f'tokenizers.{modality}.'
        out[prefix + 'pos_embed'] = _pos_table_for(tokenizer, table, old_grid)
        if isinstance(tokenizer.proj, (nn.Conv2d, nn.Conv3d)):
            out[prefix + 'proj.weight'] = _patch_weight_for(tokenizer, weight)
            if bias is not None:
                out[prefix + 'proj.bias'] = bias
            notes.append(f'{modality} tokenizer: {tuple(weight.shape)} patch kernel -> '
                         f'{tuple(out[prefix + "proj.weight"].shape)}, position table '
                         f'{old_grid} -> {tuple(tokenizer.grid_size)}')
        elif strict:
            raise ValueError(
                f'{source}: the {modality} tokenizer ({type(tokenizer).__name__}) has no single '
                'patch convolution for the checkpoint\'s patch_embed.proj; use PatchEmbed2D / '
                'PatchEmbed3D tokenizers, or strict=False to keep its projection random')
        else:
            notes.append(f'{modality} tokenizer ({type(tokenizer).__name__}): projection kept '
                         'as initialised, position table loaded')
    return out, notes


def general_vit_to_unimedi(state: dict, fmt: str, encoder: nn.Module, source: str,
                           strict: bool = True) -> tuple[dict, list[str]]:
    """``timm_to_unimedi`` for a ``'timm'`` or ``'hf'`` state dict; for a Hugging Face
    folder, a note when its ``layer_norm_eps`` is not the encoder's."""
    notes = []
    if fmt == 'hf':
        state = hf_to_timm(state)
        eps = _hf_config(source).get('layer_norm_eps')
        own = getattr(getattr(encoder, 'norm', None), 'eps', None)
        if eps is not None and own is not None and not math.isclose(eps, own):
            notes.append(f'the checkpoint\'s layer_norm_eps is {eps:g}, the encoder\'s {own:g}: '
                         f'set UnifiedViT(norm_eps={eps:g}) for its exact outputs')
    state, more = timm_to_unimedi(state, encoder, source, strict=strict)
    return state, notes + more


def _hf_config(source: str) -> dict:
    """The ``config.json`` of a Hugging Face folder (``{}`` for a file)."""
    path = osp.join(source, 'config.json')
    if not osp.isfile(path):
        return {}
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def is_hf_folder(path: str) -> bool:
    """A folder holding a Hugging Face ``config.json``."""
    return osp.isdir(path) and osp.isfile(osp.join(path, 'config.json'))


def read_weights(path: str, fmt: str = 'auto') -> tuple[dict[str, torch.Tensor], str]:
    """Read a weights file or Hugging Face folder; return the state dict and its format.

    Raises:
        ValueError: an unknown ``fmt``, or a folder that is not a model folder.
    """
    if fmt not in FORMATS:
        raise ValueError(f'format must be one of {FORMATS}, got {fmt!r}')
    if is_model_folder(path):  # written by unimedi.apis.model_export
        return read_model_folder(path)[1], 'unimedi' if fmt == 'auto' else fmt
    if osp.isdir(path):
        if not is_hf_folder(path):
            raise ValueError(f'{path}: a folder must be a unimedi model folder or a Hugging Face '
                             f'model folder (with config.json); found '
                             f'{sorted(os.listdir(path))[:8]}')
        state = read_hf_folder(path)
    else:
        state = load_state_dict_file(path)
    for wrapper in ('model', 'module'):  # the original DeiT / MAE .pth: {'model': {...}, ...}
        if isinstance(state.get(wrapper), dict) and 'patch_embed.proj.weight' not in state:
            state = state[wrapper]
    return state, detect_format(state) if fmt == 'auto' else fmt
