"""Stack CC-CCII slice folders into NIfTI volumes and write ``cc_ccii.csv`` with splits.

    python tools/data/prepare_cc_ccii.py --root data/cc_ccii_raw --out data/cc_ccii \
        [--spacing 1 1 1] [--min-slices 16] [--workers 8]

Raw layout ``<root>/{NCP,CP,Normal}/<patient_id>/<scan_id>/<slices .png/.jpg>``. Each scan
becomes ``<out>/volumes/<class>/<patient_id>/<scan_id>.nii.gz`` (slices sorted by the
last integer in their names, uint8 grey levels, affine diag(spacing): CC-CCII has no
spacing). The ``split`` column is a patient-level split stratified by class (70/10/20).
"""
from __future__ import annotations

import argparse
import sys

from unimedi.datasets.prepare.cc_ccii import DEFAULT_FRACTIONS, prepare_cc_ccii
from unimedi.datasets.splits import check_fractions
from unimedi.utils.cli import prepare_parser, run_prepare


def parse_args(argv=None) -> argparse.Namespace:
    parser = prepare_parser(
        'CC-CCII slice folders -> NIfTI volumes + cc_ccii.csv '
        '(path,label,patient_id,scan_id,split)',
        root_help='folder holding NCP/, CP/ and Normal/',
        out_help='output folder (volumes/ and cc_ccii.csv; the data_root)',
        seed_help='seed of the split', fractions=DEFAULT_FRACTIONS)
    parser.add_argument('--min-slices', type=int, default=16,
                        help='skip (with a warning) scans with fewer slices')
    parser.add_argument('--spacing', nargs=3, type=float, default=[1.0, 1.0, 1.0],
                        metavar=('COL', 'ROW', 'SLICE'),
                        help='voxel size in mm written in the affine (CC-CCII has none)')
    parser.add_argument('--workers', type=int, default=1, help='parallel conversions')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_prepare(
        lambda: prepare_cc_ccii(args.root, args.out, fractions=check_fractions(args.fractions),
                                seed=args.seed, min_slices=args.min_slices,
                                spacing=args.spacing, workers=args.workers,
                                progress=not args.no_progress),
        f"load with CCCIIDataset(data_root={args.out!r}, ann_file='cc_ccii.csv', split='train')")


if __name__ == '__main__':
    sys.exit(main())
