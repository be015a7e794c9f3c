"""``CTRateDataset``: CT-RATE chest CTs with their reports and 18 abnormality labels."""
from __future__ import annotations

from mmengine.logging import MMLogger

from unimedi.registry import DATASETS
from .manifest_dataset import ImageReportDataset

#: the 18 abnormalities of CT-RATE's multi_abnormality_labels, in the files' column order
CT_RATE_CLASSES = (
    'Medical material', 'Arterial wall calcification', 'Cardiomegaly', 'Pericardial effusion',
    'Coronary artery wall calcification', 'Hiatal hernia', 'Lymphadenopathy', 'Emphysema',
    'Atelectasis', 'Lung nodule', 'Lung opacity', 'Pulmonary fibrotic sequela',
    'Pleural effusion', 'Mosaic attenuation pattern', 'Peribronchial thickening',
    'Consolidation', 'Bronchiectasis', 'Interlobular septal thickening')
TEXT_FIELDS = ('findings', 'impression', 'both')


@DATASETS.register_module()
class CTRateDataset(ImageReportDataset):
    """CT-RATE volumes from the manifest of ``tools/data/prepare_ct_rate.py``.

    Each row keeps the report's findings and impression apart; ``text_field`` chooses the
    text the model reads (CT-CLIP trains on the findings alone). The labels are the 18
    abnormalities of ``CT_RATE_CLASSES``, predicted from the reports by a text classifier
    (not read by radiologists). v1 rows carry ``override_spacing`` / ``override_rescale``
    for ``OverrideHeader`` (their NIfTI headers are blank).

    Splits: ``train`` and ``val`` (patients carved from the official train split), ``test``
    (the official valid split).

    Args:
        ann_file: the manifest (default ``manifest.jsonl`` under ``data_root``).
        text_field: ``'findings'``, ``'impression'`` or ``'both'`` (``FINDINGS: ...
            IMPRESSION: ...``).
        unique_reports: keep one volume per distinct report text (the first), as the
            retrieval protocol of CT-CLIP's peers does (1,493 pairs on the valid split).
        **kwargs: :class:`ImageReportDataset` arguments (``split``, ``data_root``,
            ``pipeline``, ``data_fraction``...).
    """

    METAINFO = dict(classes=CT_RATE_CLASSES)

    def __init__(self, ann_file: str = 'manifest.jsonl', text_field: str = 'findings',
                 unique_reports: bool = False, **kwargs):
        if text_field not in TEXT_FIELDS:
            raise ValueError(f'text_field must be one of {TEXT_FIELDS}, got {text_field!r}')
        self.text_field = text_field
        self.unique_reports = unique_reports
        kwargs.setdefault('modalities', ('3d', ))
        super().__init__(ann_file=ann_file, **kwargs)

    def _parse_row(self, row: dict, where: str, classes: tuple) -> dict:
        info = super()._parse_row(row, where, classes)
        # the sections stay out of the sample: ParseReport would read them before ``report``
        findings = str(info.pop('findings', None) or '').strip()
        impression = str(info.pop('impression', None) or '').strip()
        if self.text_field == 'findings':
            info['report'] = findings
        elif self.text_field == 'impression':
            info['report'] = impression
        else:
            info['report'] = ' '.join(part for part in (
                f'FINDINGS: {findings}' if findings else '',
                f'IMPRESSION: {impression}' if impression else '') if part)
        return info

    def load_data_list(self) -> list[dict]:
        data_list = super().load_data_list()
        if not self.unique_reports:
            return data_list
        seen, kept = set(), []
        for info in data_list:
            text = ' '.join(str(info.get('report') or '').split()).lower()
            if text not in seen:
                seen.add(text)
                kept.append(info)
        MMLogger.get_current_instance().info(
            f'{self.ann_file}: {len(kept)} of {len(data_list)} volumes kept, one per distinct '
            f'{self.text_field} text')
        return kept
