"""Whole phantom cases (CT and radiograph) and writing a phantom dataset to disk."""
from __future__ import annotations

import json
import multiprocessing
import os
import os.path as osp
from dataclasses import asdict, dataclass, field

import nibabel as nib
import numpy as np
from PIL import Image

from .anatomy import build_chest_anatomy, finish_volume
from .findings import FINDING_CLASSES, paint_findings, sample_findings
from .projection import project_labels, radiograph
from .report_writer import write_report

GENERATOR_VERSION = '1'
SPLITS = ('train', 'val', 'test')
_MODALITY_STREAM = {'3d': 0, '2d': 1, 'split': 2}


@dataclass
class PhantomConfig:
    """Sizes and mixtures of the phantoms.

    The CT default is 64 x 128 x 128 voxels of 5 x 2.8 x 2.8 mm (a 32 x 36 x 36 cm chest).
    Radiographs are projected from independent 96 x 48 x 96 volumes of 3.5 x 6 x 3.5 mm
    (336 mm square field of view) and resized to 224 x 224, the ViT-B/16 input size, so
    that 2D images need no further resizing.
    """

    ct_shape: tuple = (64, 128, 128)
    ct_spacing: tuple = (5.0, 2.8, 2.8)
    xray_volume_shape: tuple = (96, 48, 96)
    xray_volume_spacing: tuple = (3.5, 6.0, 3.5)
    xray_size: tuple = (224, 224)
    normal_fraction: float = 0.3
    max_findings: int = 3
    split_fractions: tuple = (0.7, 0.1, 0.2)
    ct_noise_hu: tuple = (10.0, 25.0)
    xray_noise: float = 0.01
    extras: dict = field(default_factory=dict)


def case_rng(seed: int, modality: str, index: int) -> np.random.Generator:
    """The generator of one case: depends only on (seed, modality, index)."""
    return np.random.default_rng([int(seed), _MODALITY_STREAM[modality], int(index)])


def _draw_case(rng, shape, spacing, config: PhantomConfig):
    findings = sample_findings(rng, config.normal_fraction, config.max_findings)
    scale = next((f.scale for f in findings if f.kind == 'cardiomegaly'), 1.0)
    anatomy = build_chest_anatomy(rng, shape, spacing, heart_scale=scale)
    labels, placed = paint_findings(anatomy, findings, rng)
    return anatomy, labels, placed


def generate_ct_case(seed: int, index: int, config: PhantomConfig | None = None) -> dict:
    """One chest CT.

    Returns:
        dict with ``hu`` ``(D, H, W)`` int16, ``labels`` ``(D, H, W)`` uint8 (one value per
        finding class), ``findings`` (list of :class:`Finding`), ``report`` (str),
        ``spacing`` ``(D, H, W)`` mm and ``lesion_slices`` (sorted union over findings).
    """
    config = config or PhantomConfig()
    rng = case_rng(seed, '3d', index)
    anatomy, labels, findings = _draw_case(rng, config.ct_shape, config.ct_spacing, config)
    hu = finish_volume(anatomy.hu, rng, noise_hu=config.ct_noise_hu)
    lesion_slices = sorted({s for f in findings for s in f.slices})
    return dict(hu=hu, labels=labels, findings=findings, spacing=tuple(config.ct_spacing),
                report=write_report(findings, '3d', rng), lesion_slices=lesion_slices)


def generate_xray_case(seed: int, index: int, config: PhantomConfig | None = None,
                       keep_volume: bool = False) -> dict:
    """One chest radiograph, projected from its own (never saved) phantom volume.

    Returns:
        dict with ``image`` ``(rows, cols)`` float32 in [0, 1], ``labels`` ``(rows, cols)``
        uint8, ``findings``, ``report``; with ``keep_volume`` also ``volume_labels`` and
        ``volume_hu`` of the source phantom.
    """
    config = config or PhantomConfig()
    rng = case_rng(seed, '2d', index)
    anatomy, labels3d, findings = _draw_case(rng, config.xray_volume_shape,
                                             config.xray_volume_spacing, config)
    hu = finish_volume(anatomy.hu, rng, blur=0.8, noise_hu=(5.0, 10.0))
    image = radiograph(hu, config.xray_volume_spacing, config.xray_size, rng, config.xray_noise)
    for finding in findings:  # slice indices have no meaning on a radiograph
        finding.slices = []
    case = dict(image=image, labels=project_labels(labels3d, config.xray_size),
                findings=findings, report=write_report(findings, '2d', rng))
    if keep_volume:
        case.update(volume_labels=labels3d, volume_hu=hu)
    return case


def ct_affine(shape, spacing) -> np.ndarray:
    """RAS affine of a phantom CT stored as NIfTI ``(x, y, z) = (W, H, D)``, centred at 0."""
    sd, sh, sw = spacing
    affine = np.diag([sw, sh, sd, 1.0])
    affine[:3, 3] = -np.array([shape[2] * sw, shape[1] * sh, shape[0] * sd]) / 2
    return affine


def save_nifti(volume_dhw: np.ndarray, spacing, path: str) -> None:
    """Save a ``(D, H, W)`` array as RAS NIfTI, which the unimedi loader reads back as is."""
    affine = ct_affine(volume_dhw.shape, spacing)
    image = nib.Nifti1Image(np.ascontiguousarray(volume_dhw.transpose(2, 1, 0)), affine)
    image.header.set_xyzt_units('mm')
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    nib.save(image, path)


def assign_splits(count: int, seed: int, modality: str, fractions) -> list[str]:
    """Split names for ``count`` cases: a seeded permutation cut by ``fractions``."""
    order = np.random.default_rng([int(seed), _MODALITY_STREAM['split'],
                                   _MODALITY_STREAM[modality]]).permutation(count)
    bounds = np.round(np.cumsum(fractions) / np.sum(fractions) * count).astype(int)
    splits = [''] * count
    for rank, case in enumerate(order):
        splits[case] = SPLITS[int(np.searchsorted(bounds, rank, side='right'))]
    return splits


def _write_case(task) -> dict:
    out, modality, index, seed, split, config = task
    case_id = f'{"ct" if modality == "3d" else "xray"}_{index:05d}'
    folder = 'ct' if modality == '3d' else 'xray'
    if modality == '3d':
        case = generate_ct_case(seed, index, config)
        path, mask = f'{folder}/{case_id}.nii.gz', f'{folder}/{case_id}_mask.nii.gz'
        save_nifti(case['hu'], case['spacing'], osp.join(out, path))
        save_nifti(case['labels'], case['spacing'], osp.join(out, mask))
    else:
        case = generate_xray_case(seed, index, config)
        path, mask = f'{folder}/{case_id}.png', f'{folder}/{case_id}_mask.png'
        pixels = np.round(case['image'] * 255).astype(np.uint8)
        Image.fromarray(pixels).save(osp.join(out, path))
        Image.fromarray(case['labels']).save(osp.join(out, mask))
    row = dict(case_id=case_id, path=path, modality=modality, report=case['report'],
               labels=[f.kind for f in case['findings']], mask=mask, split=split,
               finding_details=[f.to_dict() for f in case['findings']])
    if modality == '3d':
        row.update(lesion_slices=case['lesion_slices'], spacing=list(case['spacing']))
    return row


def write_phantom_dataset(out: str, num_3d: int, num_2d: int, seed: int = 0,
                          config: PhantomConfig | None = None, workers: int | None = None,
                          progress: bool = True) -> dict:
    """Write phantom CTs (NIfTI) and radiographs (PNG) with masks and a manifest.

    Layout: ``ct/ct_XXXXX.nii.gz`` (+ ``_mask``), ``xray/xray_XXXXX.png`` (+ ``_mask``),
    ``manifest.jsonl`` (read by ``ImageReportDataset``), ``splits/<split>.txt`` (case ids)
    and ``meta.json`` (classes, config, counts). The same arguments give byte-identical
    files, whatever ``workers``.

    Returns:
        the content of ``meta.json``.
    """
    config = config or PhantomConfig()
    for folder in ('ct', 'xray', 'splits'):
        os.makedirs(osp.join(out, folder), exist_ok=True)
    tasks = []
    for modality, count in (('3d', num_3d), ('2d', num_2d)):
        splits = assign_splits(count, seed, modality, config.split_fractions)
        tasks += [(out, modality, i, seed, splits[i], config) for i in range(count)]
    workers = workers or min(2, os.cpu_count() or 1)
    if workers > 1 and len(tasks) > 1:
        with multiprocessing.get_context('fork').Pool(workers) as pool:
            iterator = pool.imap(_write_case, tasks, chunksize=4)
            rows = list(_progress(iterator, len(tasks), progress))
    else:
        rows = list(_progress(map(_write_case, tasks), len(tasks), progress))
    with open(osp.join(out, 'manifest.jsonl'), 'w') as f:
        for row in rows:
            f.write(json.dumps(row) + '\n')
    for split in SPLITS:
        with open(osp.join(out, 'splits', f'{split}.txt'), 'w') as f:
            f.writelines(f'{r["case_id"]}\n' for r in rows if r['split'] == split)
    meta = dict(classes=list(FINDING_CLASSES), generator_version=GENERATOR_VERSION, seed=seed,
                num_3d=num_3d, num_2d=num_2d, config=asdict(config),
                counts=summarise(rows))
    with open(osp.join(out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    return meta


def summarise(rows: list[dict]) -> dict:
    """Per modality: cases per split, cases per finding class, normal cases."""
    summary = {}
    for modality in ('3d', '2d'):
        subset = [r for r in rows if r['modality'] == modality]
        summary[modality] = dict(
            cases=len(subset),
            splits={s: sum(r['split'] == s for r in subset) for s in SPLITS},
            findings={k: sum(k in r['labels'] for r in subset) for k in FINDING_CLASSES},
            normal=sum(not r['labels'] for r in subset))
    return summary


def _progress(iterator, total: int, enabled: bool):
    if not enabled:
        return iterator
    from tqdm import tqdm
    return tqdm(iterator, total=total, desc='phantoms', unit='case')
