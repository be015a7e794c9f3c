"""The base of unimedi's datasets: MMEngine's ``BaseDataset`` with unimedi transforms."""
from __future__ import annotations

from typing import Callable, Sequence

from mmengine.dataset import BaseDataset

from unimedi.registry import TRANSFORMS


class MedBaseDataset(BaseDataset):
    """``BaseDataset`` whose pipeline is built from unimedi's ``TRANSFORMS`` registry.

    MMEngine builds pipelines from its root registry, which finds unimedi transforms only
    under ``default_scope='unimedi'``; building them here makes a dataset usable on its own
    (scripts, notebooks) as well as from a runner config.
    """

    def __init__(self, *args, pipeline: Sequence[dict | Callable] = (), **kwargs):
        pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(*args, pipeline=pipeline, **kwargs)
