"""Tiny 3D segmentation data in native formats: NIfTI images + label masks in
``images/`` + ``labels/`` folders and a MONAI datalist (BCV's ``dataset_0.json`` layout).

Each volume is CT-like (HU) with a bright box (label 1) and a dark box (label 2) at a
seeded place, so a model can learn something. Import from tests as
``from fakes.seg3d import write_fake_seg_volumes``.
"""
from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np


def fake_volume(shape_xyz=(32, 24, 12), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(hu, labels)`` arrays in NIfTI ``(x, y, z)`` order."""
    rng = np.random.default_rng(seed)
    hu = rng.normal(-800.0, 30.0, shape_xyz).astype(np.float32)
    labels = np.zeros(shape_xyz, np.uint8)
    for label, value in ((1, 200.0), (2, -100.0)):
        size = [max(2, s // 3) for s in shape_xyz]
        start = [int(rng.integers(0, s - z + 1)) for s, z in zip(shape_xyz, size)]
        box = tuple(slice(a, a + z) for a, z in zip(start, size))
        labels[box] = label
        hu[box] = rng.normal(value, 20.0, size)
    return hu, labels


def write_fake_seg_volumes(root: Path, count: int = 4, shape_xyz=(32, 24, 12),
                           affine: np.ndarray | None = None) -> Path:
    """Write ``images/case_i.nii.gz``, ``labels/case_i.nii.gz`` and ``dataset_0.json``
    (``training`` = all but the last case, ``validation`` = the last, ``test`` = the last
    without its label); return ``root``."""
    affine = np.diag([2.0, 2.0, 4.0, 1.0]) if affine is None else affine
    root = Path(root)
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'labels').mkdir(exist_ok=True)
    cases = []
    for index in range(count):
        hu, labels = fake_volume(shape_xyz, seed=index)
        name = f'case_{index}.nii.gz'
        nib.save(nib.Nifti1Image(hu, affine), str(root / 'images' / name))
        nib.save(nib.Nifti1Image(labels, affine), str(root / 'labels' / name))
        cases.append(dict(image=f'images/{name}', label=f'labels/{name}'))
    datalist = dict(training=cases[:-1], validation=cases[-1:],
                    test=[dict(image=cases[-1]['image'])])
    (root / 'dataset_0.json').write_text(json.dumps(datalist, indent=1))
    return root


def write_fake_phantom_seg_manifest(root: Path, count: int = 4) -> Path:
    """Fake volumes (:func:`write_fake_seg_volumes`) listed in a phantom-style manifest
    (``manifest.jsonl``: ``path``, ``mask``, ``modality``, ``labels``, ``split``, plus a
    2D row that the 3D dataset skips); return ``root``."""
    root = write_fake_seg_volumes(root, count)
    splits = ['train'] * (count - 2) + ['val', 'test']
    rows = [dict(case_id=f'case_{i}', path=f'images/case_{i}.nii.gz', modality='3d',
                 mask=f'labels/case_{i}.nii.gz', labels=['nodule', 'mass'][:1 + i % 2],
                 split=split) for i, split in enumerate(splits)]
    rows.append(dict(case_id='xray_0', path='xray_0.png', modality='2d', labels=[],
                     split='train'))
    (root / 'manifest.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return root
