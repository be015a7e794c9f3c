"""``ModalityRatioBatchSampler``: batches with a fixed number of 2D and 3D samples."""
from __future__ import annotations

from typing import Iterator

from mmengine.dataset import BaseDataset
from torch.utils.data import BatchSampler, Sampler

from unimedi.registry import DATA_SAMPLERS
from unimedi.structures import check_modality


def modality_of(dataset, index: int) -> str:
    """A sample's modality from its stored annotation (no image is loaded or generated)."""
    info = BaseDataset.get_data_info(dataset, index) if isinstance(dataset, BaseDataset) \
        else dataset.get_data_info(index)
    return check_modality(info.get('modality'),
                          where=f'sample {index} ({info.get("img_path", "?")})')


@DATA_SAMPLERS.register_module()
class ModalityRatioBatchSampler(BatchSampler):
    """Every batch holds ``batch_size - num_3d`` radiographs and ``num_3d`` CTs.

    Indices come from ``sampler`` (e.g. the runner's ``InfiniteSampler``, which shuffles and
    shards them across processes) and are routed to one bucket per modality; a batch is
    emitted when both buckets are full. A sample arriving at a full bucket is passed over
    (it comes again in a later pass of the sampler), so the rarer modality is drawn more
    often when the batch asks for more of it than the data holds.

    Why: in a mixed batch InfoNCE gets an easy signal from the modality alone (2D and 3D
    reports are worded differently); a fixed ratio keeps the number of same-modality
    negatives, and the share of each modality in the gradient, constant.

    In a config (MMEngine passes ``sampler`` and the loader's ``batch_size``)::

        train_dataloader = dict(batch_size=32, sampler=dict(type='InfiniteSampler'),
                                batch_sampler=dict(type='ModalityRatioBatchSampler',
                                                   num_3d=8))

    Args:
        sampler: the index sampler.
        batch_size: samples per batch.
        num_3d: CTs per batch (``0 <= num_3d <= batch_size``); alternatively
            ``fraction_3d``.
        fraction_3d: the CT share of a batch, rounded to a count.
        drop_last: unused (always full batches); kept for the ``BatchSampler`` signature.
    """

    def __init__(self, sampler: Sampler, batch_size: int, num_3d: int | None = None,
                 fraction_3d: float | None = None, drop_last: bool = True):
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if (num_3d is None) == (fraction_3d is None):
            raise ValueError('give exactly one of num_3d and fraction_3d')
        if num_3d is None:
            if not 0.0 <= fraction_3d <= 1.0:
                raise ValueError(f'fraction_3d must be in [0, 1], got {fraction_3d}')
            num_3d = int(round(fraction_3d * batch_size))
        if not 0 <= num_3d <= batch_size:
            raise ValueError(f'num_3d must be in [0, {batch_size}], got {num_3d}')
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = True
        self.need = {'2d': batch_size - num_3d, '3d': num_3d}
        dataset = getattr(sampler, 'dataset', None)
        if dataset is None:
            raise ValueError('ModalityRatioBatchSampler needs a sampler with a .dataset')
        self.modalities = [modality_of(dataset, i) for i in range(len(dataset))]
        for modality, count in self.need.items():
            if count and modality not in self.modalities:
                raise ValueError(f'the batch asks for {count} {modality} samples but the '
                                 f'dataset has none')

    def __iter__(self) -> Iterator[list[int]]:
        buckets = {'2d': [], '3d': []}
        for index in self.sampler:
            modality = self.modalities[index]
            if len(buckets[modality]) < self.need[modality]:
                buckets[modality].append(index)
            if all(len(buckets[m]) == self.need[m] for m in buckets):
                yield buckets['2d'] + buckets['3d']
                buckets = {'2d': [], '3d': []}

    def __len__(self) -> int:
        return max(1, len(self.sampler) // self.batch_size)
