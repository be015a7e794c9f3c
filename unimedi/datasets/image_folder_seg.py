"""``SegImageFolderDataset``: 2D images and label masks in two folders, matched by name."""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

import numpy as np

from unimedi.io.paths import resolve_path
from unimedi.io.readers import read_medical_image
from unimedi.io.split_lists import read_split_list
from unimedi.registry import DATASETS
from unimedi.utils.palette import seg_metainfo
from .base_dataset import MedBaseDataset
from .image_folder import list_class_files


def mask_has_foreground(path: str) -> int:
    """1 when the 2D mask file holds a non-zero label, else 0."""
    return int(bool(np.any(read_medical_image(path, modality='2d', as_mask=True).array)))


@DATASETS.register_module()
class SegImageFolderDataset(MedBaseDataset):
    """2D images (PNG/JPEG/DICOM...) with integer label masks, matched by relative path.

    Layout (mmseg's convention; sub-folders are mirrored)::

        data_root/
            images/case_001.png          masks/case_001.png
            images/sub/case_002.dcm      masks/sub/case_002.png
            splits/train.txt             (optional: one stem a line)

    The mask of ``<img_dir>/<stem><img_suffix>`` is ``<mask_dir>/<stem><mask_suffix>``:
    a grey PNG whose pixel values are the class indices (0 = ``classes[0]``, the
    background). 0/255 masks: add ``LoadMedicalMask(binary=True)``. The mask must have the
    image's size (``LoadMedicalMask`` checks it).

    Samples: the stems of ``split_file`` (:func:`~unimedi.io.split_lists.
    read_split_list`: ``<stem>`` or ``<stem>\\t<label>``), else every image under
    ``img_dir`` (searched recursively, sorted). An image without a mask (or a listed stem
    without an image) is an error naming the files.

    ``stratify_label`` (for ``data_fraction``): the split list's label when given; else,
    only when ``data_fraction < 1``, whether the mask holds foreground (every mask is read
    once); else 0. ``sample_id`` is the stem.

    Args:
        data_root: the dataset folder.
        img_dir: image folder, relative to ``data_root`` unless absolute.
        mask_dir: mask folder, relative to ``data_root`` unless absolute.
        img_suffix: image file ending (e.g. ``'.png'``, ``'.dcm'``), case-sensitive.
        mask_suffix: mask file ending.
        split_file: a split list, relative to ``data_root`` unless absolute; ``None``: all.
        classes: class names in label order, background first.
        palette: one RGB colour per class (default: :func:`make_palette`).
        **kwargs: :class:`MedBaseDataset` arguments (``pipeline``, ``data_fraction``...).
    """

    def __init__(self, data_root: str, img_dir: str = 'images', mask_dir: str = 'masks',
                 img_suffix: str = '.png', mask_suffix: str = '.png',
                 split_file: str | None = None,
                 classes: Sequence[str] = ('background', 'foreground'),
                 palette: Sequence | None = None, **kwargs):
        self.img_dir = img_dir
        self.mask_dir = mask_dir
        self.img_suffix = img_suffix
        self.mask_suffix = mask_suffix
        self.split_file = split_file
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        metainfo = dict(seg_metainfo(metainfo.get('classes', classes),
                                     metainfo.get('palette', palette)), **metainfo)
        super().__init__(data_root=data_root, metainfo=metainfo, **kwargs)

    def _folder(self, path: str, what: str) -> str:
        folder = resolve_path(self.data_root, path)
        if not osp.isdir(folder):
            raise FileNotFoundError(f'{folder}: {what} folder not found')
        return folder

    def _entries(self, img_root: str) -> list[tuple[str, int | None]]:
        if self.split_file is not None:
            split_path = resolve_path(self.data_root, self.split_file)
            entries = read_split_list(split_path)
            missing = [stem for stem, _ in entries
                       if not osp.isfile(osp.join(img_root, stem + self.img_suffix))]
            if missing:
                raise FileNotFoundError(
                    f'{split_path}: {len(missing)} listed images are not in {img_root}, e.g. '
                    f'{osp.join(img_root, missing[0] + self.img_suffix)}')
            return entries
        files = [path for path in list_class_files(img_root, (self.img_suffix, ))
                 if path.endswith(self.img_suffix)]
        if not files:
            raise ValueError(f'{img_root}: holds no image ending with {self.img_suffix!r}')
        return [(path[:-len(self.img_suffix)].replace(os.sep, '/'), None) for path in files]

    def load_data_list(self) -> list[dict]:
        img_root = self._folder(self.img_dir, 'image')
        mask_root = self._folder(self.mask_dir, 'mask')
        data_list, without_mask = [], []
        for stem, label in self._entries(img_root):
            img_path = osp.join(img_root, stem + self.img_suffix)
            mask_path = osp.join(mask_root, stem + self.mask_suffix)
            if not osp.isfile(mask_path):
                without_mask.append((img_path, mask_path))
                continue
            data_list.append(dict(img_path=img_path, seg_map_path=mask_path, modality='2d',
                                  sample_id=stem, stratify_label=label))
        if without_mask:
            image, mask = without_mask[0]
            raise FileNotFoundError(f'{mask_root}: {len(without_mask)} images have no mask, e.g. '
                                    f'{image} (expected {mask})')
        for info in data_list:
            if info['stratify_label'] is None:
                info['stratify_label'] = (mask_has_foreground(info['seg_map_path'])
                                          if self.data_fraction < 1.0 else 0)
        return data_list
