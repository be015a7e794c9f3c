"""The base of unimedi's datasets: MMEngine's ``BaseDataset`` with unimedi transforms."""
from __future__ import annotations

from typing import Callable, Sequence

from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from unimedi.registry import TRANSFORMS
from .splits import stratified_fraction


class MedBaseDataset(BaseDataset):
    """``BaseDataset`` whose pipeline is built from unimedi's ``TRANSFORMS`` registry.

    MMEngine builds pipelines from its root registry, which finds unimedi transforms only
    under ``default_scope='unimedi'``; building them here makes a dataset usable on its own
    (scripts, notebooks) as well as from a runner config.

    Args:
        data_fraction: keep a stratified fraction of the samples (the label-efficiency
            protocol: 0.01 / 0.1 / 1.0). Samples are grouped by ``stratify_label`` when
            the data info has one (segmentation datasets: e.g. which classes the mask
            holds), else by ``gt_label`` (class index or the whole multi-hot vector), and
            drawn with ``fraction_seed`` by
            :func:`~unimedi.datasets.stratified_fraction`, so the same annotation file,
            fraction and seed always give the same subset. ``SaveSampleListsHook`` writes
            the samples a run used to its work dir.
        fraction_seed: the seed of that draw.
    """

    def __init__(self, *args, pipeline: Sequence[dict | Callable] = (),
                 data_fraction: float = 1.0, fraction_seed: int = 0, **kwargs):
        if not 0.0 < float(data_fraction) <= 1.0:
            raise ValueError(f'data_fraction must be in (0, 1], got {data_fraction}')
        self.data_fraction = float(data_fraction)
        self.fraction_seed = int(fraction_seed)
        pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(*args, pipeline=pipeline, **kwargs)

    @staticmethod
    def sample_id(info: dict, index: int) -> str:
        """A sample's id in the written sample lists: ``sample_id``, ``case_id`` or the path."""
        for key in ('sample_id', 'case_id', 'img_path'):
            if info.get(key) not in (None, ''):
                return str(info[key])
        return str(index)

    @property
    def sample_ids(self) -> list[str]:
        """The id of every sample the dataset serves (after the fraction, ``indices`` and
        subsets), from the stored annotations (no image is loaded or generated)."""
        return [self.sample_id(BaseDataset.get_data_info(self, i), i) for i in range(len(self))]

    def filter_data(self) -> list[dict]:
        """Keep the ``data_fraction`` subset (all samples at 1.0)."""
        return self._fraction(super().filter_data())

    def _fraction(self, data_list: list[dict]) -> list[dict]:
        if self.data_fraction >= 1.0:
            return data_list
        groups = [info.get('stratify_label', info.get('gt_label')) for info in data_list]
        missing = [i for i, group in enumerate(groups) if group is None]
        if missing:
            raise ValueError(f'{type(self).__name__}: data_fraction needs a stratify_label or '
                             f'gt_label on every sample to stratify; {len(missing)} samples '
                             f'have none (first: {data_list[missing[0]].get("img_path")})')
        keep = stratified_fraction(groups, self.data_fraction, self.fraction_seed)
        MMLogger.get_current_instance().info(
            f'{type(self).__name__}: data_fraction={self.data_fraction} keeps {len(keep)} of '
            f'{len(data_list)} samples (stratified, seed {self.fraction_seed})')
        return [data_list[i] for i in keep]
