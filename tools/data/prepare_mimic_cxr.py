"""Write an ``ImageReportDataset`` manifest for MIMIC-CXR 2.0 (MIMIC-CXR-JPG layout).

    python tools/data/prepare_mimic_cxr.py --root data/mimic-cxr-jpg \
        --out data/mimic-cxr-jpg/manifest.jsonl [--sectioned-csv mimic_cxr_sectioned.csv]

Frontal (PA/AP) images only; report = findings + impression; paths relative to --root.
See docs/paper_data.md.
"""
from __future__ import annotations

import argparse
import sys

from unimedi.datasets.prepare import build_mimic_cxr_rows, write_and_report
from unimedi.datasets.prepare.mimic_cxr import DEFAULT_VIEWS, UNCERTAIN_POLICIES
from unimedi.utils.cli import prepare_parser, run_prepare


def parse_args(argv=None) -> argparse.Namespace:
    parser = prepare_parser(
        'MIMIC-CXR-JPG -> JSONL manifest',
        root_help='dataset root (tables and files/)',
        out_help='manifest to write (.jsonl)',
        seed_help=None)
    parser.add_argument('--split-csv', help='default: mimic-cxr-2.0.0-split.csv(.gz) in root')
    parser.add_argument('--metadata-csv',
                        help='default: mimic-cxr-2.0.0-metadata.csv(.gz) in root')
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--sectioned-csv', help='mimic_cxr_sectioned.csv (default: that '
                        'file in root when present)')
    source.add_argument('--reports-dir', help='folder of p10/p10000032/s50414267.txt '
                        'report files (default: --image-dir)')
    parser.add_argument('--labels', action='store_true',
                        help='add CheXpert labels from mimic-cxr-2.0.0-chexpert.csv(.gz)')
    parser.add_argument('--chexpert-csv', help='CheXpert label table (implies --labels)')
    parser.add_argument('--uncertain', choices=UNCERTAIN_POLICIES, default='negative',
                        help='CheXpert -1.0 (uncertain) counts as this')
    parser.add_argument('--views', nargs='+', default=list(DEFAULT_VIEWS),
                        help='ViewPosition values to keep')
    parser.add_argument('--image-dir', default='files', help='image folder under root')
    parser.add_argument('--image-ext', default='.jpg', help='image suffix')
    parser.add_argument('--no-check-images', action='store_true',
                        help='do not skip rows whose image file is missing')
    parser.add_argument('--use-last-paragraph', action='store_true',
                        help='sectioned CSV: use last_paragraph when findings and '
                        'impression are both empty')
    parser.add_argument('--no-headers', action='store_true',
                        help='write reports without FINDINGS:/IMPRESSION: headers')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_prepare(lambda: write_and_report(*build_mimic_cxr_rows(
        args.root, split_csv=args.split_csv, metadata_csv=args.metadata_csv,
        sectioned_csv=args.sectioned_csv, reports_dir=args.reports_dir,
        chexpert_csv=args.chexpert_csv, with_labels=args.labels, views=args.views,
        image_dir=args.image_dir, image_ext=args.image_ext,
        check_images=not args.no_check_images,
        use_last_paragraph=args.use_last_paragraph, uncertain=args.uncertain,
        with_headers=not args.no_headers), args.out, args.root))


if __name__ == '__main__':
    sys.exit(main())
