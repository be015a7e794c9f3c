"""A toy run with unimedi's runtime (its default hooks, UniMedIRunner): a linear model whose
loss draws random numbers (like random slice selection), trained on random vectors. It
builds in a second, so the checkpoint, resume and NaN tests can train for real.

Run as a script it trains in its own process (for the kill and disk-limit tests):
``python tests/fakes/toy_training.py WORK_DIR MAX_ITERS [--resume] [--die-on-file-limit]``;
``--die-on-file-limit`` restores the default action of ``SIGXFSZ`` (Python ignores it), so
a write past ``RLIMIT_FSIZE`` kills the process mid-write instead of failing with EFBIG.
"""
from __future__ import annotations

import signal
import sys
import uuid
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from torch.utils.data import Dataset

REPO_ROOT = Path(__file__).resolve().parents[2]
WIDTH = 192  # weights + AdamW moments: a checkpoint of about 0.9 MB


class ToyDataset(Dataset):
    """``length`` random vectors of ``WIDTH``; ``nan_at`` holds NaN."""

    def __init__(self, length: int = 64, nan_at: int | None = None):
        generator = torch.Generator().manual_seed(0)
        self.data = torch.randn(length, WIDTH, generator=generator)
        if nan_at is not None:
            self.data[nan_at] = float('nan')

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return dict(inputs=self.data[index], data_samples=dict(img_path=f'toy_{index}.png'))


class ToyModel(BaseModel):
    """``loss = mean((W x) * r)`` with ``r`` drawn from torch's generator every step."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(WIDTH, WIDTH)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        if mode == 'loss':
            noise = torch.rand_like(out)
            return dict(loss=((out * noise) ** 2).mean())
        return out


class _Sample:
    def __init__(self, img_path):
        self.metainfo = dict(img_path=img_path)


def collate(batch):
    return dict(inputs=torch.stack([b['inputs'] for b in batch]),
                data_samples=[_Sample(b['data_samples']['img_path']) for b in batch])


def toy_config(work_dir, max_iters: int, resume: bool = False, max_keep_ckpts: int = 1) -> Config:
    """unimedi's default runtime around the toy model: a checkpoint every iteration."""
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/_base_/default_runtime.py'))
    cfg.merge_from_dict(dict(
        work_dir=str(work_dir), experiment_name=f'toy_{uuid.uuid4().hex[:8]}',
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2)),
        default_hooks=dict(checkpoint=dict(interval=1, by_epoch=False,
                                           max_keep_ckpts=max_keep_ckpts),
                           logger=dict(interval=1)),
        log_processor=dict(window_size=1), resume=resume, launcher='none'))
    return cfg


def toy_runner(work_dir, max_iters: int, resume: bool = False, nan_at: int | None = None,
               max_keep_ckpts: int = 1):
    from unimedi.engine.runner import UniMedIRunner
    cfg = toy_config(work_dir, max_iters, resume, max_keep_ckpts)
    loader = dict(dataset=ToyDataset(nan_at=nan_at), batch_size=4, num_workers=0,
                  sampler=dict(type='InfiniteSampler', shuffle=True), collate_fn=collate)
    torch.manual_seed(0)  # the model is built here, before the runner seeds the run
    return UniMedIRunner(
        model=ToyModel(), work_dir=cfg.work_dir, experiment_name=cfg.experiment_name,
        train_dataloader=loader, train_cfg=cfg.train_cfg, optim_wrapper=cfg.optim_wrapper,
        default_hooks=cfg.default_hooks, default_scope=cfg.default_scope,
        log_processor=cfg.log_processor, env_cfg=cfg.env_cfg, resume=resume,
        randomness=cfg.randomness, launcher='none',
        cfg=dict(cfg.to_dict(), model=dict(type='ToyModel')))


if __name__ == '__main__':
    if '--die-on-file-limit' in sys.argv:
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    toy_runner(sys.argv[1], int(sys.argv[2]), resume='--resume' in sys.argv).train()
