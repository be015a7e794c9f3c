"""Train a model from a config: parse args -> merge into the config -> Runner -> train().

With ``test_after_train = True`` in the config (the downstream protocols), the best
checkpoint of the run (``CheckpointHook(save_best=...)``, else the last) is then evaluated
on the test split and the metrics go to ``<work_dir>/metrics.json``.
"""
import argparse
import json

from mmengine.config import Config

from unimedi.engine.runner import UniMedIRunner
from unimedi.utils.cli import (KeepSpacesDictAction, apply_cli_options, best_checkpoint, to_builtin,
                               write_metrics)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a unimedi model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from a checkpoint; without a value, from the latest '
                        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: bf16 autocast where the device has bf16 (CPUs, '
                        'GPUs from Ampere on), else fp16 AMP with loss scaling')
    parser.add_argument('--cfg-options', nargs='+', action=KeepSpacesDictAction,
                        help='override config keys, e.g. train_cfg.max_iters=10')
    parser.add_argument('--no-test', action='store_true',
                        help='skip the test of the best checkpoint after training (configs '
                        'with test_after_train = True)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher for distributed training')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def merge_args(cfg: Config, args) -> Config:
    apply_cli_options(cfg, args.config, args.work_dir, args.cfg_options, args.launcher)
    if args.amp:
        import torch
        # emulated bf16 (V100, T4) is slower than fp16 AMP
        if torch.cuda.is_available() and not torch.cuda.is_bf16_supported(
                including_emulation=False):
            cfg.optim_wrapper.type = 'AmpOptimWrapper'  # fp16 needs loss scaling
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:  # bf16 keeps fp32's range: no loss scaling (and MMEngine's AMP refuses CPUs)
            cfg.optim_wrapper.type = 'AutocastOptimWrapper'
            cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def build_runner(cfg: Config):
    """``UniMedIRunner``; MMEngine's ``FlexibleRunner`` for configs with a ``strategy``
    (FSDP, DeepSpeed: ``configs/unimedi/vit_l_pretrain_fsdp.py``)."""
    if cfg.get('strategy') is not None:
        from mmengine.runner import FlexibleRunner
        return FlexibleRunner.from_cfg(cfg)
    return UniMedIRunner.from_cfg(cfg)


def main():
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    runner = build_runner(cfg)
    runner.train()
    if cfg.get('test_after_train', False) and not args.no_test:
        test_best(runner)
    leave_process_group()


def leave_process_group() -> None:
    """Wait for every rank, then close the process group: a rank that exits first (node
    0 holds the rendezvous store) must not take the store away from ranks still closing."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def test_best(runner) -> dict:
    """Evaluate the run's best checkpoint on the test split; write metrics.json."""
    checkpoint = best_checkpoint(runner)
    if checkpoint is None:
        raise SystemExit('test_after_train: the run saved no checkpoint to test')
    runner.logger.info(f'testing the best checkpoint {checkpoint}')
    runner.load_checkpoint(checkpoint)
    metrics = to_builtin(runner.test())
    if runner.rank == 0:
        out = write_metrics(metrics, runner.work_dir, extra=dict(checkpoint=checkpoint))
        print(json.dumps(metrics, indent=2))
        print(f'test metrics of {checkpoint} written to {out}')
    return metrics


if __name__ == '__main__':
    main()
