"""Evaluate a checkpoint from a config; print the metrics and write <work_dir>/metrics.json."""
import argparse
import json

from mmengine.config import Config

from unimedi.engine.runner import UniMedIRunner
from unimedi.utils.cli import (KeepSpacesDictAction, add_overlay_hook, apply_cli_options,
                               to_builtin, write_metrics)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (evaluate) a unimedi model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--random-init', action='store_true',
                        help='evaluate the randomly initialised model (a baseline) instead '
                        'of a checkpoint')
    parser.add_argument('--work-dir', help='where logs and metrics.json go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--show-dir', help='segmentation: write overlay PNGs of the image, '
                        'ground truth and prediction here (3D: the slices with the most '
                        'foreground)')
    parser.add_argument('--cfg-options', nargs='+', action=KeepSpacesDictAction,
                        help='override config keys, e.g. test_dataloader.batch_size=4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher for distributed testing')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    apply_cli_options(cfg, args.config, args.work_dir, args.cfg_options, args.launcher)
    if (args.checkpoint is None) == (not args.random_init):
        raise SystemExit('give a CHECKPOINT or --random-init (not both)')
    if args.show_dir:
        add_overlay_hook(cfg, args.show_dir)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    runner = UniMedIRunner.from_cfg(cfg)
    metrics = to_builtin(runner.test())
    if runner.rank == 0:
        out = write_metrics(metrics, cfg.work_dir)
        print(json.dumps(metrics, indent=2))
        print(f'metrics written to {out}')


if __name__ == '__main__':
    main()
