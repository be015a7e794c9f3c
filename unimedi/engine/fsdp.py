"""Fully sharded data parallel (FSDP) parts: which modules become their own FSDP unit, and
gradient clipping by the norm of gradients that are split across the ranks.

Used by ``configs/unimedi/vit_l_pretrain_fsdp.py`` through MMEngine's ``FlexibleRunner`` and
``FSDPStrategy``: ``auto_wrap_policy=dict(type='unimedi.transformer_layer_wrap_policy')``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.distributed as dist
from torch import nn

from unimedi.registry import FUNCTIONS
from unimedi.utils.distributed import world_size


def _unit_classes() -> tuple[type, ...]:
    from unimedi.models.encoders.unified_vit import Block
    from unimedi.models.heads.dino_head import DINOHead
    classes = [Block, DINOHead]
    try:  # every Hugging Face transformer layer (BertLayer, ...) derives from it
        from transformers.modeling_layers import GradientCheckpointingLayer
        classes.append(GradientCheckpointingLayer)
    except ImportError:  # older transformers: the BERT layer by name
        from transformers.models.bert.modeling_bert import BertLayer
        classes.append(BertLayer)
    return tuple(classes)


@FUNCTIONS.register_module()
def transformer_layer_wrap_policy(module: nn.Module, recurse: bool,
                                  nonwrapped_numel: int = 0) -> bool:
    """FSDP ``auto_wrap_policy``: one unit per transformer block of the shared ViT (student
    and teacher), per text-encoder layer and per DINO head; everything else (tokenizers,
    [CLS], norms, projections) stays in the root unit, whose parameters are gathered for the
    whole forward pass, so methods called outside a unit's ``forward`` (``embed_extra``,
    the tokenizers' position tables) see full parameters.

    Args:
        module: the candidate module.
        recurse: ``True`` when FSDP asks whether to descend into the module's children.
        nonwrapped_numel: the parameters not yet wrapped below it (unused).
    """
    return True if recurse else isinstance(module, _unit_classes())


def clip_sharded_grad_norm_(parameters: Iterable[torch.Tensor], max_norm: float,
                            norm_type: float = 2.0) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` for gradients split across the ranks.

    Under FSDP each rank's ``.grad`` holds only its shard of each parameter (or ``None``),
    so the plain function would clip every rank by the norm of its own shard, each by a
    different factor. Here the norm is that of the whole gradient: the local sums of
    ``|g| ** p`` (or the local maxima, for ``inf``) are reduced over the default process
    group, then every shard is scaled by the same ``min(1, max_norm / norm)``. Without a
    process group it equals ``clip_grad_norm_``. Every rank must call it, with or without
    gradients of its own.

    Returns:
        The 0-d total norm (fp32), the same on every rank.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    distributed = world_size() > 1
    if grads:
        device = grads[0].device
    elif distributed and dist.get_backend() == 'nccl':
        device = torch.device('cuda', torch.cuda.current_device())
    else:
        device = torch.device('cpu')
    local = [g.detach().float().norm(norm_type).to(device) for g in grads]
    if math.isinf(norm_type):
        total = torch.stack(local).max() if local else torch.zeros((), device=device)
        if distributed:
            dist.all_reduce(total, op=dist.ReduceOp.MAX)
    else:
        total = torch.stack(local).pow(norm_type).sum() if local else \
            torch.zeros((), device=device)
        if distributed:
            dist.all_reduce(total)
        total = total.pow(1.0 / norm_type)
    scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for grad in grads:
        grad.detach().mul_(scale.to(grad.device, grad.dtype))
    return total
