"""Shared fixtures: the real files linked under data/, a tiny synthetic manifest, and a
2-iteration pre-training run of the tiny UniMedI on tiny phantoms (the figure tools' tests)."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
#: the real medical files, linked under data/ by tools/data/link_real_data.sh (which
#: tools/install.sh runs when ../shared/data exists)
REAL_DATA = REPO_ROOT / 'data'
REAL_FOLDERS = ('ct', 'dicom', 'reports', 'cxr-pneumonia')
TINY_CLASSES = ('nodule', 'effusion')


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """The folder holding the real medical files (skipped with a reason when absent)."""
    missing = [name for name in REAL_FOLDERS if not (REAL_DATA / name).is_dir()]
    if missing:
        pytest.skip(f'real data {missing} not under {REAL_DATA} (they ship beside the repo on '
                    'developer machines and CI: bash tools/data/link_real_data.sh)')
    return REAL_DATA


def write_tiny_dataset(root: Path, num_2d: int = 6, num_3d: int = 4, seed: int = 0) -> Path:
    """Write PNG X-rays, NIfTI CTs with masks and a JSONL manifest; return the manifest.

    Images with the label ``nodule`` are brighter, so a classifier can learn something.
    """
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(num_2d + num_3d):
        modality = '2d' if i < num_2d else '3d'
        labels = [c for c, on in zip(TINY_CLASSES, (i % 2 == 0, i % 3 == 0)) if on]
        brightness = 0.6 if 'nodule' in labels else 0.3
        split = 'test' if i in (0, 1, num_2d, num_2d + 1) else 'train'
        if modality == '2d':
            pixels = np.clip(rng.normal(brightness, 0.05, (40, 36)), 0, 1)
            path = f'xray_{i}.png'
            Image.fromarray((pixels * 255).astype(np.uint8)).save(root / path)
            row = dict(path=path, modality='2d')
        else:
            hu = rng.normal(-1000 + brightness * 1500, 30, (24, 20, 10)).astype(np.float32)
            mask = np.zeros((24, 20, 10), np.uint8)
            mask[8:12, 6:10, 3:6] = 1
            affine = np.diag([1.5, 1.5, 3.0, 1.0])
            path, mask_path = f'ct_{i}.nii.gz', f'ct_{i}_mask.nii.gz'
            nib.save(nib.Nifti1Image(hu, affine), str(root / path))
            nib.save(nib.Nifti1Image(mask, affine), str(root / mask_path))
            row = dict(path=path, modality='3d', mask=mask_path, lesion_slices=[3, 4, 5])
        findings = ' '.join(f'There is a {c}.' for c in labels) or 'No acute findings.'
        row.update(report=f'FINDINGS: {findings}\nIMPRESSION: see findings.', labels=labels,
                   split=split, case_id=f'case{i:03d}')
        rows.append(row)
    manifest = root / 'manifest.jsonl'
    manifest.write_text('\n'.join(json.dumps(r) for r in rows) + '\n')
    return manifest


@pytest.fixture
def tiny_dataset(tmp_path) -> Path:
    """A tiny 2D + 3D image-report manifest with labels, masks and splits."""
    return write_tiny_dataset(tmp_path / 'tiny')


@pytest.fixture(scope='session')
def two_iteration_run(tmp_path_factory) -> dict:
    """``config`` (tiny UniMedI), ``checkpoint`` (``iter_2.pth``), ``work_dir`` (with its
    ``scalars.json``), ``phantoms`` (14 CTs, 14 radiographs) and a scratch ``root``."""
    from unimedi.datasets.phantom.generator import PhantomConfig, write_phantom_dataset
    from unimedi.engine.runner import UniMedIRunner
    from repo_scripts import TINY_UNIMEDI_CONFIG, redirect_caches

    root = tmp_path_factory.mktemp('two_iterations')
    phantoms = root / 'phantoms'
    write_phantom_dataset(str(phantoms), 14, 14, seed=0, workers=1, progress=False,
                          config=PhantomConfig(ct_shape=(32, 64, 64), ct_spacing=(10.0, 5.6, 5.6),
                                               xray_size=(64, 64)))
    config = root / 'tiny.py'
    config.write_text(TINY_UNIMEDI_CONFIG)
    cfg = Config.fromfile(str(config))
    loader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                  dataset=dict(data_root=str(phantoms)))
    work_dir = root / 'work'
    cfg.merge_from_dict(dict(
        train_dataloader=loader, val_dataloader=loader, test_dataloader=loader,
        train_cfg=dict(max_iters=2, val_interval=100), work_dir=str(work_dir),
        default_hooks=dict(checkpoint=dict(interval=2), logger=dict(interval=1)),
        custom_hooks=[], experiment_name=f'two_iterations_{uuid.uuid4().hex[:8]}',
        launcher='none', load_from=None))
    redirect_caches(cfg._cfg_dict, root / 'cache')
    UniMedIRunner.from_cfg(cfg).train()
    return dict(config=str(config), checkpoint=str(work_dir / 'iter_2.pth'),
                work_dir=str(work_dir), phantoms=str(phantoms), root=root)
