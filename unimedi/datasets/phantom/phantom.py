"""``PhantomDataset``: chest phantoms generated on the fly (no files)."""
from __future__ import annotations

from mmengine.dataset import force_full_init

from unimedi.registry import DATASETS
from ..base_dataset import MedBaseDataset
from .findings import FINDING_CLASSES, multi_hot
from .generator import (SPLITS, PhantomConfig, assign_splits, ct_affine, generate_ct_case,
                        generate_xray_case)


@DATASETS.register_module()
class PhantomDataset(MedBaseDataset):
    """Phantom CTs and radiographs drawn when a sample is asked for.

    Sample ``i`` is the same case that ``tools/data/make_phantoms.py`` writes for the same
    seed, so on-the-fly and on-disk phantoms agree; raise ``num_3d``/``num_2d`` for
    practically endless data. The sample dict is what ``LoadMedicalImage`` and
    ``LoadMedicalMask`` produce from the files (``img`` in HU for CTs, in [0, 1] for
    radiographs, ``gt_seg``, ``spacing``, ``affine``, ``lesion_slices``...), plus the raw
    ``report`` and ``gt_label``: start the pipeline after the loaders.

    Args:
        num_3d: number of CT cases.
        num_2d: number of radiograph cases.
        seed: generator seed.
        split: keep one of ``'train'``, ``'val'``, ``'test'`` (``None``: all).
        phantom_cfg: :class:`PhantomConfig` fields.
    """

    METAINFO = dict(classes=FINDING_CLASSES)

    def __init__(self, num_3d: int = 100, num_2d: int = 100, seed: int = 0,
                 split: str | None = None, phantom_cfg: dict | None = None, **kwargs):
        if split not in (None, ) + SPLITS:
            raise ValueError(f'split must be one of {SPLITS} or None, got {split!r}')
        self.num_3d, self.num_2d, self.seed, self.split = num_3d, num_2d, seed, split
        self.phantom_cfg = PhantomConfig(**(phantom_cfg or {}))
        kwargs.setdefault('serialize_data', False)
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self) -> list[dict]:
        data_list = []
        for modality, count in (('3d', self.num_3d), ('2d', self.num_2d)):
            splits = assign_splits(count, self.seed, modality, self.phantom_cfg.split_fractions)
            prefix = 'ct' if modality == '3d' else 'xray'
            data_list += [dict(modality=modality, index=i, split=splits[i],
                               case_id=f'{prefix}_{i:05d}') for i in range(count)
                          if self.split is None or splits[i] == self.split]
        return data_list

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        config = self.phantom_cfg
        if info['modality'] == '3d':
            case = generate_ct_case(self.seed, info['index'], config)
            image, labels = case['hu'].astype('float32'), case['labels'].astype('int64')
            info.update(spacing=tuple(case['spacing']), img_unit='HU',
                        affine=ct_affine(image.shape, case['spacing']),
                        lesion_slices=case['lesion_slices'])
        else:
            case = generate_xray_case(self.seed, info['index'], config)
            image, labels = case['image'], case['labels'].astype('int64')
            info.update(spacing=(1.0, 1.0), img_unit='unit', affine=None)
        info.update(img=image[None], gt_seg=labels, img_shape=image.shape,
                    ori_shape=image.shape, report=case['report'],
                    gt_label=[float(v) for v in multi_hot(case['findings'])],
                    finding_details=[f.to_dict() for f in case['findings']],
                    img_path=f'phantom://{info["case_id"]}')
        return info
