"""3D segmentation datasets of NIfTI images and label masks: a MONAI datalist (BCV) or
a pair of ``images/`` + ``labels/`` folders."""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Sequence

from monai.data import load_decathlon_datalist

from unimedi.io.paths import require_annotation, resolve_path
from unimedi.io.writers import strip_image_suffix
from unimedi.registry import DATASETS
from .base_dataset import MedBaseDataset
from .splits import split_by_patient

#: BCV (Multi-Atlas Labeling Beyond the Cranial Vault): background + 13 abdominal organs
#: in label order (UNETR / Swin-UNETR).
BCV_CLASSES = ('background', 'spleen', 'right_kidney', 'left_kidney', 'gallbladder',
               'esophagus', 'liver', 'stomach', 'aorta', 'inferior_vena_cava',
               'portal_and_splenic_vein', 'pancreas', 'right_adrenal_gland',
               'left_adrenal_gland')
NIFTI_EXTENSIONS = ('.nii.gz', '.nii')
FOLDER_SPLITS = ('train', 'val', 'test')


def _seg_info(img_path: str, seg_path: str | None, sample_id: str) -> dict:
    """One sample's data info (no mask is read: ``stratify_label`` is a constant, so a
    label fraction is a plain seeded draw)."""
    info = dict(img_path=img_path, modality='3d', stratify_label=0, sample_id=sample_id)
    if seg_path is not None:
        info['seg_map_path'] = seg_path
    return info


@DATASETS.register_module()
class NiftiSegDataset(MedBaseDataset):
    """Volumes and label masks listed in a MONAI datalist JSON, or inline in the config.

    The datalist is the format of BCV's ``dataset_0.json`` (UNETR, Swin-UNETR)::

        {"training": [{"image": "imagesTr/img0001.nii.gz",
                       "label": "labelsTr/label0001.nii.gz"}, ...],
         "validation": [...], "test": [{"image": ...}, ...]}

    It is read by MONAI's ``load_decathlon_datalist``, so a ``"test"`` list may also be plain
    image paths, as in the Medical Segmentation Decathlon's ``dataset.json``. ``split`` picks
    the list; paths are relative to ``data_root`` unless absolute. Cases without
    ``"label"`` (e.g. a test list) have no ``seg_map_path``. Instead of a file, a config can
    give the cases inline: ``data_list=[dict(image=..., label=...)]``.

    Classes: ``metainfo['classes']``, background first (BCV: :data:`BCV_CLASSES`).
    ``sample_id`` is the image path as listed (normalised, e.g. ``a/./b`` -> ``a/b``, in a
    file).

    Args:
        ann_file: the datalist JSON (relative to ``data_root`` unless absolute).
        split: the key of the list to read (``'training'``, ``'validation'``, ``'test'``...).
        data_list: inline cases instead of ``ann_file``.
        check_files: raise (naming the case) when an image or label file is missing.
        **kwargs: :class:`MedBaseDataset` arguments (``data_root``, ``metainfo``,
            ``pipeline``, ``data_fraction``...).
    """

    def __init__(self, ann_file: str = '', split: str = 'training',
                 data_list: Sequence[dict] | None = None, check_files: bool = True, **kwargs):
        if bool(ann_file) == (data_list is not None):
            raise ValueError('NiftiSegDataset needs either ann_file (a datalist JSON) or an '
                             'inline data_list, not both')
        self.split = split
        self.inline_cases = None if data_list is None else [dict(c) for c in data_list]
        self.check_files = check_files
        super().__init__(ann_file=ann_file, **kwargs)

    def _cases(self) -> tuple[list, str]:
        if self.inline_cases is not None:
            return self.inline_cases, 'data_list'
        require_annotation(self.ann_file)
        where = f'{self.ann_file}[{self.split!r}]'
        try:  # base_dir '': keep the listed paths (the sample ids); data_root joins them later
            cases = load_decathlon_datalist(self.ann_file, is_segmentation=True,
                                            data_list_key=self.split, base_dir='')
        except json.JSONDecodeError as exc:
            raise ValueError(f'{self.ann_file}: invalid JSON ({exc.msg})') from exc
        except ValueError as exc:  # the file exists, so MONAI found no such key
            raise ValueError(f'{self.ann_file}: no list {self.split!r} (split); the file has '
                             f'{self._top_level()}') from exc
        except (TypeError, IndexError, KeyError) as exc:  # not a list of dicts; empty "test"
            raise ValueError(f'{where}: expected a non-empty list of {{"image", "label"}} '
                             f'cases ({exc})') from exc
        return cases, where

    def _top_level(self) -> list | str:
        """The keys of the datalist file, or its JSON type when it is no object."""
        with open(self.ann_file, encoding='utf-8') as f:
            datalist = json.load(f)
        return sorted(datalist) if isinstance(datalist, dict) else type(datalist).__name__

    def load_data_list(self) -> list[dict]:
        cases, where = self._cases()
        if not isinstance(cases, list) or not cases:
            raise ValueError(f'{where}: expected a non-empty list of {{"image", "label"}} cases')
        data_list = []
        for number, case in enumerate(cases):
            here = f'{where}[{number}]'
            image = case.get('image') if isinstance(case, dict) else None
            # MONAI's path normalisation turns an empty path into '.'
            if not isinstance(image, str) or image in ('', os.curdir):
                raise ValueError(f'{here}: each case needs one "image" path, got {case!r}')
            label = case.get('label')
            label = None if label in ('', os.curdir) else label
            if label is not None and not isinstance(label, str):
                raise ValueError(f'{here}: "label" must be one path, got {label!r}')
            img_path = resolve_path(self.data_root, image)
            seg_path = resolve_path(self.data_root, label) if label else None
            if self.check_files:
                for path in (img_path, seg_path):
                    if path is not None and not osp.exists(path):
                        raise FileNotFoundError(f'{here}: file not found: {path}')
            data_list.append(_seg_info(img_path, seg_path, image))
        return data_list


@DATASETS.register_module()
class NiftiSegFolderDataset(MedBaseDataset):
    """NIfTI volumes in one folder and their label masks, same file names, in another.

    Layout::

        data_root/
            images/case_001.nii.gz   labels/case_001.nii.gz
            images/case_002.nii.gz   labels/case_002.nii.gz

    Every image needs a label of the same name and every label an image; otherwise the
    error lists the unmatched names.

    Splits: ``split_file`` (JSON ``{"train": [case, ...], "val": [...], "test": [...]}``,
    case = file name without ``.nii.gz``) when given, else a fixed seeded split of the
    sorted cases by ``split_fractions`` (:func:`split_by_patient`, each case its own
    patient): the same folder, fractions and seed always give the same, disjoint splits.

    Args:
        data_root: the folder holding ``img_dir`` and ``seg_dir``.
        img_dir: the images' sub-folder.
        seg_dir: the labels' sub-folder.
        split: ``None`` (all cases), ``'train'``, ``'val'`` or ``'test'``.
        split_fractions: ``{'train': .., 'val': .., 'test': ..}``, summing to 1.
        split_seed: the seed of the split.
        split_file: a JSON split (relative to ``data_root`` unless absolute).
        **kwargs: :class:`MedBaseDataset` arguments (``metainfo`` with ``classes``,
            background first; ``pipeline``; ``data_fraction``...).
    """

    def __init__(self, data_root: str, img_dir: str = 'images', seg_dir: str = 'labels',
                 split: str | None = None, split_fractions: dict | None = None,
                 split_seed: int = 0, split_file: str | None = None, **kwargs):
        if split not in (None, ) + FOLDER_SPLITS:
            raise ValueError(f'split must be one of {FOLDER_SPLITS} or None, got {split!r}')
        self.img_dir, self.seg_dir = img_dir, seg_dir
        self.split = split
        self.split_fractions = dict(split_fractions or dict(train=0.7, val=0.1, test=0.2))
        self.split_seed = int(split_seed)
        self.split_file = split_file
        super().__init__(data_root=data_root, **kwargs)

    def _list(self, folder: str) -> dict[str, str]:
        if not osp.isdir(folder):
            raise FileNotFoundError(f'{folder}: folder not found')
        names = sorted(name for name in os.listdir(folder)
                       if name.lower().endswith(NIFTI_EXTENSIONS) and not name.startswith('.'))
        return {strip_image_suffix(name): name for name in names}

    def _split_of(self, cases: list[str]) -> dict[str, str]:
        if self.split_file is None:
            splits = split_by_patient(cases, [0] * len(cases), self.split_fractions,
                                      self.split_seed)
            return dict(zip(cases, splits))
        path = resolve_path(self.data_root, self.split_file)
        require_annotation(path)
        with open(path, encoding='utf-8') as f:
            listed = json.load(f)
        split_of = {}
        for split, names in listed.items():
            for name in names:
                name = strip_image_suffix(name)
                if name not in cases:
                    raise ValueError(f'{path}: case {name!r} ({split}) has no image in '
                                     f'{self.img_dir}/')
                split_of[name] = split
        return split_of

    def load_data_list(self) -> list[dict]:
        images = self._list(osp.join(self.data_root, self.img_dir))
        labels = self._list(osp.join(self.data_root, self.seg_dir))
        if not images:
            raise ValueError(f'{osp.join(self.data_root, self.img_dir)}: no NIfTI images')
        lonely = sorted(set(images) - set(labels))
        orphans = sorted(set(labels) - set(images))
        if lonely or orphans:
            raise ValueError(f'{self.data_root}: unmatched files: images without a label in '
                             f'{self.seg_dir}/: {lonely[:10]}; labels without an image in '
                             f'{self.img_dir}/: {orphans[:10]} (names must be equal)')
        cases = sorted(images)
        split_of = self._split_of(cases) if self.split is not None else {}
        data_list = [
            _seg_info(osp.join(self.data_root, self.img_dir, images[case]),
                      osp.join(self.data_root, self.seg_dir, labels[case]), case)
            for case in cases if self.split is None or split_of.get(case) == self.split]
        if not data_list:
            raise ValueError(f'{self.data_root}: split {self.split!r} is empty '
                             f'({len(cases)} cases, fractions {self.split_fractions})')
        return data_list
