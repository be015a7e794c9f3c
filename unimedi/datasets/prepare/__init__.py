"""Paper data adapters: official dataset layouts -> ``ImageReportDataset`` manifest rows.

Pure functions, no registry: each ``build_*_rows`` returns ``(rows, summary)`` where the
rows carry paths relative to the dataset root (so ``data_root=<root>`` works) and the
summary counts rows per split and every skipped item by reason. ``write_manifest`` writes
the rows as JSONL. See ``docs/paper_data.md``.
"""
from ..splits import subject_splits
from .bimcv import build_bimcv_rows, find_ct_volumes, read_session_reports
from .common import AdapterSummary, write_and_report, write_manifest
from .mimic_cxr import (build_mimic_cxr_rows, read_chexpert_labels, read_report_file,
                        read_sectioned_reports)

__all__ = [
    'AdapterSummary', 'write_and_report', 'build_bimcv_rows', 'build_mimic_cxr_rows',
    'find_ct_volumes',
    'read_chexpert_labels', 'read_report_file', 'read_sectioned_reports',
    'read_session_reports', 'subject_splits', 'write_manifest'
]
