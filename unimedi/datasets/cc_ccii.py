"""``CCCIIDataset``: CC-CCII chest CT scans (slice folders stacked into NIfTI volumes)."""
from __future__ import annotations

from unimedi.io.paths import require_annotation, require_file, resolve_path
from unimedi.io.tables import read_table
from unimedi.registry import DATASETS
from .base_dataset import MedBaseDataset
from .manifest_dataset import ManifestError

#: normal, common pneumonia, novel coronavirus pneumonia (label order)
CC_CCII_CLASSES = ('Normal', 'CP', 'NCP')


@DATASETS.register_module()
class CCCIIDataset(MedBaseDataset):
    """CC-CCII chest CTs, multi-class Normal / CP / NCP, one NIfTI volume per scan.

    Layout (written by ``tools/data/prepare_cc_ccii.py``, see
    :func:`unimedi.datasets.prepare.cc_ccii.prepare_cc_ccii`)::

        data_root/
            cc_ccii.csv                      (path,label,patient_id,scan_id,split)
            volumes/NCP/<patient_id>/<scan_id>.nii.gz
            ...

    ``path`` is relative to ``data_root`` unless absolute; ``label`` is a class name.
    Volumes load as ``(1, D, H, W)`` with each ``(H, W)`` slice as in its source file.
    Their values are the slice files' grey levels 0-255 (CC-CCII is already windowed), not
    Hounsfield units, although ``LoadMedicalImage`` reports NIfTI as ``'HU'``: map them to
    [0, 1] with ``HUWindow(windows=[(127.5, 255)])``, not a lung window.

    Labels: ``gt_label`` is the index of ``label`` in ``metainfo['classes']`` (default
    ``('Normal', 'CP', 'NCP')``); an unknown label is an error naming the line.
    ``sample_id`` is the ``path``; samples also carry ``patient_id`` and ``scan_id``.

    Args:
        ann_file: the CSV, relative to ``data_root`` unless absolute.
        data_root: the prepared folder.
        split: keep only rows whose ``split`` column equals this (``None`` keeps all).
        check_files: raise (naming the line) when a volume is missing.
        **kwargs: :class:`MedBaseDataset` arguments (``pipeline``, ``data_fraction``...).
    """

    METAINFO = dict(classes=CC_CCII_CLASSES)

    def __init__(self, ann_file: str, data_root: str, split: str | None = None,
                 check_files: bool = True, **kwargs):
        self.split = split
        self.check_files = check_files
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> list[dict]:
        require_annotation(self.ann_file)
        classes = tuple(self.metainfo['classes'])
        required = ('path', 'label') + (('split', ) if self.split is not None else ())
        data_list = []
        for number, row in read_table(self.ann_file, required, delimiter=','):
            where = f'{self.ann_file}:{number}'
            if self.split is not None and row['split'] != self.split:
                continue
            label = (row['label'] or '').strip()
            if label not in classes:
                raise ManifestError(f'{where}: unknown label {label!r}; classes are '
                                    f'{list(classes)}')
            path = (row['path'] or '').strip()
            if not path:
                raise ManifestError(f'{where}: empty path')
            img_path = resolve_path(self.data_root, path)
            if self.check_files:
                require_file(img_path, where)
            data_list.append(dict(img_path=img_path, modality='3d',
                                  gt_label=classes.index(label), sample_id=path,
                                  patient_id=row.get('patient_id', ''),
                                  scan_id=row.get('scan_id', '')))
        if not data_list:
            raise ManifestError(f'{self.ann_file}: no rows left after filtering '
                                f'(split={self.split!r})')
        return data_list
