"""Converters: official dataset layouts -> the files unimedi's datasets read.

Pure functions, no registry. Each returns (or comes with) a :class:`PrepareSummary` of what
it wrote, kept and skipped; the ``tools/data/prepare_*.py`` scripts print it.

- pre-training manifests (``ImageReportDataset`` JSONL rows, paths relative to the dataset
  root): :func:`build_mimic_cxr_rows`, :func:`build_bimcv_rows`, :func:`build_ct_rate_rows`,
  :func:`write_manifest`;
- downstream classification splits: :func:`split_chexpert`, :func:`split_rsna_pneumonia`,
  :func:`split_covidx`, :func:`prepare_cc_ccii` (slice folders -> NIfTI volumes);
- 2D segmentation masks and split lists: :func:`prepare_siim`, :func:`prepare_rsna_seg`.

The split draws themselves live in ``unimedi.datasets.splits``. See ``docs/paper_data.md``
and ``docs/downstream.md``.
"""
from ..splits import subject_splits
from .bimcv import build_bimcv_rows, find_ct_volumes, read_session_reports
from .cc_ccii import find_cc_ccii_scans, prepare_cc_ccii
from .chexpert import split_chexpert
from .covidx import split_covidx
from .ct_rate import build_ct_rate_rows
from .manifest import write_and_report, write_manifest
from .mimic_cxr import (build_mimic_cxr_rows, read_chexpert_labels, read_report_file,
                        read_sectioned_reports)
from .rsna_pneumonia import read_rsna_labels, split_rsna_pneumonia
from .rsna_seg import prepare_rsna_seg
from .siim_seg import prepare_siim
from .summary import PrepareSummary

__all__ = [
    'PrepareSummary', 'write_and_report', 'write_manifest', 'build_bimcv_rows',
    'build_mimic_cxr_rows', 'find_ct_volumes', 'read_chexpert_labels', 'read_report_file',
    'read_sectioned_reports', 'read_session_reports', 'subject_splits', 'split_chexpert',
    'split_covidx', 'split_rsna_pneumonia', 'read_rsna_labels', 'prepare_cc_ccii',
    'find_cc_ccii_scans', 'prepare_siim', 'prepare_rsna_seg', 'build_ct_rate_rows'
]
