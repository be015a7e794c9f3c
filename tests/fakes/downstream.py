"""Tiny fake downstream datasets in their native formats, and their prepared splits.

Each ``write_fake_*`` writes the raw files as the dataset ships them (folders, official
CSV / text lists, JPEG/PNG/DICOM images, slice folders), runs the package's split /
conversion function on them, and returns the dataset arguments of each split::

    {'train': {...}, 'val': {...}, 'test': {...}}

Every split holds at least 4 samples with every class present (multi-label: every class
positive at least once and negative at least once). Images are 2D 64x64; CC-CCII volumes
load as ``(1, 16, 32, 32)``. Classes are told apart by brightness, so a classifier can
learn something. Import from tests as ``from fakes.downstream import write_fake_chexpert``.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from unimedi.datasets.prepare import (prepare_cc_ccii, split_chexpert, split_covidx,
                                      split_rsna_pneumonia)

SIZE = 64
CHEXPERT_HEADER = ('Path', 'Sex', 'Age', 'Frontal/Lateral', 'AP/PA', 'No Finding',
                   'Enlarged Cardiomediastinum', 'Cardiomegaly', 'Lung Opacity', 'Lung Lesion',
                   'Edema', 'Consolidation', 'Pneumonia', 'Atelectasis', 'Pneumothorax',
                   'Pleural Effusion', 'Pleural Other', 'Fracture', 'Support Devices')
#: four label patterns, cycled over patients: with a patient of each in a split, every
#: competition class is positive (1.0) in one and negative in another
CHEXPERT_PATTERNS = (
    {'Atelectasis': '1.0', 'Edema': '1.0', 'Cardiomegaly': '0.0'},
    {'Cardiomegaly': '1.0', 'Pleural Effusion': '1.0', 'Support Devices': '1.0'},
    {'Consolidation': '1.0', 'Atelectasis': '-1.0', 'Edema': '-1.0'},
    {'No Finding': '1.0', 'Pleural Effusion': '0.0'},
)
COVIDX_CLASSES = ('normal', 'pneumonia', 'COVID-19')
CC_CCII_CLASSES = ('Normal', 'CP', 'NCP')


def _image(rng: np.random.Generator, brightness: float, shape=(SIZE, SIZE)) -> np.ndarray:
    """A noisy uint8 image around ``brightness`` (in [0, 1])."""
    return (np.clip(rng.normal(brightness, 0.08, shape), 0, 1) * 255).astype(np.uint8)


def _save(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def write_dicom(path: Path, pixels: np.ndarray, patient_id: str) -> None:
    """A minimal valid single-frame radiograph DICOM (CR, MONOCHROME2, 8 bit)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    uid = generate_uid(entropy_srcs=[patient_id])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, uid
    ds.PatientID = patient_id
    ds.Modality, ds.BodyPartExamined, ds.ViewPosition = 'CR', 'CHEST', 'PA'
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelSpacing = [0.168, 0.168]
    ds.PixelData = pixels.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(str(path), enforce_file_format=True)


# ----------------------------------------------------------------------------- image folder
def write_fake_image_folder(root: Path, num_per_class: int = 10, seed: int = 0) -> dict:
    """Kermany-style ``root/{train,test}/{NORMAL,PNEUMONIA}/*.jpeg``.

    Returns:
        ``ImageFolderDataset`` arguments: train / val = ``data_root=<root>/train`` with
        ``split='train'`` / ``'val'`` (val_fraction 0.2: 2 + 2 images at 10 per class);
        test = ``data_root=<root>/test``, ``split=None`` (3 per class).
    """
    rng = np.random.default_rng(seed)
    for folder, count in (('train', num_per_class), ('test', 3)):
        for name, brightness in (('NORMAL', 0.3), ('PNEUMONIA', 0.6)):
            for i in range(count):
                _save(root / folder / name / f'IM-{i:04d}-0001.jpeg', _image(rng, brightness))
    train, test = str(root / 'train'), str(root / 'test')
    return {'train': dict(data_root=train, split='train'),
            'val': dict(data_root=train, split='val'),
            'test': dict(data_root=test, split=None)}


# ----------------------------------------------------------------------------- CheXpert
def _chexpert_row(path: str, frontal: bool, pattern: dict, official_valid: bool) -> dict:
    row = {name: '' for name in CHEXPERT_HEADER}
    row.update(Path=path, Sex='Female', Age='68', **{'Frontal/Lateral': 'Frontal' if frontal
                                                     else 'Lateral'})
    row['AP/PA'] = 'AP' if frontal else ''
    row.update(pattern)
    if official_valid:  # the official valid.csv has 0.0 / 1.0 in every column
        row.update({name: '1.0' if value == '1.0' else '0.0' for name, value in row.items()
                    if name in CHEXPERT_HEADER[5:]})
    return row


def _write_chexpert_csv(path: Path, rows: list[dict]) -> None:
    with open(path, 'w', encoding='utf-8', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=CHEXPERT_HEADER, lineterminator='\n')
        writer.writeheader()
        writer.writerows(rows)


def write_fake_chexpert(root: Path, num: int = 16, seed: int = 0) -> dict:
    """CheXpert-v1.0-small under ``root``: ``train.csv`` and ``valid.csv`` with JPEGs.

    ``num`` train patients (``patient00001``...) with one frontal image each (every third
    also a lateral), label patterns :data:`CHEXPERT_PATTERNS` cycled (uncertain -1.0 and
    blank cells included); ``max(4, num // 4)`` official validation patients
    (``patient64541``...). :func:`split_chexpert` (test_size ``num // 4``) writes
    ``root/splits/{train,val,test}.csv``.

    Returns:
        ``CheXpertDataset`` arguments per split: ``data_root=<root>``,
        ``ann_file='splits/<split>.csv'``.
    """
    rng = np.random.default_rng(seed)
    base = root / 'CheXpert-v1.0-small'
    for folder, patients, first in (('train', num, 1), ('valid', max(4, num // 4), 64541)):
        rows = []
        for i in range(patients):
            pattern = CHEXPERT_PATTERNS[i % len(CHEXPERT_PATTERNS)]
            study = f'CheXpert-v1.0-small/{folder}/patient{first + i:05d}/study1'
            views = [('view1_frontal.jpg', True)]
            if folder == 'train' and i % 3 == 0:
                views.append(('view2_lateral.jpg', False))
            for name, frontal in views:
                brightness = 0.3 + 0.1 * (i % len(CHEXPERT_PATTERNS))
                _save(root / study / name, _image(rng, brightness))
                rows.append(_chexpert_row(f'{study}/{name}', frontal, pattern,
                                          folder == 'valid'))
        _write_chexpert_csv(base / f'{folder}.csv', rows)
    split_chexpert(str(base / 'train.csv'), str(base / 'valid.csv'), str(root / 'splits'),
                   test_size=num // 4, seed=0)
    return {split: dict(data_root=str(root), ann_file=f'splits/{split}.csv')
            for split in ('train', 'val', 'test')}


# ----------------------------------------------------------------------------- RSNA
def write_fake_rsna_pneumonia(root: Path, num: int = 40, seed: int = 0) -> dict:
    """``stage_2_train_labels.csv`` (official, one row per box) and DICOMs.

    ``num`` patients (``fake-rsna-0000``...), Target alternating 0 / 1; positives have one
    box, or two for every other one (two label rows). :func:`split_rsna_pneumonia` (70 / 15
    / 15) writes ``root/splits/{train,val,test}.csv``: 28 / 6 / 6 at ``num=40``.

    Returns:
        ``RSNAPneumoniaDataset`` arguments per split: ``data_root=<root>``,
        ``ann_file='splits/<split>.csv'``, ``img_dir='stage_2_train_images'``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(num):
        patient, target = f'fake-rsna-{i:04d}', i % 2
        pixels = _image(rng, 0.3)
        boxes = [[8.0, 10.0, 20.0, 24.0]] + ([[36.0, 12.0, 18.0, 22.0]] if i % 4 == 3 else [])
        if target:
            for x, y, w, h in boxes:
                pixels[int(y):int(y + h), int(x):int(x + w)] = 200
                rows.append([patient, x, y, w, h, 1])
        else:
            rows.append([patient, '', '', '', '', 0])
        write_dicom(root / 'stage_2_train_images' / f'{patient}.dcm', pixels, patient)
    with open(root / 'stage_2_train_labels.csv', 'w', encoding='utf-8', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(['patientId', 'x', 'y', 'width', 'height', 'Target'])
        writer.writerows(rows)
    split_rsna_pneumonia(str(root / 'stage_2_train_labels.csv'), str(root / 'splits'), seed=0)
    return {split: dict(data_root=str(root), ann_file=f'splits/{split}.csv',
                        img_dir='stage_2_train_images') for split in ('train', 'val', 'test')}


# ----------------------------------------------------------------------------- COVIDx
def write_fake_covidx(root: Path, num_per_class: int = 8, seed: int = 0) -> dict:
    """Official-style ``train.txt`` / ``test.txt`` (4 columns) and ``train/``, ``test/`` PNGs.

    ``num_per_class`` training patients per class, every other one with two images; 2 test
    patients per class with 2 images each. :func:`split_covidx` (val_fraction 0.25) writes
    ``root/splits/{train_split,val,test}.txt``.

    Returns:
        ``COVIDxDataset`` arguments per split: ``data_root=<root>``, ``ann_file`` under
        ``splits/``, ``img_dir='train'`` (train, val) or ``'test'``.
    """
    rng = np.random.default_rng(seed)
    for folder, patients in (('train', num_per_class), ('test', 2)):
        lines = []
        for label, name in enumerate(COVIDX_CLASSES):
            for j in range(patients):
                patient = f'{folder}{name[:3].lower()}{j}'
                for k in range(2 if (folder == 'test' or j % 2) else 1):
                    filename = f'{patient}-{k}.png'
                    _save(root / folder / filename, _image(rng, 0.25 + 0.2 * label))
                    lines.append(f'{patient} {filename} {name} fake{label}')
        (root / f'{folder}.txt').write_text('\n'.join(lines) + '\n')
    split_covidx(str(root / 'train.txt'), str(root / 'test.txt'), str(root / 'splits'),
                 val_fraction=0.25, seed=0)
    return {'train': dict(data_root=str(root), ann_file='splits/train_split.txt',
                          img_dir='train'),
            'val': dict(data_root=str(root), ann_file='splits/val.txt', img_dir='train'),
            'test': dict(data_root=str(root), ann_file='splits/test.txt', img_dir='test')}


# ----------------------------------------------------------------------------- CC-CCII
def write_cc_ccii_scan(folder: Path, num_slices: int, brightness: float,
                       rng: np.random.Generator, shape=(32, 32)) -> None:
    """Slices ``1.png ... N.png`` (unpadded: name order is not slice order); slice ``n``
    has ``n`` in its top-left pixel so tests can check the order."""
    for n in range(1, num_slices + 1):
        pixels = _image(rng, brightness, shape)
        pixels[0, 0] = n
        _save(folder / f'{n}.png', pixels)


def write_fake_cc_ccii(root: Path, num_per_class: int = 4, seed: int = 0) -> dict:
    """Raw CC-CCII ``root/raw/{NCP,CP,Normal}/<patient>/<scan>/<n>.png`` and its volumes.

    ``num_per_class`` patients per class, two scans of 16 slices (32x32) each.
    :func:`prepare_cc_ccii` (fractions 0.5 / 0.25 / 0.25, min_slices 8) writes
    ``root/prepared/cc_ccii.csv`` and ``root/prepared/volumes/``.

    Returns:
        ``CCCIIDataset`` arguments per split: ``data_root=<root>/prepared``,
        ``ann_file='cc_ccii.csv'``, ``split='train'`` / ``'val'`` / ``'test'``.
    """
    rng = np.random.default_rng(seed)
    for label, name in enumerate(CC_CCII_CLASSES):
        for j in range(num_per_class):
            patient = str(1000 + 100 * label + j)
            for scan in range(2):
                write_cc_ccii_scan(root / 'raw' / name / patient / str(3000 + 10 * j + scan),
                                   16, 0.25 + 0.2 * label, rng)
    prepared = root / 'prepared'
    prepare_cc_ccii(str(root / 'raw'), str(prepared),
                    fractions={'train': 0.5, 'val': 0.25, 'test': 0.25}, seed=0,
                    min_slices=8, progress=False)
    return {split: dict(data_root=str(prepared), ann_file='cc_ccii.csv', split=split)
            for split in ('train', 'val', 'test')}
