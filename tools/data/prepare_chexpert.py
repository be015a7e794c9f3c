"""Write CheXpert ``train.csv`` / ``val.csv`` / ``test.csv`` (MGCA protocol, patient-level).

    python tools/data/prepare_chexpert.py --root data/chexpert --out data/chexpert/splits

``--root`` is the folder holding ``CheXpert-v1.0-small/`` (the dataset's ``data_root``).
``val.csv`` = the official valid.csv; ``test.csv`` = about --test-size frontal images of
patients held out from the official train.csv (stratified, seeded); ``train.csv`` = the
rest. The files keep CheXpert's CSV format, so ``CheXpertDataset`` reads them:

    CheXpertDataset(data_root='data/chexpert', ann_file='splits/train.csv', ...)
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

from unimedi.datasets.chexpert import COMPETITION_CLASSES
from unimedi.datasets.prepare.chexpert import split_chexpert
from unimedi.utils.cli import prepare_parser, run_prepare


def parse_args(argv=None) -> argparse.Namespace:
    parser = prepare_parser(
        'CheXpert official train.csv / valid.csv -> train/val/test CSVs (val = official valid.csv,'
        ' test = patients held out from train.csv)',
        root_help='folder holding CheXpert-v1.0-small/ (the data_root)',
        out_help='folder to write the three CSVs to',
        seed_help='seed of the held-out draw')
    parser.add_argument('--train-csv', default='CheXpert-v1.0-small/train.csv',
                        help='official train.csv, absolute or relative to --root')
    parser.add_argument('--valid-csv', default='CheXpert-v1.0-small/valid.csv',
                        help='official valid.csv, absolute or relative to --root')
    parser.add_argument('--test-size', type=int, default=5000,
                        help='frontal train images to hold out as test (about; whole '
                        'patients are moved)')
    parser.add_argument('--classes', nargs='+', default=list(COMPETITION_CLASSES),
                        help='observations to stratify the held-out patients by')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_prepare(
        lambda: split_chexpert(osp.join(args.root, args.train_csv),
                               osp.join(args.root, args.valid_csv), args.out,
                               test_size=args.test_size, seed=args.seed, classes=args.classes),
        lambda report: f"load with CheXpertDataset(data_root={args.root!r}, "
        f"ann_file={osp.abspath(report.files['train'])!r})")


if __name__ == '__main__':
    sys.exit(main())
