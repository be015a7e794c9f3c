"""Collate functions (``FUNCTIONS``; a loader's ``collate_fn=dict(type=...)``)."""
from __future__ import annotations

from typing import Sequence

from mmengine.dataset import pseudo_collate

from unimedi.registry import FUNCTIONS


@FUNCTIONS.register_module()
def flat_pseudo_collate(batch: Sequence) -> dict:
    """MMEngine's ``pseudo_collate`` after flattening the lists that ``MultiSample`` returns:
    ``B`` items of ``k`` views each make a batch of ``B * k`` samples (views of one item
    stay next to each other)."""
    flat = []
    for item in batch:
        flat.extend(item if isinstance(item, (list, tuple)) else [item])
    return pseudo_collate(flat)
