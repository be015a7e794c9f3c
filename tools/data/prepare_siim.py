"""Write SIIM-ACR Pneumothorax masks and train / val / test lists (70 / 15 / 15).

    python tools/data/prepare_siim.py --root data/siim

Reads the Kaggle ``train-rle.csv`` (``ImageId, EncodedPixels``; ``-1`` = no pneumothorax;
several rows of one image are unioned; column-major run-length encoding with relative
starts) and the DICOM tree (``dicom-images-train/<study>/<series>/<ImageId>.dcm``, found by
file name anywhere under it). Writes ``<out>/masks/<study>/<series>/<ImageId>.png`` (0
background, 1 pneumothorax, the DICOM's size) and ``<out>/splits/{train,val,test}.txt``
(``<study>/<series>/<ImageId>\\t<0|1>``): a seeded split by patient (DICOM PatientID),
stratified by "has pneumothorax". The images stay DICOM: the pipeline reads them with
their window (``configs/_base_/datasets/seg_siim.py``).
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

from unimedi.datasets.splits import check_fractions
from unimedi.datasets.prepare.siim_seg import SIIM_FRACTIONS, prepare_siim
from unimedi.utils.cli import prepare_parser, run_prepare


def parse_args(argv=None) -> argparse.Namespace:
    parser = prepare_parser(
        'SIIM-ACR train-rle.csv + DICOMs -> 0/1 mask PNGs and split lists',
        root_help='dataset folder (the data_root)',
        out_help='output folder (default: <root>/prepared)',
        out_default='<root>/prepared',
        seed_help='seed of the split', fractions=SIIM_FRACTIONS)
    parser.add_argument('--rle-csv', default='train-rle.csv',
                        help='the Kaggle RLE table, absolute or relative to --root')
    parser.add_argument('--dicom-dir', default='dicom-images-train',
                        help='the DICOM tree, absolute or relative to --root')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out or osp.join(args.root, 'prepared')
    return run_prepare(
        lambda: prepare_siim(osp.join(args.root, args.rle_csv),
                             osp.join(args.root, args.dicom_dir), out,
                             fractions=check_fractions(args.fractions), seed=args.seed),
        f'load with configs/_base_/datasets/seg_siim.py (data_root={args.root!r}, '
        f'mask_dir and split_file under {out!r})')


if __name__ == '__main__':
    sys.exit(main())
