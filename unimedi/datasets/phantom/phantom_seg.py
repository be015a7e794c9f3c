"""Segmentation on the chest phantoms: ``PhantomSeg2DDataset`` (radiographs) and
``PhantomSeg3DDataset`` (CTs), both reading a phantom manifest with its lesion masks."""
from __future__ import annotations

from unimedi.io.paths import resolve_path
from unimedi.registry import DATASETS
from unimedi.utils.palette import seg_metainfo
from ..base_dataset import MedBaseDataset
from ..manifest_dataset import ManifestError, _split_list, read_manifest
from .findings import FINDING_CLASSES
from .generator import SPLITS

PHANTOM_SEG_CLASSES = ('background', ) + FINDING_CLASSES
BINARY_CLASSES = ('background', 'lesion')


@DATASETS.register_module()
class PhantomSeg2DDataset(MedBaseDataset):
    """The radiographs of a phantom manifest (``tools/data/make_phantoms.py``) with masks.

    Reads the ``'2d'`` rows of one split of ``manifest.jsonl``: ``path`` (PNG), ``mask``
    (PNG; 0 background, ``k + 1`` for finding ``k`` of
    :data:`~unimedi.datasets.phantom.findings.FINDING_CLASSES`), ``labels`` and
    ``case_id``. Classes: ``('background', 'nodule', ..., 'cardiomegaly')``, the mask
    values themselves (cardiomegaly masks the heart).

    ``binary=True`` merges the 7 findings into one ``'lesion'`` class: the classes become
    ``('background', 'lesion')`` and each sample carries ``label_map = {1: 1, ..., 7: 1}``,
    which ``RemapLabels()`` (after ``LoadMedicalMask`` in the pipeline) applies.

    ``stratify_label`` (for ``data_fraction``) is the row's multi-hot finding vector (or
    "has a finding" when binary); ``sample_id`` the ``case_id``.

    Args:
        data_root: the phantom folder.
        ann_file: the manifest, relative to ``data_root`` unless absolute.
        split: ``'train'``, ``'val'``, ``'test'`` or ``None`` (all rows).
        binary: merge the findings into one class (see above).
        **kwargs: :class:`MedBaseDataset` arguments (``pipeline``, ``data_fraction``...).
    """

    METAINFO = seg_metainfo(PHANTOM_SEG_CLASSES)

    def __init__(self, data_root: str, ann_file: str = 'manifest.jsonl',
                 split: str | None = None, binary: bool = False, **kwargs):
        if split not in (None, ) + SPLITS:
            raise ValueError(f'split must be one of {SPLITS} or None, got {split!r}')
        self.split = split
        self.binary = binary
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if binary:
            metainfo = dict(seg_metainfo(BINARY_CLASSES), **metainfo)
        super().__init__(data_root=data_root, ann_file=ann_file, metainfo=metainfo, **kwargs)

    def _label_vector(self, row: dict, where: str) -> list[int]:
        labels = row.get('labels') or []
        if not isinstance(labels, list):
            raise ManifestError(f'{where}: "labels" must be a list of finding names, got '
                                f'{labels!r}')
        unknown = [name for name in labels if name not in FINDING_CLASSES]
        if unknown:
            raise ManifestError(f'{where}: unknown findings {unknown}; the phantom classes are '
                                f'{list(FINDING_CLASSES)}')
        return [int(name in labels) for name in FINDING_CLASSES]

    def load_data_list(self) -> list[dict]:
        data_list = []
        label_map = {k: 1 for k in range(1, len(FINDING_CLASSES) + 1)}
        for number, row in read_manifest(self.ann_file):
            where = f'{self.ann_file}:{number}'
            if row.get('modality') != '2d':
                continue
            if self.split is not None and row.get('split') != self.split:
                continue
            if not row.get('path') or not row.get('mask'):
                raise ManifestError(f'{where}: a 2D phantom row needs "path" and "mask"; it has '
                                    f'{sorted(row)}')
            vector = self._label_vector(row, where)
            info = dict(img_path=resolve_path(self.data_root, row['path']),
                        seg_map_path=resolve_path(self.data_root, row['mask']),
                        modality='2d', sample_id=str(row.get('case_id') or row['path']),
                        stratify_label=[int(any(vector))] if self.binary else vector)
            if self.binary:
                info['label_map'] = dict(label_map)
            data_list.append(info)
        if not data_list:
            raise ManifestError(f'{self.ann_file}: no 2D rows with split={self.split!r}')
        return data_list


@DATASETS.register_module()
class PhantomSeg3DDataset(MedBaseDataset):
    """Lesion segmentation on the phantom CTs of a manifest (``tools/data/make_phantoms.py``).

    Reads the manifest's ``'3d'`` rows of ``split``; each needs a ``mask`` (NIfTI, 0
    background, ``k + 1`` for finding ``k`` of :data:`FINDING_CLASSES`). Classes:
    ``('background', *FINDING_CLASSES)``, or with ``binary=True``
    ``('background', 'lesion')``: each sample then carries ``label_map`` (every finding
    -> 1), which ``RemapLabels()`` (no mapping) applies after ``LoadMedicalMask``.

    ``stratify_label`` is the row's multi-hot findings (normal cases all zeros), so label
    fractions keep the mix of findings; ``sample_id`` is the ``case_id``.

    Args:
        ann_file: the manifest (relative to ``data_root`` unless absolute).
        split: ``'train'``, ``'val'``, ``'test'`` or ``None`` (all rows).
        binary: one ``lesion`` class instead of the 7 findings.
        **kwargs: :class:`MedBaseDataset` arguments.
    """

    def __init__(self, ann_file: str = 'manifest.jsonl', split: str | None = None,
                 binary: bool = False, **kwargs):
        if split not in (None, ) + SPLITS:
            raise ValueError(f'split must be one of {SPLITS} or None, got {split!r}')
        self.split = split
        self.binary = binary
        classes = BINARY_CLASSES if binary else PHANTOM_SEG_CLASSES
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if metainfo.get('classes') not in (None, classes, list(classes)):
            raise ValueError(f'PhantomSeg3DDataset(binary={binary}) has the classes {classes}; '
                             f'metainfo gives {metainfo["classes"]}')
        metainfo['classes'] = classes
        super().__init__(ann_file=ann_file, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list[dict]:
        label_map = {k + 1: 1 for k in range(len(FINDING_CLASSES))} if self.binary else None
        data_list = []
        for number, row in read_manifest(self.ann_file):
            if row.get('modality') != '3d' or (self.split and row.get('split') != self.split):
                continue
            where = f'{self.ann_file}:{number}'
            if not row.get('path') or not row.get('mask'):
                raise ManifestError(f'{where}: a 3D phantom row needs "path" and "mask"')
            try:
                labels = _split_list(row.get('labels'))  # a JSON list, or 'a|b' in a CSV
            except ValueError as exc:
                raise ManifestError(f'{where}: labels: {exc}') from exc
            unknown = [name for name in labels if name not in FINDING_CLASSES]
            if unknown:
                raise ManifestError(f'{where}: unknown findings {unknown}')
            multi_hot = [int(name in labels) for name in FINDING_CLASSES]
            info = dict(img_path=resolve_path(self.data_root, row['path']),
                        seg_map_path=resolve_path(self.data_root, row['mask']),
                        modality='3d', case_id=row.get('case_id'),
                        stratify_label=[max(multi_hot)] if self.binary else multi_hot)
            if label_map is not None:
                info['label_map'] = label_map
            data_list.append(info)
        if not data_list:
            raise ManifestError(f'{self.ann_file}: no 3D rows with split={self.split!r}')
        return data_list
