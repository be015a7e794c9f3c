"""Write RSNA Pneumonia ``train.csv`` / ``val.csv`` / ``test.csv`` (MGCA: 70/15/15).

    python tools/data/prepare_rsna_pneumonia.py --root data/rsna_pneumonia \
        --out data/rsna_pneumonia/splits

Reads the official ``stage_2_train_labels.csv`` (``patientId,x,y,width,height,Target``,
one row per box) and writes one row per patient, ``patientId,Target,boxes`` with
``boxes`` a JSON list of ``[x, y, w, h]``; the split is stratified by Target and seeded.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

from unimedi.datasets.splits import check_fractions
from unimedi.datasets.prepare.rsna_pneumonia import MGCA_FRACTIONS, split_rsna_pneumonia
from unimedi.utils.cli import prepare_parser, run_prepare


def parse_args(argv=None) -> argparse.Namespace:
    parser = prepare_parser(
        'RSNA Pneumonia stage_2_train_labels.csv -> train/val/test CSVs (patientId,Target,boxes), '
        'stratified by Target',
        root_help='dataset folder (the data_root)',
        out_help='folder to write the three CSVs to',
        seed_help='seed of the split', fractions=MGCA_FRACTIONS)
    parser.add_argument('--labels-csv', default='stage_2_train_labels.csv',
                        help='official label table, absolute or relative to --root')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_prepare(
        lambda: split_rsna_pneumonia(osp.join(args.root, args.labels_csv), args.out,
                                     fractions=check_fractions(args.fractions), seed=args.seed),
        lambda report: f"load with RSNAPneumoniaDataset(data_root={args.root!r}, "
        f"ann_file={osp.abspath(report.files['train'])!r})")


if __name__ == '__main__':
    sys.exit(main())
