"""Label-efficiency table: the classification configs of one dataset and protocol at
1 / 10 / 100 % labels, pre-trained vs random init, trained and tested one after another.

    python tools/analysis/label_efficiency.py configs/classification/phantom2d \
        --protocol linear --seeds 0 1 2 --work-dir work_dirs/label_efficiency/phantom2d \
        [--pretrained work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth]

Runs ``tools/train.py`` (train, early stopping, test of the best checkpoint) for every
``*_{unimedi,random}_{protocol}_*_{1,10,100}pct.py`` config in the folder and every
``fraction_seed``, then prints the test metric (mean +- std over the seeds) per fraction,
and the gain of pre-training. Existing ``metrics.json`` files are reused (``--rerun`` to
train again). The table is also written to ``<work_dir>/label_efficiency.json``.
"""
import argparse
import json
import os.path as osp
import re
import subprocess
import sys
from glob import glob

import numpy as np

PATTERN = re.compile(r'_(unimedi|random)_(linear|finetune)_\w+?_(\d+)pct\.py$')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('folder', help='a folder of configs/classification')
    parser.add_argument('--protocol', choices=['linear', 'finetune'], default='linear')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0],
                        help='fraction_seed values (the draw of the label subset)')
    parser.add_argument('--metric', default='cls/auc', help='test metric to tabulate')
    parser.add_argument('--work-dir', required=True, help='one sub-folder per run goes here')
    parser.add_argument('--pretrained', help='override model.pretrained.checkpoint')
    parser.add_argument('--rerun', action='store_true', help='train again when metrics exist')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed on to tools/train.py')
    return parser.parse_args(argv)


def find_configs(folder: str, protocol: str) -> list[tuple[str, int, str]]:
    """``(init, percent, path)`` of the matching configs, sorted."""
    found = []
    for path in sorted(glob(osp.join(folder, '*.py'))):
        match = PATTERN.search(path)
        if match and match.group(2) == protocol:
            found.append((match.group(1), int(match.group(3)), path))
    if not found:
        raise SystemExit(f'{folder}: no *_{{unimedi,random}}_{protocol}_*_Npct.py configs')
    return found


def run(config: str, work_dir: str, seed: int, pretrained: str | None, options: list,
        rerun: bool) -> dict:
    metrics_file = osp.join(work_dir, 'metrics.json')
    if rerun or not osp.isfile(metrics_file):
        train = osp.join(osp.dirname(osp.abspath(__file__)), '..', 'train.py')
        cfg_options = [f'train_dataloader.dataset.fraction_seed={seed}', f'randomness.seed={seed}']
        if pretrained and '_unimedi_' in osp.basename(config):
            cfg_options.append(f'model.pretrained.checkpoint={pretrained}')
        command = [sys.executable, train, config, '--work-dir', work_dir,
                   '--cfg-options', *cfg_options, *options]
        print('+', ' '.join(command), flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with open(metrics_file) as f:
        return json.load(f)


def main(argv=None):
    args = parse_args(argv)
    table: dict = {}
    for init, percent, config in find_configs(args.folder, args.protocol):
        for seed in args.seeds:
            name = osp.splitext(osp.basename(config))[0]
            metrics = run(config, osp.join(args.work_dir, f'{name}_seed{seed}'), seed,
                          args.pretrained, args.cfg_options, args.rerun)
            if args.metric not in metrics:
                raise SystemExit(f'{config}: no {args.metric!r} in its metrics '
                                 f'({sorted(metrics)[:8]} ...)')
            table.setdefault(percent, {}).setdefault(init, []).append(metrics[args.metric])
    print(f'\n{args.metric} on the test split ({args.protocol}; mean +- std over fraction '
          f'seeds {args.seeds})')
    print(f'{"labels":>8}  {"pre-trained":>15}  {"random init":>15}  {"gain":>7}')
    for percent in sorted(table):
        row = table[percent]
        cells = []
        for init in ('unimedi', 'random'):
            values = row.get(init)
            cells.append(f'{np.mean(values):.3f} +- {np.std(values):.3f}' if values else '-')
        gain = (f'{np.mean(row["unimedi"]) - np.mean(row["random"]):+.3f}'
                if 'unimedi' in row and 'random' in row else '-')
        print(f'{percent:>7}%  {cells[0]:>15}  {cells[1]:>15}  {gain:>7}')
    out = osp.join(args.work_dir, 'label_efficiency.json')
    with open(out, 'w') as f:
        json.dump({'metric': args.metric, 'protocol': args.protocol, 'seeds': args.seeds,
                   'table': {str(k): v for k, v in table.items()}}, f, indent=2)
    print(f'written to {out}')


if __name__ == '__main__':
    main()
