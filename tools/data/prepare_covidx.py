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

from unimedi.datasets.covidx import split_covidx


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='COVIDx train.txt / test.txt -> train_split.txt, val.txt (patients '
        'held out of train.txt) and test.txt')
    parser.add_argument('--root', required=True, help='dataset folder (the data_root)')
    parser.add_argument('--out', required=True, help='folder to write the three lists to')
    parser.add_argument('--train-list', default='train.txt',
                        help='official train list, absolute or relative to --root')
    parser.add_argument('--test-list', default='test.txt',
                        help='official test list, absolute or relative to --root')
    parser.add_argument('--val-fraction', type=float, default=0.1,
                        help='fraction of the training patients held out for validation')
    parser.add_argument('--seed', type=int, default=0, help='seed of the draw')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        report = split_covidx(osp.join(args.root, args.train_list),
                              osp.join(args.root, args.test_list), args.out,
                              val_fraction=args.val_fraction, seed=args.seed)
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print(report.format())
    print(f"load with COVIDxDataset(data_root={args.root!r}, "
          f"ann_file={osp.abspath(report.files['train'])!r}, img_dir='train') "
          "(img_dir='test' for test.txt)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
