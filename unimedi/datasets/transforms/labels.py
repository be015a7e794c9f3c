"""Label transforms: map the label ids of a mask to the classes of a task."""
from __future__ import annotations

from typing import Mapping

import numpy as np
from mmcv.transforms import BaseTransform

from unimedi.registry import TRANSFORMS


def _lookup_table(mapping: Mapping) -> dict[int, int]:
    """``{src_id: dst_id}`` from either form of :class:`RemapLabels`' mapping."""
    table: dict[int, int] = {}
    for position, (key, value) in enumerate(mapping.items(), start=1):
        if isinstance(key, str) or isinstance(value, (list, tuple)):
            # {dst_name: [src_ids]} (dst id = position) or {dst_id: [src_ids]}
            dst = position if isinstance(key, str) else int(key)
            sources = value if isinstance(value, (list, tuple)) else [value]
        else:
            dst, sources = int(value), [key]
        for src in sources:
            src = int(src)
            if src in table and table[src] != dst:
                raise ValueError(f'RemapLabels: source label {src} is mapped to both '
                                 f'{table[src]} and {dst}')
            table[src] = dst
    if any(v < 0 for v in table.values()) or any(k < 0 for k in table):
        raise ValueError(f'RemapLabels: label ids must be >= 0, got {mapping}')
    return table


@TRANSFORMS.register_module()
class RemapLabels(BaseTransform):
    """Map the ids of ``gt_seg`` to new ids; unmapped ids become 0 (background).

    Two forms of ``mapping``:
        - ``{src_id: dst_id}``, e.g. ``{5: 1, 1: 2}``;
        - ``{dst_name: [src_ids]}``: the classes in order, ids 1, 2, ... (the class names
          of the dataset are then ``('background', *mapping)``), e.g. TotalSegmentator ->
          organs: ``dict(liver=[5], spleen=[1], lung=[10, 11, 12, 13, 14])``.
          ``{dst_id: [src_ids]}`` is accepted too.

    With ``mapping=None`` the sample's ``label_map`` (``{src_id: dst_id}``, set by a
    dataset, e.g. ``PhantomSeg3DDataset(binary=True)``) is used; a sample without one
    is an error.

    Required keys: ``gt_seg``. Modified keys: ``gt_seg`` (int64).

    Args:
        mapping: see above.
    """

    def __init__(self, mapping: Mapping | None = None):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise TypeError(f'RemapLabels: mapping must be a dict, got {type(mapping)}')
        if mapping is not None and not mapping:
            raise ValueError('RemapLabels: mapping is empty (every label would become 0)')
        self.mapping = mapping
        self.table = _lookup_table(mapping) if mapping is not None else None

    def transform(self, results: dict) -> dict:
        table = self.table
        if table is None:
            if results.get('label_map') is None:
                raise KeyError(f'{results.get("img_path")}: RemapLabels without a mapping needs '
                               'the sample\'s "label_map" (set by the dataset)')
            table = {int(k): int(v) for k, v in results['label_map'].items()}
        if results.get('gt_seg') is None:
            raise KeyError(f'{results.get("img_path")}: RemapLabels needs "gt_seg" (put it after '
                           'LoadMedicalMask)')
        labels = np.asarray(results['gt_seg'])
        if labels.size and labels.min() < 0:
            raise ValueError(f'{results.get("seg_map_path")}: negative labels in the mask')
        lookup = np.zeros(max(int(labels.max(initial=0)), max(table, default=0)) + 1, np.int64)
        for src, dst in table.items():
            lookup[src] = dst
        results['gt_seg'] = lookup[labels]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(mapping={self.mapping})'
