"""Wrappers: a different sub-pipeline for 2D and 3D samples of one dataset; several random
views (crops) of one loaded sample."""
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


@TRANSFORMS.register_module()
class MultiSample(BaseTransform):
    """Run the random tail of a pipeline ``num_samples`` times on one loaded sample.

    Loading, resampling and windowing a CT cost seconds; a random crop of the result costs
    milliseconds. Put the expensive deterministic steps before this wrapper (ideally in
    :class:`CachedTransforms`) and the random ones (crops, flips) and the packing inside:
    each loaded volume then gives ``num_samples`` training samples (MONAI's
    ``RandCropByPosNegLabeld(num_samples=...)``). It returns a list, so it must be the last
    transform, and the loader's ``collate_fn`` must be
    ``dict(type='unimedi.flat_pseudo_collate')`` (MMEngine's runner looks collate functions
    up by their scoped name), which flattens the lists: a batch of ``B`` volumes holds
    ``B * num_samples`` crops.

    Args:
        transforms: the sub-pipeline, ending with the packing transform.
        num_samples: views per loaded sample (1 returns a list of one).

    Example:
        >>> dict(type='MultiSample', num_samples=4, transforms=[
        ...     dict(type='RandomCropByLabel', size=(96, 96, 96), pos=1, neg=1),
        ...     dict(type='MedRandomFlip', prob=0.1, axes=(0, 1, 2)),
        ...     dict(type='PackMedInputs')])
    """

    def __init__(self, transforms: list, num_samples: int = 1):
        if int(num_samples) < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        self.num_samples = int(num_samples)
        self.pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                                 for t in transforms])

    def transform(self, results: dict) -> list | None:
        views = []
        for index in range(self.num_samples):
            view = self.pipeline(dict(results, view_index=index))
            if view is None:
                return None
            views.append(view)
        return views

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_samples={self.num_samples}, '
                f'transforms={self.pipeline})')
