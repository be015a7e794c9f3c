"""Layer-wise learning-rate decay for fine-tuning a ViT (BEiT / MAE recipe)."""
from __future__ import annotations

import re

from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from unimedi.registry import OPTIM_WRAPPER_CONSTRUCTORS
from .no_weight_decay_constructor import no_weight_decay_names

#: encoder parameters that belong to the embedding layer (layer 0)
_EMBEDDING = re.compile(
    r'^(tokenizers\.|cls_token|cls_pos|mask_token|extra_embed|register_tokens)')
_BLOCK = re.compile(r'^blocks\.(\d+)\.')


def vit_layer_id(name: str, depth: int) -> int:
    """Layer of an encoder parameter: 0 embeddings, ``i + 1`` block ``i``, ``depth + 1`` the
    final norm (and everything after the encoder)."""
    if _EMBEDDING.match(name):
        return 0
    match = _BLOCK.match(name)
    return int(match.group(1)) + 1 if match else depth + 1


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Scale the learning rate of encoder layer ``l`` by ``rate ** (depth + 1 - l)``.

    The head (everything outside the encoder) learns at the base rate, the last block at
    ``rate`` times it, ..., the patch embeddings at ``rate ** (depth + 1)``. Biases, norms
    (1-D parameters) and the modules' ``no_weight_decay()`` names (:func:`no_weight_decay_names`)
    get no weight decay.
    Frozen parameters are left out.

    ``paramwise_cfg``:
        - ``layer_decay_rate`` (float): ``rate`` above; 1.0 turns the decay off.
        - ``encoder`` (str): dotted path of the ViT inside the model (default
          ``'backbone'``; ``'backbone.encoder'`` for the 2D segmentation backbone); it must
          have ``depth``.
    """

    def add_params(self, params: list, module: nn.Module, prefix: str = '', **kwargs) -> None:
        cfg = dict(self.paramwise_cfg)
        rate = float(cfg.get('layer_decay_rate', 1.0))
        encoder_name = cfg.get('encoder', 'backbone')
        try:
            encoder = module.get_submodule(encoder_name)
        except AttributeError:
            encoder = None
        if encoder is None or not hasattr(encoder, 'depth'):
            raise ValueError(f'LayerDecayOptimWrapperConstructor: the model has no ViT '
                             f'encoder at .{encoder_name} (with a depth attribute)')
        depth = encoder.depth
        no_decay = set(no_weight_decay_names(module))
        base_lr = self.base_lr
        base_wd = self.base_wd or 0.0
        groups: dict[tuple, dict] = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            inside = name.startswith(encoder_name + '.')
            local = name[len(encoder_name) + 1:] if inside else name
            layer = vit_layer_id(local, depth) if inside else depth + 1
            decay = not (param.ndim == 1 or name in no_decay)
            key = (layer, decay)
            if key not in groups:
                groups[key] = dict(params=[], lr=base_lr * rate**(depth + 1 - layer),
                                   weight_decay=base_wd if decay else 0.0,
                                   layer_id=layer)
            groups[key]['params'].append(param)
        params.extend(groups[key] for key in sorted(groups))
        MMLogger.get_current_instance().info(
            f'layer-wise lr decay {rate}: {len(groups)} parameter groups, lr from '
            f'{min(g["lr"] for g in groups.values()):.3g} to '
            f'{max(g["lr"] for g in groups.values()):.3g}')
