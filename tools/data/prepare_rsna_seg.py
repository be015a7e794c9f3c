"""Write RSNA Pneumonia segmentation masks (the boxes) and split lists.

    python tools/data/prepare_rsna_seg.py --root data/rsna_pneumonia

The samples and their split are those of the classification split files
(``<root>/splits/{train,val,test}.csv``, ``patientId,Target,boxes``, written by
``tools/data/prepare_rsna_pneumonia.py``; made here with the same function, defaults and
seed when absent). Writes ``<out>/masks/<patientId>.png`` (0 background, 1 inside a box,
the DICOM's size) and ``<out>/splits/{train,val,test}.txt`` (``<patientId>\\t<Target>``).
The images stay DICOM (``configs/_base_/datasets/seg_rsna.py``).
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

from unimedi.datasets.prepare.rsna_pneumonia import split_rsna_pneumonia
from unimedi.datasets.prepare.rsna_seg import RSNA_SPLITS, prepare_rsna_seg
from unimedi.utils.cli import prepare_parser, run_prepare


def parse_args(argv=None) -> argparse.Namespace:
    parser = prepare_parser(
        'RSNA Pneumonia boxes -> 0/1 mask PNGs and split lists (the splits of the classification '
        'task)',
        root_help='dataset folder (the data_root)',
        out_help='output folder (default: <root>/seg)',
        out_default='<root>/seg',
        seed_help='seed of the split, when it has to be made')
    parser.add_argument('--splits', default='splits',
                        help='folder of the classification split CSVs, absolute or relative '
                        'to --root')
    parser.add_argument('--img-dir', default='stage_2_train_images',
                        help='DICOM folder, absolute or relative to --root')
    parser.add_argument('--labels-csv', default='stage_2_train_labels.csv',
                        help='official label table, used to make the split CSVs when absent')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    splits_dir = osp.join(args.root, args.splits)
    out = args.out or osp.join(args.root, 'seg')

    def prepare():
        if not all(osp.isfile(osp.join(splits_dir, f'{s}.csv')) for s in RSNA_SPLITS):
            print(f'{splits_dir}: no split CSVs; making them as prepare_rsna_pneumonia.py does')
            print(split_rsna_pneumonia(osp.join(args.root, args.labels_csv), splits_dir,
                                       seed=args.seed).format())
        return prepare_rsna_seg(splits_dir, osp.join(args.root, args.img_dir), out)

    return run_prepare(
        prepare, f'load with configs/_base_/datasets/seg_rsna.py (data_root={args.root!r}, '
        f'mask_dir and split_file under {out!r})')


if __name__ == '__main__':
    sys.exit(main())
