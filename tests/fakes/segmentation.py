"""Tiny fake 2D segmentation datasets in their native formats, and their prepared files.

Each ``write_fake_*`` writes the raw files as the dataset ships them, runs the package's
prepare function on them, and returns the dataset arguments of each split::

    {'train': {...}, 'val': {...}, 'test': {...}}

Images are 64 x 64 with a bright region where the mask is foreground, so a model can learn
something; every split holds foreground and background-only images. Import from tests as
``from fakes.segmentation import write_fake_siim``.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from unimedi.datasets.phantom.generator import PhantomConfig, write_phantom_dataset
from unimedi.datasets.prepare.rsna_seg import prepare_rsna_seg
from unimedi.datasets.prepare.siim_seg import prepare_siim, rle_encode
from unimedi.io.split_lists import write_split_list
from unimedi.io.writers import write_mask_png
from fakes.downstream import write_dicom, write_fake_rsna_pneumonia

SIZE = 64
SPLITS = ('train', 'val', 'test')


def _image_with(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 noise around 0.3, 0.8 where ``mask`` is set."""
    pixels = np.clip(rng.normal(0.3, 0.05, mask.shape) + 0.5 * (mask > 0), 0, 1)
    return (pixels * 255).astype(np.uint8)


def _square(index: int, size: int = SIZE) -> np.ndarray:
    """A 0/1 mask with a square whose place depends on ``index`` (empty for index % 3 == 0)."""
    mask = np.zeros((size, size), np.uint8)
    if index % 3:
        top, left = 8 + 4 * (index % 5), 10 + 3 * (index % 7)
        mask[top:top + 16, left:left + 12] = 1
    return mask


def write_fake_phantom_seg2d(root: Path, num: int = 12, seed: int = 0) -> dict:
    """Phantom radiographs (64 x 64) with masks, split 50 / 25 / 25 (6 / 3 / 3 at 12).

    Returns:
        ``PhantomSeg2DDataset`` arguments per split: ``data_root=<root>``, ``split``.
    """
    write_phantom_dataset(str(root), 0, num, seed=seed,
                          config=PhantomConfig(xray_size=(SIZE, SIZE),
                                               split_fractions=(0.5, 0.25, 0.25)),
                          workers=1, progress=False)
    return {split: dict(data_root=str(root), ann_file='manifest.jsonl', split=split)
            for split in SPLITS}


def write_fake_seg_image_folder(root: Path, num: int = 12, seed: int = 0) -> dict:
    """``root/images/{a,b}/case_XX.png``, ``root/masks/...`` (0/1) and split lists
    ``root/splits/<split>.txt`` (stems without labels; half the images in ``train``).

    Returns:
        ``SegImageFolderDataset`` arguments per split.
    """
    rng = np.random.default_rng(seed)
    stems = []
    for i in range(num):
        stem = f'{"ab"[i % 2]}/case_{i:02d}'
        mask = _square(i)
        image_path = root / 'images' / f'{stem}.png'
        image_path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(_image_with(mask, rng)).save(image_path)
        write_mask_png(str(root / 'masks' / f'{stem}.png'), mask)
        stems.append(stem)
    half, three_quarters = num // 2, 3 * num // 4
    parts = {'train': stems[:half], 'val': stems[half:three_quarters],
             'test': stems[three_quarters:]}
    for split, names in parts.items():
        write_split_list(str(root / 'splits' / f'{split}.txt'), [(s, None) for s in names])
    return {split: dict(data_root=str(root), img_dir='images', mask_dir='masks',
                        img_suffix='.png', mask_suffix='.png',
                        split_file=f'splits/{split}.txt') for split in SPLITS}


def siim_mask(index: int) -> list[np.ndarray]:
    """The pneumothorax regions of fake SIIM image ``index`` (none, one or two)."""
    first = _square(index)
    if index % 4 != 3 or not first.any():
        return [first] if first.any() else []
    second = np.zeros_like(first)
    second[40:52, 44:60] = 1
    return [first, second]


def write_fake_siim(root: Path, num: int = 20, seed: int = 0) -> dict:
    """SIIM-ACR as on Kaggle: ``dicom-images-train/<study>/<series>/<uid>.dcm`` and
    ``train-rle.csv`` (header ``ImageId, EncodedPixels``; ``-1`` for empty images, one
    row per region, so some images have two rows). :func:`prepare_siim` (70 / 15 / 15)
    writes ``root/prepared/masks`` and ``root/prepared/splits``.

    Returns:
        ``SegImageFolderDataset`` arguments per split, as ``configs/_base_/datasets/
        seg_siim.py`` sets them (``data_root=<root>``).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(num):
        regions = siim_mask(i)
        union = np.zeros((SIZE, SIZE), np.uint8)
        for region in regions:
            union |= region
        uid = f'1.2.276.0.7230010.3.1.4.{1000 + i}'
        path = root / 'dicom-images-train' / f'1.2.study.{i}' / f'1.2.series.{i}' / f'{uid}.dcm'
        write_dicom(path, _image_with(union, rng), patient_id=f'patient-{i:03d}')
        rows += [[uid, ' ' + rle_encode(region)] for region in regions] or [[uid, ' -1']]
    with open(root / 'train-rle.csv', 'w', encoding='utf-8', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(['ImageId', ' EncodedPixels'])
        writer.writerows(rows)
    prepare_siim(str(root / 'train-rle.csv'), str(root / 'dicom-images-train'),
                 str(root / 'prepared'), seed=0)
    return {split: dict(data_root=str(root), img_dir='dicom-images-train', img_suffix='.dcm',
                        mask_dir='prepared/masks', mask_suffix='.png',
                        split_file=f'prepared/splits/{split}.txt') for split in SPLITS}


def write_fake_rsna_seg(root: Path, num: int = 40, seed: int = 0) -> dict:
    """The fake RSNA Pneumonia data of ``fakes.downstream`` (DICOMs with bright boxes and
    the classification splits) converted by :func:`prepare_rsna_seg` to
    ``root/seg/masks`` and ``root/seg/splits``.

    Returns:
        ``SegImageFolderDataset`` arguments per split, as ``configs/_base_/datasets/
        seg_rsna.py`` sets them (``data_root=<root>``).
    """
    write_fake_rsna_pneumonia(root, num=num, seed=seed)
    prepare_rsna_seg(str(root / 'splits'), str(root / 'stage_2_train_images'),
                     str(root / 'seg'))
    return {split: dict(data_root=str(root), img_dir='stage_2_train_images', img_suffix='.dcm',
                        mask_dir='seg/masks', mask_suffix='.png',
                        split_file=f'seg/splits/{split}.txt') for split in SPLITS}
