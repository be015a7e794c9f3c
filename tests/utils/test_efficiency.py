"""unimedi.utils.efficiency: FLOP counts against analytic counts, the MFU arithmetic and
the peak table."""
import pytest
import torch
import torch.nn.functional as F

from unimedi.utils.efficiency import count_flops, lookup_peak_tflops, mfu, resolve_peak


def test_flop_count_of_a_linear_layer_forward_and_backward():
    batch, width_in, width_out = 8, 64, 32
    layer = torch.nn.Linear(width_in, width_out)
    x = torch.randn(batch, width_in, requires_grad=True)

    def step():
        layer(x).sum().backward()

    flops, _ = count_flops(step)
    # forward 2*B*in*out; backward: grad of the input and of the weight, as much again each
    assert flops == 3 * 2 * batch * width_in * width_out


def test_flop_count_includes_cpu_attention():
    """torch leaves the CPU flash-attention kernels uncounted; count_flops counts them as
    its CUDA kernels: QK^T and AV forward, 5 products backward (with the recomputed
    scores)."""
    b, h, n, d = 2, 3, 16, 8
    q, k, v = (torch.randn(b, h, n, d, requires_grad=True) for _ in range(3))
    forward, out = count_flops(F.scaled_dot_product_attention, q, k, v)
    assert forward == 2 * (2 * b * h * n * n * d)
    assert out.shape == (b, h, n, d)
    both, _ = count_flops(lambda: F.scaled_dot_product_attention(q, k, v).sum().backward())
    assert both == 7 * (2 * b * h * n * n * d)


def test_mfu_arithmetic():
    # 2 TFLOP per step in 0.5 s = 4 TFLOP/s achieved, of an 8 TFLOP/s peak: 50%
    assert mfu(2e12, 0.5, 8.0) == pytest.approx(0.5)
    assert mfu(3.3e9, 0.011, 989.0) == pytest.approx(3.3e9 / 0.011 / 989e12)
    assert mfu(2e12, 0.5, None) is None
    assert mfu(None, 0.5, 8.0) is None


def test_peak_table_lookup():
    peak = lookup_peak_tflops
    assert peak('NVIDIA H200', 'bf16') == 989
    assert peak('NVIDIA H200', 'tf32') == pytest.approx(494.5)
    assert peak('NVIDIA H100 PCIe', 'bf16') == 756
    assert peak('NVIDIA H100 80GB HBM3', 'bf16') == 989  # the SXM part
    assert peak('NVIDIA A100-SXM4-80GB', 'bf16') == 312
    assert peak('NVIDIA A100 80GB PCIe', 'tf32') == 156
    assert peak('NVIDIA L40S', 'bf16') == pytest.approx(362)
    assert peak('NVIDIA L4', 'bf16') == pytest.approx(121)
    assert peak('NVIDIA A10G', 'bf16') == pytest.approx(125)
    assert peak('NVIDIA GeForce RTX 4090', 'bf16') == pytest.approx(165.2)
    assert peak('Tesla V100-SXM2-16GB', 'bf16') is None  # no bf16 on a V100: unknown
    assert peak('Tesla V100-SXM2-16GB', 'tf32') == pytest.approx(15.7)  # no TF32: FP32
    assert peak('Some Future GPU', 'bf16') is None


def test_resolve_peak_on_a_cpu():
    cpu = torch.device('cpu')
    peak, source = resolve_peak(cpu, True, None)
    assert peak is None and '--peak-tflops' in source
    assert resolve_peak(cpu, False, 2.5) == (2.5, '--peak-tflops 2.5')
