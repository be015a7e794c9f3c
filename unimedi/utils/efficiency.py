"""Model FLOPs utilisation (MFU): FLOP counting and the peak FLOP/s of a device.

**MFU** = achieved FLOP/s / peak FLOP/s (:func:`mfu`), where achieved FLOP/s = the model
FLOPs of one step / the step time, and the peak is the device's dense (no sparsity)
tensor-core peak from NVIDIA's datasheets (:data:`PEAK_TFLOPS`), looked up from
``torch.cuda.get_device_name()`` for the precision the matrix products run at
(:func:`matmul_precision`): bf16 under autocast, else TF32 where float32 matmuls may use
TF32 (``torch.set_float32_matmul_precision('high')``), else plain FP32 (PyTorch's
default). A CPU has no table entry: its peak must be given (:func:`resolve_peak`).

**FLOPs** (:func:`count_flops`) are counted by ``torch.utils.flop_counter.FlopCounterMode``
while a function runs: matrix products, convolutions and scaled-dot-product attention,
forward and any backward run inside the function -- the FLOPs that MFU is defined on --
but not element-wise work, norms, softmax or the optimizer. torch leaves the CPU
flash-attention kernels (what ``F.scaled_dot_product_attention`` runs on a CPU) uncounted;
:func:`count_flops` adds the formulas of torch's CUDA SDPA kernels for them: for
``query`` (N, H, L, E), ``key`` (N, H, S, E) and ``value`` (N, H, S, Ev), the forward
counts ``QK^T`` and ``AV`` (``2 N H L S (E + Ev)``), the backward its five products (with
the recomputed scores).
"""
from __future__ import annotations

import platform
import re
from typing import Callable

import torch

#: Dense peak tensor-core TFLOPS (no 2:4 sparsity: half the "with sparsity" figures) per
#: precision, from NVIDIA's datasheets: H200 (SXM; NVL), H100 (SXM, PCIe, NVL), A100
#: (SXM and PCIe alike), L40S, L40, L4, A10 and V100 (SXM2; PCIe) datasheets, and the Ada
#: Lovelace architecture whitepaper for the RTX 4090 (BF16/FP16 with FP32 accumulate).
#: ``fp32`` is the non-tensor FP32 peak (float32 matmuls when TF32 is off, PyTorch's
#: default). ``None``: the precision has no tensor-core path (V100: no bf16, no TF32; its
#: FP16 tensor peak is 125 TFLOPS, not used: ``--amp`` autocasts to bf16). The A10G (AWS)
#: has no datasheet of its own: the A10's figures are used, an upper bound (the A10G's
#: tensor clocks are reported lower). The first pattern found in
#: ``torch.cuda.get_device_name()`` wins (more specific names first: the H100 SXM reports
#: e.g. 'NVIDIA H100 80GB HBM3', without "SXM"; 'GH200' holds an H100/H200-class GPU).
PEAK_TFLOPS = (
    (r'GH200', dict(bf16=989.0, tf32=494.5, fp32=67.0)),
    (r'H200 NVL', dict(bf16=835.5, tf32=417.5, fp32=60.0)),
    (r'H200', dict(bf16=989.0, tf32=494.5, fp32=67.0)),
    (r'H100 PCIe', dict(bf16=756.0, tf32=378.0, fp32=51.0)),
    (r'H100 NVL', dict(bf16=835.5, tf32=417.5, fp32=60.0)),
    (r'H100', dict(bf16=989.0, tf32=494.5, fp32=67.0)),
    (r'A100', dict(bf16=312.0, tf32=156.0, fp32=19.5)),
    (r'L40S', dict(bf16=362.0, tf32=183.0, fp32=91.6)),
    (r'L40\b', dict(bf16=181.0, tf32=90.5, fp32=90.5)),
    (r'\bL4\b', dict(bf16=121.0, tf32=60.0, fp32=30.3)),
    (r'A10G', dict(bf16=125.0, tf32=62.5, fp32=31.2)),
    (r'\bA10\b', dict(bf16=125.0, tf32=62.5, fp32=31.2)),
    (r'V100.*PCIe', dict(bf16=None, tf32=None, fp32=14.0)),
    (r'V100', dict(bf16=None, tf32=None, fp32=15.7)),
    (r'RTX 4090', dict(bf16=165.2, tf32=82.6, fp32=82.6)),
)


def lookup_peak_tflops(device_name: str, precision: str) -> float | None:
    """Dense peak TFLOPS of a GPU (by ``torch.cuda.get_device_name()``) for ``precision``
    (``'bf16'``, ``'tf32'`` or ``'fp32'``); ``None`` for an unknown GPU or precision. TF32
    falls back to FP32 where the GPU has no TF32 (V100)."""
    for pattern, peaks in PEAK_TFLOPS:
        if re.search(pattern, device_name, flags=re.IGNORECASE):
            if precision == 'tf32' and peaks.get('tf32') is None:
                return peaks.get('fp32')
            return peaks.get(precision)
    return None


def matmul_precision(amp: bool) -> str:
    """The precision the step's matrix products run at: bf16 (autocast), tf32 or fp32."""
    if amp:
        return 'bf16'
    return 'fp32' if torch.get_float32_matmul_precision() == 'highest' else 'tf32'


def device_name(device: torch.device) -> str:
    """The GPU's name for a CUDA device, else the CPU's model name (``/proc/cpuinfo``)."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'cpu'


def resolve_peak(device: torch.device, amp: bool,
                 override: float | None) -> tuple[float | None, str]:
    """``(peak TFLOPS or None, where it comes from)`` for the MFU of ``device``.

    ``override`` (``--peak-tflops``) wins on any device; without it a CPU has no peak, and
    a GPU has its datasheet peak at :func:`matmul_precision` or ``None`` when unknown.
    """
    precision = matmul_precision(amp)
    if override is not None:
        return override, f'--peak-tflops {override:g}'
    if device.type != 'cuda':
        return None, 'no peak for a CPU (give --peak-tflops)'
    name = device_name(device)
    peak = lookup_peak_tflops(name, precision)
    if peak is None:
        return None, f'{name}: no known dense {precision} peak (give --peak-tflops)'
    return peak, f'{name} dense {precision} peak {peak:g} TFLOPS (NVIDIA datasheet)'


def mfu(flops_per_step: float | None, step_s: float,
        peak_tflops: float | None) -> float | None:
    """Model FLOPs utilisation: ``flops_per_step / step_s / (peak_tflops * 1e12)``;
    ``None`` without FLOPs, without a peak or for a non-positive step time."""
    if not flops_per_step or peak_tflops is None or step_s <= 0:
        return None
    return flops_per_step / step_s / (peak_tflops * 1e12)


def _extra_flop_formulas() -> dict:
    """FLOP formulas for the CPU flash-attention kernels (what ``F.scaled_dot_product_
    attention`` runs on a CPU), which torch's FlopCounterMode leaves uncounted: the same
    formulas as its CUDA SDPA kernels."""
    from torch.utils import flop_counter

    formulas = {}
    aten = torch.ops.aten
    forward = getattr(aten, '_scaled_dot_product_flash_attention_for_cpu', None)
    backward = getattr(aten, '_scaled_dot_product_flash_attention_for_cpu_backward', None)
    if forward is not None and forward not in flop_counter.flop_registry:
        def sdpa_cpu(query, key, value, *args, out_shape=None, **kwargs):
            return flop_counter.sdpa_flop_count(query, key, value)
        formulas[forward] = sdpa_cpu
    if backward is not None and backward not in flop_counter.flop_registry:
        def sdpa_cpu_backward(grad_out, query, key, value, *args, out_shape=None, **kwargs):
            return flop_counter.sdpa_backward_flop_count(grad_out, query, key, value)
        formulas[backward] = sdpa_cpu_backward
    return formulas


def count_flops(fn: Callable, *args, **kwargs) -> tuple[int, object]:
    """``(FLOPs, result)`` of ``fn(*args, **kwargs)`` by ``FlopCounterMode`` (matmul, conv,
    attention, forward and any backward run inside ``fn``)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False, custom_mapping=_extra_flop_formulas()) as counter:
        result = fn(*args, **kwargs)
    return counter.get_total_flops(), result
