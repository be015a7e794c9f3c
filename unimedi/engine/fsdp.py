"""Fully sharded data parallel (FSDP) parts: which modules become their own FSDP unit.

Used by ``configs/unimedi/vit_l_pretrain_fsdp.py`` through MMEngine's ``FlexibleRunner`` and
``FSDPStrategy``: ``auto_wrap_policy=dict(type='unimedi.transformer_layer_wrap_policy')``.
"""
from __future__ import annotations

from torch import nn

from unimedi.registry import FUNCTIONS


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
