"""Write an ``ImageReportDataset`` manifest for the BIMCV-COVID19+ chest CTs.

    python tools/data/prepare_bimcv.py --root data/bimcv_covid19_posi \
        --reports sil_reports_en.tsv --out data/bimcv_covid19_posi/manifest.jsonl

CT volumes (mod-ct/*.nii.gz) only, one row each, with the session's report (the English
``report_en`` column unless told otherwise) and a seeded subject-level split; paths
relative to --root. See docs/paper_data.md.
"""
from __future__ import annotations

import argparse
import sys

from unimedi.datasets.prepare import build_bimcv_rows, write_and_report
from unimedi.datasets.prepare.bimcv import (DEFAULT_FRACTIONS, SESSION_COLUMNS,
                                             SPANISH_COLUMN, TRANSLATION_COLUMN)
from unimedi.utils.cli import prepare_parser, run_prepare


def parse_args(argv=None) -> argparse.Namespace:
    parser = prepare_parser(
        'BIMCV-COVID19+ CTs -> JSONL manifest',
        root_help='folder holding the sub-* folders',
        out_help='manifest to write (.jsonl)',
        seed_help='seed of the subject split', fractions=DEFAULT_FRACTIONS,
        fractions_of='the subjects')
    parser.add_argument('--reports', required=True,
                        help='session report table (TSV), absolute or relative to --root')
    parser.add_argument('--report-column', default=TRANSLATION_COLUMN,
                        help='column with the report text to use (English translation)')
    parser.add_argument('--spanish-column', default=SPANISH_COLUMN,
                        help='column with the original Spanish report')
    parser.add_argument('--fallback-to-spanish', action='store_true',
                        help='use the Spanish column where --report-column is missing/empty')
    parser.add_argument('--session-column', default=None,
                        help=f'session id column (default: first of {list(SESSION_COLUMNS)})')
    parser.add_argument('--first-run-only', action='store_true',
                        help='keep one CT volume per session')
    parser.add_argument('--ct-folder', default='mod-ct', help='modality folder of the CTs')
    parser.add_argument('--no-headers', action='store_true',
                        help='write reports without FINDINGS:/IMPRESSION: headers')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_prepare(lambda: write_and_report(*build_bimcv_rows(
        args.root, args.reports, report_column=args.report_column,
        spanish_column=args.spanish_column, session_column=args.session_column,
        fallback_to_spanish=args.fallback_to_spanish, fractions=args.fractions,
        seed=args.seed, first_run_only=args.first_run_only, ct_folder=args.ct_folder,
        with_headers=not args.no_headers), args.out, args.root))


if __name__ == '__main__':
    sys.exit(main())
