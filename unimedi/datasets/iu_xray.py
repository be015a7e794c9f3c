"""``IUXrayDataset``: the Indiana University chest X-ray reports (Open-i XML)."""
from __future__ import annotations

import os
import os.path as osp
import tarfile
from typing import Iterator

from mmengine.logging import MMLogger

from unimedi.io.reports import parse_iu_xml
from unimedi.registry import DATASETS
from .base_dataset import MedBaseDataset


def iter_iu_xml(source: str) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, xml_bytes)`` for every ``.xml`` in a ``.tgz``/``.tar.gz`` or a folder.

    Members are read from the archive without extracting it, in name order.
    """
    if osp.isdir(source):
        for name in sorted(os.listdir(source)):
            if name.endswith('.xml'):
                with open(osp.join(source, name), 'rb') as f:
                    yield osp.join(source, name), f.read()
        return
    if not osp.isfile(source):
        raise FileNotFoundError(f'{source}: IU X-ray reports not found')
    try:
        with tarfile.open(source, 'r:*') as archive:
            members = sorted((m for m in archive.getmembers()
                              if m.isfile() and m.name.endswith('.xml')), key=lambda m: m.name)
            for member in members:
                handle = archive.extractfile(member)
                if handle is not None:
                    yield f'{source}:{member.name}', handle.read()
    except tarfile.TarError as exc:
        raise ValueError(f'{source}: not a readable tar archive ({exc})') from exc


@DATASETS.register_module()
class IUXrayDataset(MedBaseDataset):
    """Reports of the IU X-ray collection (``NLMCXR_reports.tgz`` or its extracted folder).

    Without ``img_dir`` each sample is one report (text only: for report parsing and text
    pre-training). With ``img_dir`` each sample is one image of a report
    (``{img_dir}/{image_id}{img_suffix}``), modality ``'2d'``, paired with its report.

    Sample fields: ``report_id``, ``findings``, ``impression``, ``comparison``,
    ``indication``, ``image_ids``, ``mesh_major``, ``report`` (findings and impression with
    their headers, for ``ParseReport``); with images also ``img_path`` and ``modality``.

    Args:
        ann_file: the ``.tgz`` archive or a folder of XML files.
        img_dir: folder of the images (optional).
        img_suffix: image file suffix.
        skip_empty: drop (and log) reports without findings and impression.
        skip_missing_images: drop (and log) images not found in ``img_dir`` instead of
            raising.
    """

    METAINFO = dict(classes=())

    def __init__(self, ann_file: str, img_dir: str | None = None, img_suffix: str = '.png',
                 skip_empty: bool = True, skip_missing_images: bool = False, **kwargs):
        self.img_dir = img_dir
        self.img_suffix = img_suffix
        self.skip_empty = skip_empty
        self.skip_missing_images = skip_missing_images
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> list[dict]:
        logger = MMLogger.get_current_instance()
        data_list, empty, missing = [], [], []
        for name, xml in iter_iu_xml(self.ann_file):
            report = parse_iu_xml(xml, name)
            if not (report['findings'] or report['impression']):
                if not self.skip_empty:
                    raise ValueError(f'{name}: report has neither findings nor impression')
                empty.append(report['report_id'])
                continue
            report['report'] = (f"FINDINGS: {report['findings']}\n"
                                f"IMPRESSION: {report['impression']}")
            if self.img_dir is None:
                data_list.append(report)
                continue
            for image_id in report['image_ids']:
                path = osp.join(self.img_dir, image_id + self.img_suffix)
                if not osp.isfile(path):
                    if not self.skip_missing_images:
                        raise FileNotFoundError(f'{path}: image of report {name} not found')
                    missing.append(path)
                    continue
                data_list.append(dict(report, img_path=path, modality='2d', image_id=image_id))
        if empty:
            logger.warning(f'{self.ann_file}: skipped {len(empty)} reports without findings '
                           'and impression')
        if missing:
            logger.warning(f'{self.ann_file}: skipped {len(missing)} images not found, '
                           f'e.g. {missing[0]}')
        return data_list
