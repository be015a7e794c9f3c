"""Write the ``CTRateDataset`` manifest of a CT-RATE download.

    python tools/data/prepare_ct_rate.py --root data/ct-rate --out data/ct-rate/manifest.jsonl
    python tools/data/prepare_ct_rate.py --root data/ct-rate --fixed ...   # the v2 *_fixed tree

One row per volume with a report: the findings and impression kept apart (the dataset's
text_field chooses), the 18 predicted abnormality labels, the official valid split as
test, a patient-level val carved from train, the no-chest volumes dropped. v1 rows carry
the spacing and HU rescale of the metadata tables (their NIfTI headers are blank). The
data cannot be redistributed: only this script and the formats ship. See
docs/paper_data.md.
"""
from __future__ import annotations

import argparse
import sys

from unimedi.datasets.prepare import build_ct_rate_rows, write_and_report
from unimedi.utils.cli import prepare_parser, run_prepare


def parse_args(argv=None) -> argparse.Namespace:
    parser = prepare_parser(
        'CT-RATE volumes, reports, labels and metadata -> JSONL manifest',
        root_help='the CT-RATE folder (dataset/, radiology_text_reports/, '
        'multi_abnormality_labels/, metadata/)',
        out_help='manifest to write (.jsonl)', seed_help='seed of the val patients')
    parser.add_argument('--fixed', action='store_true',
                        help='read the v2 dataset/*_fixed trees (corrected headers)')
    parser.add_argument('--val-fraction', type=float, default=0.05,
                        help='share of the train patients held out as val (default 0.05)')
    parser.add_argument('--keep-no-chest', action='store_true',
                        help='keep the volumes of metadata/no_chest_*.txt')
    parser.add_argument('--no-check-files', action='store_true',
                        help='keep rows whose volume file is missing')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_prepare(lambda: write_and_report(*build_ct_rate_rows(
        args.root, fixed=args.fixed, val_fraction=args.val_fraction, seed=args.seed,
        drop_no_chest=not args.keep_no_chest, check_files=not args.no_check_files),
        args.out, args.root, dataset='CTRateDataset'))


if __name__ == '__main__':
    sys.exit(main())
