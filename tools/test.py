"""Evaluate a checkpoint from a config; print the metrics and write <work_dir>/metrics.json."""
import argparse
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from unimedi.utils.cli import apply_cli_options


def parse_args():
    parser = argparse.ArgumentParser(description='Test (evaluate) a unimedi model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--random-init', action='store_true',
                        help='evaluate the randomly initialised model (a baseline) instead '
                        'of a checkpoint')
    parser.add_argument('--work-dir', help='where logs and metrics.json go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. test_dataloader.batch_size=4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher for distributed testing')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def to_builtin(value):
    """Metrics as JSON-friendly Python values (numpy / torch scalars -> float)."""
    if isinstance(value, dict):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if hasattr(value, 'tolist'):
        return value.tolist()
    return value


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    apply_cli_options(cfg, args.config, args.work_dir, args.cfg_options, args.launcher)
    if (args.checkpoint is None) == (not args.random_init):
        raise SystemExit('give a CHECKPOINT or --random-init (not both)')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    runner = Runner.from_cfg(cfg)
    metrics = to_builtin(runner.test())
    if runner.rank == 0:
        os.makedirs(cfg.work_dir, exist_ok=True)
        out = osp.join(cfg.work_dir, 'metrics.json')
        with open(out, 'w') as f:
            json.dump(metrics, f, indent=2)
        print(json.dumps(metrics, indent=2))
        print(f'metrics written to {out}')


if __name__ == '__main__':
    main()
