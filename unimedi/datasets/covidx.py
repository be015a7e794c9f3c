"""``COVIDxDataset``: COVIDx chest X-rays listed in COVID-Net's split text files."""
from __future__ import annotations

import os.path as osp
from typing import Sequence

from unimedi.io.paths import require_annotation, require_file, resolve_path
from unimedi.registry import DATASETS
from .base_dataset import MedBaseDataset
from .manifest_dataset import ManifestError

COVIDX_CLASSES = ('normal', 'pneumonia', 'COVID-19')
#: the binary labelling of COVIDx CXR-2 / CXR-3 (COVID-19 positive or not)
COVIDX_BINARY_CLASSES = ('negative', 'positive')
#: spellings met across COVIDx versions -> the class name
CLASS_ALIASES = {'normal': 'normal', 'pneumonia': 'pneumonia', 'covid-19': 'COVID-19',
                 'covid19': 'COVID-19', 'covid': 'COVID-19', 'negative': 'negative',
                 'positive': 'positive'}


def _class_index(token: str, classes: Sequence[str]) -> int | None:
    name = CLASS_ALIASES.get(token.lower(), token).lower()
    for index, class_name in enumerate(classes):
        if class_name.lower() == name:
            return index
    return None


def parse_covidx_line(line: str, where: str, classes: Sequence[str] = COVIDX_CLASSES) -> dict:
    """Parse ``patient_id filename class [source]`` (space separated).

    COVIDx v1-v3 lists have 3 columns, later ones add the ``source``; a few file names hold
    spaces, so the class is found from the end: the last column, else the one before it.
    Class spellings are matched through :data:`CLASS_ALIASES` (``covid`` -> ``COVID-19``),
    case-insensitively.

    Returns:
        ``{'patient_id', 'filename', 'label' (index into classes), 'source'}``.
    """
    tokens = line.split()
    if len(tokens) < 3:
        raise ManifestError(f'{where}: expected "patient_id filename class [source]", got '
                            f'{line.strip()!r}')
    label = _class_index(tokens[-1], classes)
    if label is not None:
        filename, source = ' '.join(tokens[1:-1]), ''
    else:
        label = _class_index(tokens[-2], classes) if len(tokens) >= 4 else None
        if label is None:
            token = tokens[-2] if len(tokens) >= 4 else tokens[-1]
            hint = ''
            if token.lower() in COVIDX_BINARY_CLASSES:
                hint = ('; positive/negative is the binary COVIDx CXR-2/3 labelling: pass '
                        "metainfo=dict(classes=('negative', 'positive'))")
            raise ManifestError(f'{where}: unknown class {token!r}; classes are '
                                f'{list(classes)}{hint}')
        filename, source = ' '.join(tokens[1:-2]), tokens[-1]
    return dict(patient_id=tokens[0], filename=filename, label=label, source=source)


def read_covidx_list(path: str, classes: Sequence[str] = COVIDX_CLASSES
                     ) -> list[tuple[int, str, dict]]:
    """``(line_number, line, parsed)`` for every non-blank line of a COVIDx list."""
    require_annotation(path)
    entries = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                entries.append((number, line.rstrip('\r\n'),
                                parse_covidx_line(line, f'{path}:{number}', classes)))
    return entries


@DATASETS.register_module()
class COVIDxDataset(MedBaseDataset):
    """COVIDx (COVID-Net) chest X-rays, multi-class normal / pneumonia / COVID-19.

    Layout::

        data_root/
            train/<filename>, test/<filename>     (PNG/JPEG images)
            train.txt, test.txt                   (official lists; older: train_split.txt)
            splits/train_split.txt, val.txt, test.txt  (tools/data/prepare_covidx.py)

    ``ann_file`` holds one image a line, ``patient_id filename class [source]`` separated
    by spaces (see :func:`parse_covidx_line` for the versions). The image is
    ``<img_dir>/<filename>``: ``train`` for train/val lists, ``test`` for the test list.

    Labels: ``gt_label`` is the class index in ``metainfo['classes']`` (default
    ``('normal', 'pneumonia', 'COVID-19')``; ``covid`` and ``covid-19`` spellings map to
    ``COVID-19``). For the binary CXR-2/3 lists pass
    ``metainfo=dict(classes=('negative', 'positive'))``. An unknown class is an error
    naming the file and line. ``sample_id`` is the file name; samples also carry
    ``patient_id`` and ``source``.

    Args:
        ann_file: the list, relative to ``data_root`` unless absolute.
        data_root: the dataset folder.
        img_dir: the image folder, relative to ``data_root`` unless absolute.
        check_files: raise (naming the line) when an image file is missing.
        **kwargs: :class:`MedBaseDataset` arguments (``pipeline``, ``metainfo``...).
    """

    METAINFO = dict(classes=COVIDX_CLASSES)

    def __init__(self, ann_file: str, data_root: str, img_dir: str = 'train',
                 check_files: bool = True, **kwargs):
        self.img_dir = img_dir
        self.check_files = check_files
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> list[dict]:
        img_dir = resolve_path(self.data_root, self.img_dir)
        data_list = []
        for number, _, entry in read_covidx_list(self.ann_file, self.metainfo['classes']):
            img_path = osp.join(img_dir, entry['filename'])
            if self.check_files:
                require_file(img_path, f'{self.ann_file}:{number}')
            data_list.append(dict(img_path=img_path, modality='2d', gt_label=entry['label'],
                                  sample_id=entry['filename'], patient_id=entry['patient_id'],
                                  source=entry['source']))
        if not data_list:
            raise ManifestError(f'{self.ann_file}: holds no lines')
        return data_list
