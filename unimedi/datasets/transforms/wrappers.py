"""Wrappers: apply a different sub-pipeline to 2D and 3D samples of one dataset."""
from __future__ import annotations

from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose

from unimedi.registry import TRANSFORMS
from unimedi.structures import MODALITIES, check_modality


@TRANSFORMS.register_module()
class PerModality(BaseTransform):
    """Route each sample through the sub-pipeline of its modality.

    A mixed 2D + 3D dataset needs, e.g., HU windowing and depth cropping for CTs and
    only resizing for radiographs; the rest of the pipeline stays shared.

    Required keys: ``modality``.

    Args:
        pipelines: ``{'2d': [...], '3d': [...]}``; a missing modality passes unchanged.

    Example:
        >>> dict(type='PerModality', pipelines={
        ...     '2d': [dict(type='MedResize', size=(224, 224))],
        ...     '3d': [dict(type='HUWindow', windows='lung'),
        ...            dict(type='MedResize', size=(32, 128, 128))]})
    """

    def __init__(self, pipelines: dict):
        unknown = set(pipelines) - set(MODALITIES)
        if unknown:
            raise ValueError(f"pipelines keys must be '2d' and/or '3d', got {sorted(unknown)}")
        self.pipelines = {
            modality: Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                               for t in transforms])
            for modality, transforms in pipelines.items()
        }

    def transform(self, results: dict) -> dict | None:
        modality = check_modality(results.get('modality'),
                                  where=f'{results.get("img_path")}: PerModality', error=KeyError)
        pipeline = self.pipelines.get(modality)
        return pipeline(results) if pipeline is not None else results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(pipelines={self.pipelines})'
