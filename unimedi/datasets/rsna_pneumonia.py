"""``RSNAPneumoniaDataset``: the RSNA Pneumonia Detection Challenge radiographs (DICOM)."""
from __future__ import annotations

import json
import os.path as osp

from unimedi.io.paths import require_annotation, require_file, resolve_path
from unimedi.io.tables import read_table
from unimedi.registry import DATASETS
from .base_dataset import MedBaseDataset
from .manifest_dataset import ManifestError

RSNA_CLASSES = ('Pneumonia', )


def parse_target(value: str | None, where: str) -> int:
    """``Target`` as 0 or 1 (``'0'``, ``'1'``, ``'0.0'``, ``'1.0'``)."""
    try:
        target = float(str(value).strip())
    except ValueError:
        target = None
    if target not in (0.0, 1.0):
        raise ManifestError(f'{where}: Target must be 0 or 1, got {value!r}')
    return int(target)


def parse_boxes(value: str | None, where: str) -> list[list[float]]:
    """A JSON list of ``[x, y, w, h]`` boxes (blank: none)."""
    text = (value or '').strip()
    if not text:
        return []
    try:
        boxes = json.loads(text)
        boxes = [[float(v) for v in box] for box in boxes]
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise ManifestError(f'{where}: boxes must be a JSON list of [x, y, w, h], got '
                            f'{text!r} ({exc})') from exc
    if any(len(box) != 4 for box in boxes):
        raise ManifestError(f'{where}: every box must be [x, y, w, h], got {text!r}')
    return boxes


@DATASETS.register_module()
class RSNAPneumoniaDataset(MedBaseDataset):
    """RSNA Pneumonia chest radiographs, binary as a one-class multi-label task.

    Layout::

        data_root/
            stage_2_train_images/<patientId>.dcm
            stage_2_train_labels.csv          (official: patientId,x,y,width,height,Target)
            splits/train.csv, val.csv, test.csv   (tools/data/prepare_rsna_pneumonia.py)

    ``ann_file`` is a split CSV with columns ``patientId,Target,boxes`` (one row per
    patient; ``boxes`` a JSON list of ``[x, y, w, h]`` in pixels, optional column), as
    written by :func:`split_rsna_pneumonia`. The image is ``<img_dir>/<patientId>.dcm``.

    Labels: ``metainfo['classes'] = ('Pneumonia',)`` and ``gt_label = [float(Target)]``, so
    multi-label metrics (AUC) apply. The boxes are kept in the sample (``boxes``) for
    detection/segmentation use; ``sample_id`` is the ``patientId``.

    Args:
        ann_file: the split CSV, relative to ``data_root`` unless absolute.
        data_root: the dataset folder.
        img_dir: the DICOM folder, relative to ``data_root`` unless absolute.
        check_files: raise (naming the CSV line) when a DICOM file is missing.
        **kwargs: :class:`MedBaseDataset` arguments (``pipeline``, ``data_fraction``...).
    """

    METAINFO = dict(classes=RSNA_CLASSES)

    def __init__(self, ann_file: str, data_root: str, img_dir: str = 'stage_2_train_images',
                 check_files: bool = True, **kwargs):
        self.img_dir = img_dir
        self.check_files = check_files
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> list[dict]:
        require_annotation(self.ann_file)
        img_dir = resolve_path(self.data_root, self.img_dir)
        data_list = []
        for number, row in read_table(self.ann_file, ('patientId', 'Target'), delimiter=','):
            where = f'{self.ann_file}:{number}'
            patient = (row['patientId'] or '').strip()
            if not patient:
                raise ManifestError(f'{where}: empty patientId')
            target = parse_target(row['Target'], where)
            img_path = osp.join(img_dir, f'{patient}.dcm')
            if self.check_files:
                require_file(img_path, where)
            data_list.append(dict(img_path=img_path, modality='2d', gt_label=[float(target)],
                                  sample_id=patient, boxes=parse_boxes(row.get('boxes'), where)))
        if not data_list:
            raise ManifestError(f'{self.ann_file}: holds no rows')
        return data_list
