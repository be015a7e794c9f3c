"""Write COVIDx ``train_split.txt`` / ``val.txt`` / ``test.txt`` (val drawn by patient).

    python tools/data/prepare_covidx.py --root data/covidx --out data/covidx/splits

COVIDx has no validation list: ``val.txt`` holds --val-fraction of the patients of the
official ``train.txt`` (stratified by class, seeded; MGCA: 10 %), ``train_split.txt`` the
others, and ``test.txt`` is the official test list copied as is. Lines are unchanged.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

from unimedi.datasets.prepare.covidx import split_covidx
from unimedi.utils.cli import prepare_parser, run_prepare


def parse_args(argv=None) -> argparse.Namespace:
    parser = prepare_parser(
        'COVIDx train.txt / test.txt -> train_split.txt, val.txt (patients held out of train.txt) '
        'and test.txt',
        root_help='dataset folder (the data_root)',
        out_help='folder to write the three lists to',
        seed_help='seed of the draw')
    parser.add_argument('--train-list', default='train.txt',
                        help='official train list, absolute or relative to --root')
    parser.add_argument('--test-list', default='test.txt',
                        help='official test list, absolute or relative to --root')
    parser.add_argument('--val-fraction', type=float, default=0.1,
                        help='fraction of the training patients held out for validation')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_prepare(
        lambda: split_covidx(osp.join(args.root, args.train_list),
                             osp.join(args.root, args.test_list), args.out,
                             val_fraction=args.val_fraction, seed=args.seed),
        lambda report: f"load with COVIDxDataset(data_root={args.root!r}, "
        f"ann_file={osp.abspath(report.files['train'])!r}, img_dir='train') "
        "(img_dir='test' for test.txt)")


if __name__ == '__main__':
    sys.exit(main())
