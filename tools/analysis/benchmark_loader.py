"""How fast the 3D data loader feeds training: uncached vs cached preprocessing.

Two workloads, each through MMEngine-style pipelines in a torch ``DataLoader`` with 0, 1
and 2 worker processes:

- **demo**: phantom CTs (written here, as ``tools/data/make_phantoms.py`` writes them)
  through the demo's CT preprocessing (load, lung window, resize to 32 x 64 x 64; the prefix
  ``configs/_base_/datasets/phantom_pretrain.py`` caches), printed beside the samples/s of
  the demo's own 3D train step (``configs/unimedi/vit_tiny_pretrain_phantom.py``, a batch
  of CTs only) on the same machine;
- **bcv**: synthetic CTs of a BCV-sized grid (512 x 512 x 130 voxels at 0.78 x 0.78 x 2.5 mm,
  int16, gzipped NIfTI) through the BCV recipe (resample to 2 x 1.5 x 1.5 mm, abdomen
  window) and ``MultiSample`` with 4 random 96^3 crops per loaded volume
  (``configs/_base_/datasets/seg_bcv.py``).

Uncached, every draw reads, resamples and windows the file again; cached
(``CachedTransforms``, a disk cache filled by an untimed first pass) it reads the
preprocessed array. Rates are volumes (loads) per second and training samples (crops) per
second over ``--draws`` draws per setting.

    python tools/analysis/benchmark_loader.py                 # both workloads
    python tools/analysis/benchmark_loader.py --workloads bcv --volumes 2 --draws 6
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DEMO_CONFIG = REPO_ROOT / 'configs' / 'unimedi' / 'vit_tiny_pretrain_phantom.py'
BCV_SHAPE_XYZ, BCV_SPACING = (512, 512, 130), (0.78, 0.78, 2.5)


def write_bcv_like(folder: Path, count: int, shape_xyz=BCV_SHAPE_XYZ,
                   spacing=BCV_SPACING) -> list[str]:
    """``count`` synthetic CTs (a body ellipse of soft tissue with noise, air around)."""
    import nibabel as nib

    folder.mkdir(parents=True, exist_ok=True)
    x, y = np.meshgrid(np.linspace(-1, 1, shape_xyz[0]), np.linspace(-1, 1, shape_xyz[1]),
                       indexing='ij')
    body = (x / 0.9)**2 + (y / 0.7)**2 < 1
    paths = []
    for index in range(count):
        rng = np.random.default_rng(index)
        volume = np.full(shape_xyz, -1000, np.int16)
        tissue = rng.normal(40, 30, shape_xyz).astype(np.int16)
        volume[body] = tissue[body]
        path = folder / f'bcv_like_{index}.nii.gz'
        nib.save(nib.Nifti1Image(volume, np.diag([*spacing, 1.0])), str(path))
        paths.append(str(path))
    return paths


def write_demo_cts(folder: Path, count: int) -> list[str]:
    """``count`` phantom CTs of the demo's data (``PhantomConfig`` defaults)."""
    from unimedi.datasets.phantom.generator import write_phantom_dataset

    write_phantom_dataset(str(folder), count, 0, seed=0, workers=1, progress=False)
    return sorted(str(p) for p in folder.rglob('*.nii.gz') if 'mask' not in p.name)


class _Files(torch.utils.data.Dataset):
    """The files through a pipeline, ``draws`` items cycling over them."""

    def __init__(self, files: list[str], pipeline: list, draws: int):
        self.files, self.pipeline_cfg, self.draws = files, pipeline, draws
        self.pipeline = None

    def __len__(self) -> int:
        return self.draws

    def __getitem__(self, index: int):
        if self.pipeline is None:  # built in the worker process
            from mmengine.dataset import Compose
            from mmengine.registry import init_default_scope

            import unimedi.datasets  # noqa: F401  (registers the transforms)
            from unimedi.registry import TRANSFORMS
            init_default_scope('unimedi')
            self.pipeline = Compose([TRANSFORMS.build(t) for t in self.pipeline_cfg])
        path = self.files[index % len(self.files)]
        return self.pipeline(dict(img_path=path, modality='3d', sample_idx=index))


def loader_rate(files: list[str], pipeline: list, workers: int, draws: int) -> dict:
    """Volumes/s and samples/s of ``draws`` draws through ``pipeline``."""
    from unimedi.datasets.collate import flat_pseudo_collate

    loader = torch.utils.data.DataLoader(_Files(files, pipeline, draws), batch_size=1,
                                         num_workers=workers, collate_fn=flat_pseudo_collate,
                                         persistent_workers=False)
    start, samples = time.perf_counter(), 0
    for batch in loader:
        samples += len(batch['inputs'])
    seconds = time.perf_counter() - start
    return dict(volumes_per_s=draws / seconds, samples_per_s=samples / seconds)


def workloads(tmp: Path, args) -> dict:
    """Name -> (files, uncached pipeline, cached pipeline)."""
    out = {}
    if 'demo' in args.workloads:
        files = write_demo_cts(tmp / 'demo', args.volumes)
        prefix = [dict(type='LoadMedicalImage', modality='3d'),
                  dict(type='HUWindow', windows='lung'),
                  dict(type='MedResize', size=(32, 64, 64), image_mode='area')]
        tail = [dict(type='PackMedInputs')]
        out['demo'] = (files, prefix + tail, [dict(
            type='CachedTransforms', cache_dir=str(tmp / 'cache_demo'), transforms=prefix)] + tail)
    if 'bcv' in args.workloads:
        files = write_bcv_like(tmp / 'bcv', args.volumes, tuple(args.bcv_shape))
        prefix = [dict(type='LoadMedicalImage', modality='3d'),
                  dict(type='Resample', spacing=(2.0, 1.5, 1.5)),
                  dict(type='HUWindow', windows='abdomen')]
        tail = [dict(type='MultiSample', num_samples=args.crops, transforms=[
            dict(type='MedRandomCrop', size=(96, 96, 96)), dict(type='PackMedInputs')])]
        out['bcv'] = (files, prefix + tail, [dict(
            type='CachedTransforms', cache_dir=str(tmp / 'cache_bcv'), transforms=prefix)] + tail)
    return out


def demo_train_rate(batch_size: int, iters: int) -> float:
    """Samples/s of the demo model's training step on a batch of CTs only."""
    from mmengine.config import Config

    import unimedi.models  # noqa: F401
    from tools.analysis.benchmark_pretrain import make_batch, train_step
    from unimedi.registry import MODELS

    cfg = Config.fromfile(str(DEMO_CONFIG))
    cfg.model.data_preprocessor = dict(type='MedDataPreprocessor')  # inputs arrive as tensors
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    size_3d = tuple(cfg.model.vision_encoder.tokenizers['3d']['img_size'])
    inputs, samples = make_batch('3d', batch_size, (112, 112), size_3d, 112,
                                 torch.device('cpu'), torch.Generator().manual_seed(0))
    train_step(model, optimizer, inputs, samples, False, torch.device('cpu'))  # warm-up
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        train_step(model, optimizer, inputs, samples, False, torch.device('cpu'))
        times.append(time.perf_counter() - start)
    return batch_size / statistics.median(times)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark the 3D loader, uncached vs cached')
    parser.add_argument('--workloads', nargs='+', default=['demo', 'bcv'],
                        choices=('demo', 'bcv'))
    parser.add_argument('--workers', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--volumes', type=int, default=4, help='distinct files per workload')
    parser.add_argument('--draws', type=int, default=16, help='loads per measured setting')
    parser.add_argument('--crops', type=int, default=4, help='bcv: crops per loaded volume')
    parser.add_argument('--bcv-shape', type=int, nargs=3, default=list(BCV_SHAPE_XYZ),
                        metavar=('X', 'Y', 'Z'), help='bcv: voxels of the synthetic CTs')
    parser.add_argument('--train-batch', type=int, default=16, help='demo step: CTs a batch')
    parser.add_argument('--train-iters', type=int, default=5)
    parser.add_argument('--no-train', action='store_true', help='skip the demo train step')
    return parser.parse_args(argv)


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (files, uncached, cached) in workloads(Path(tmp), args).items():
            loader_rate(files, cached, 0, len(files))  # fill the cache (untimed)
            for workers in args.workers:
                for kind, pipeline in (('uncached', uncached), ('cached', cached)):
                    rate = loader_rate(files, pipeline, workers, args.draws)
                    rows.append(dict(workload=name, workers=workers, kind=kind, **rate))
    step = None if args.no_train or 'demo' not in args.workloads else \
        demo_train_rate(args.train_batch, args.train_iters)
    print(f'{"workload":<8} {"workers":>7} {"kind":<9} {"volumes/s":>10} {"samples/s":>10} '
          f'{"x uncached":>10}' + (f' {"x train step":>12}' if step else ''))
    for row in rows:
        base = next(r for r in rows if r['workload'] == row['workload']
                    and r['workers'] == row['workers'] and r['kind'] == 'uncached')
        speedup = row['volumes_per_s'] / base['volumes_per_s']
        line = (f'{row["workload"]:<8} {row["workers"]:>7} {row["kind"]:<9} '
                f'{row["volumes_per_s"]:>10.2f} {row["samples_per_s"]:>10.2f} {speedup:>9.2f}x')
        if step and row['workload'] == 'demo':
            row['x_train_step'] = row['samples_per_s'] / step
            line += f' {row["x_train_step"]:>11.2f}x'
        print(line)
    if step:
        print(f'demo 3D train step ({DEMO_CONFIG.name}, {args.train_batch} CTs a batch): '
              f'{step:.2f} samples/s')
    assert all(math.isfinite(r['volumes_per_s']) for r in rows)
    return rows


if __name__ == '__main__':
    main()
