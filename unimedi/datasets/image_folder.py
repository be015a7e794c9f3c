"""``ImageFolderDataset``: one folder per class (e.g. the Kermany pediatric pneumonia set)."""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

from unimedi.registry import DATASETS
from unimedi.structures import check_modality
from .base_dataset import MedBaseDataset
from .splits import stratified_fraction

DEFAULT_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.dcm', '.nii', '.nii.gz')
SPLITS = (None, 'train', 'val')


def list_class_files(folder: str, extensions: Sequence[str]) -> list[str]:
    """Image files under ``folder`` (searched recursively), relative to it, sorted.

    A file counts when its lower-case name ends with one of ``extensions``; hidden files
    and folders (``.``) are ignored.
    """
    suffixes = tuple(ext.lower() for ext in extensions)
    found = []
    for current, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith('.')]
        for name in files:
            if not name.startswith('.') and name.lower().endswith(suffixes):
                found.append(osp.relpath(osp.join(current, name), folder))
    return sorted(found)


@DATASETS.register_module()
class ImageFolderDataset(MedBaseDataset):
    """Images sorted into one folder per class; multi-class.

    Layout::

        data_root/
            NORMAL/IM-0115-0001.jpeg
            PNEUMONIA/person1_bacteria_1.jpeg
            ...

    Files are searched recursively in each class folder; only names ending with one of
    ``extensions`` count (other files are ignored). DICOM series folders are not supported
    here (use NIfTI files for volumes).

    Labels: ``gt_label`` is the index of the file's class folder in ``metainfo['classes']``.
    ``sample_id`` is the path relative to ``data_root`` (``'NORMAL/IM-0115-0001.jpeg'``).

    Splits: with ``split='train'``/``'val'``, the files (all classes, sorted by relative
    path) are split by :func:`~unimedi.datasets.stratified_fraction` (labels,
    ``val_fraction``, ``split_seed``): the drawn files are ``val``, the others ``train``.
    The same folder, fraction and seed always give the same, disjoint and stratified split.

    Args:
        data_root: the folder holding one sub-folder per class.
        classes: class names = sub-folder names, in label order. ``None`` takes every
            sub-folder (sorted by name), or ``metainfo['classes']`` when given; a class
            without a folder (or without images) is an error.
        split: ``None`` (all files), ``'train'`` or ``'val'``.
        val_fraction: the fraction of files in ``val``, in (0, 1).
        split_seed: the seed of the train/val draw (independent of ``fraction_seed``).
        modality: ``'2d'`` or ``'3d'`` for every file.
        extensions: file name endings to keep (case-insensitive).
        **kwargs: :class:`MedBaseDataset` arguments (``pipeline``, ``data_fraction``,
            ``fraction_seed``, ``test_mode``...).
    """

    def __init__(self, data_root: str, classes: Sequence[str] | None = None,
                 split: str | None = None, val_fraction: float = 0.2, split_seed: int = 0,
                 modality: str = '2d', extensions: Sequence[str] = DEFAULT_EXTENSIONS,
                 **kwargs):
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        if not 0.0 < float(val_fraction) < 1.0:
            raise ValueError(f'val_fraction must be in (0, 1), got {val_fraction}')
        check_modality(modality)
        if isinstance(extensions, str):
            extensions = (extensions, )
        self.split = split
        self.val_fraction = float(val_fraction)
        self.split_seed = int(split_seed)
        self.modality = modality
        self.extensions = tuple(extensions)
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if classes is not None:
            metainfo['classes'] = tuple(classes)
        super().__init__(data_root=data_root, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list[dict]:
        root = self.data_root
        if not root or not osp.isdir(root):
            raise FileNotFoundError(f'{root}: image folder (data_root) not found')
        folders = sorted(name for name in os.listdir(root)
                         if osp.isdir(osp.join(root, name)) and not name.startswith('.'))
        classes = tuple(self._metainfo.get('classes') or folders)
        if not classes:
            raise ValueError(f'{root}: holds no class folders')
        missing = [name for name in classes if name not in folders]
        if missing:
            raise ValueError(f'{root}: no folder for classes {missing}; folders are {folders}')
        self._metainfo['classes'] = classes
        samples = []
        for label, name in enumerate(classes):
            files = list_class_files(osp.join(root, name), self.extensions)
            if not files:
                raise ValueError(f'{osp.join(root, name)}: class folder holds no image with '
                                 f'extensions {self.extensions}')
            samples.extend((osp.join(name, path).replace(os.sep, '/'), label) for path in files)
        samples.sort()
        if self.split is not None:
            drawn = set(stratified_fraction([label for _, label in samples], self.val_fraction,
                                            self.split_seed))
            in_val = self.split == 'val'
            samples = [s for i, s in enumerate(samples) if (i in drawn) == in_val]
            if not samples:
                raise ValueError(f'{root}: split {self.split!r} is empty (val_fraction='
                                 f'{self.val_fraction}); the folder has too few images')
        return [dict(img_path=osp.join(root, path), modality=self.modality, gt_label=label,
                     sample_id=path) for path, label in samples]
