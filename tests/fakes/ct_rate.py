"""A fabricated CT-RATE tree (tiny volumes) in the published layout, both header versions.

v1 volumes (``dataset/{train,valid}``) have a blank header (no sform / qform) and stored
values ``HU + 1024`` (``RescaleIntercept`` -1024 in the metadata); v2 volumes
(``dataset/{train,valid}_fixed``) have the spacing in their header and HU values.
"""
from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np

from unimedi.datasets.ct_rate import CT_RATE_CLASSES

SHAPE_XYZ = (8, 6, 4)  # columns, rows, slices
XY_SPACING, Z_SPACING = (0.75, 0.8), 1.5
#: official split -> (patient, scan, reconstructions)
VOLUMES = {
    'train': [(1, 'a', (1, 2)), (1, 'b', (1, )), (2, 'a', (1, )), (3, 'a', (1, 2)),
              (4, 'a', (1, )), (5, 'a', (1, )), (6, 'a', (1, )), (7, 'a', (1, )),
              (8, 'a', (1, ))],
    'valid': [(1, 'a', (1, 2)), (2, 'a', (1, ))],
}
NO_CHEST = 'train_4_a_1'        # listed in no_chest_train.txt
MISSING_FILE = 'train_5_a_1'    # a report but no volume
EMPTY_REPORT = 'train_6_a_1'    # neither findings nor impression


def hu_of(name: str) -> np.ndarray:
    """The HU volume of ``name`` as NIfTI stores it, ``(x, y, z)``: a ramp plus an offset per
    volume."""
    offset = sum(map(ord, name)) % 50
    ramp = np.arange(np.prod(SHAPE_XYZ), dtype=np.float32).reshape(SHAPE_XYZ)
    return (ramp - 900.0 + offset).astype(np.float32)


def _labels(name: str) -> list[int]:
    seed = sum(map(ord, name))
    return [int(b) for b in np.random.default_rng(seed).integers(0, 2, len(CT_RATE_CLASSES))]


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_fake_ct_rate(root: Path) -> dict:
    """Write the tree; return ``{volume name: (official split, HU (x, y, z), labels)}``."""
    volumes = {}
    for split, entries in VOLUMES.items():
        reports, labels, metadata = [], [], []
        for patient, scan, recons in entries:
            for recon in recons:
                name = f'{split}_{patient}_{scan}_{recon}'
                hu = hu_of(name)
                volumes[name] = (split, hu, _labels(name))
                if name != MISSING_FILE:
                    for fixed in (False, True):
                        target = (root / 'dataset' / (split + ('_fixed' if fixed else ''))
                                  / f'{split}_{patient}' / f'{split}_{patient}_{scan}')
                        target.mkdir(parents=True, exist_ok=True)
                        if fixed:
                            affine = np.diag([*XY_SPACING[::-1], Z_SPACING, 1.0])
                            data = hu
                        else:  # a blank header (no sform / qform), stored values
                            affine, data = None, (hu + 1024).astype(np.int16)
                        nib.save(nib.Nifti1Image(data, affine), str(target / f'{name}.nii.gz'))
                findings = '' if name == EMPTY_REPORT else f'Findings of {name}.'
                impression = '' if name == EMPTY_REPORT else f'Impression of {patient}.'
                if split == 'valid' and recon == 2:  # a repeated findings text
                    findings = f'Findings of {split}_{patient}_{scan}_1.'
                reports.append([f'{name}.nii.gz', 'Clinical.', 'Technique.', findings,
                                impression])
                labels.append([name] + volumes[name][2])  # without .nii.gz: joins normalise
                metadata.append([f'{name}.nii.gz', f'[{XY_SPACING[0]}, {XY_SPACING[1]}]',
                                 Z_SPACING, 1, -1024])
        table = 'train' if split == 'train' else 'validation'
        _write_csv(root / 'radiology_text_reports' / f'{table}_reports.csv',
                   ['VolumeName', 'ClinicalInformation_EN', 'Technique_EN', 'Findings_EN',
                    'Impressions_EN'], reports)
        _write_csv(root / 'multi_abnormality_labels' / f'{split}_predicted_labels.csv',
                   ['VolumeName', *CT_RATE_CLASSES], labels)
        _write_csv(root / 'metadata' / f'{table}_metadata.csv',
                   ['VolumeName', 'XYSpacing', 'ZSpacing', 'RescaleSlope', 'RescaleIntercept'],
                   metadata)
    (root / 'metadata' / 'no_chest_train.txt').write_text(f'{NO_CHEST}.nii.gz\n')
    (root / 'metadata' / 'no_chest_valid.txt').write_text('')
    return volumes


def write_fake_ct_rate_manifest(root: Path, split: str = 'train') -> dict:
    """The fabricated tree and its manifest; ``CTRateDataset`` arguments for ``split``."""
    from unimedi.datasets.prepare import build_ct_rate_rows, write_manifest

    if not (root / 'manifest.jsonl').is_file():
        write_fake_ct_rate(root)
        rows, _ = build_ct_rate_rows(str(root), val_fraction=0.25)
        write_manifest(rows, str(root / 'manifest.jsonl'))
    return dict(data_root=str(root), ann_file='manifest.jsonl', split=split)
