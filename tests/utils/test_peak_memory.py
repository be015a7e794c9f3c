"""unimedi.utils.peak_memory: the peak of a known allocation, on the CPU and a GPU, and
which errors count as out of memory."""
import pytest
import torch

from unimedi.utils.peak_memory import PeakMemory, is_out_of_memory

MB = 10**6


@pytest.mark.parametrize('device', [
    'cpu',
    pytest.param('cuda', marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                  reason='needs a CUDA GPU')),
])
def test_peak_memory_sees_a_200_mb_tensor(device):
    with PeakMemory(torch.device(device)) as memory:
        tensor = torch.ones(50_000_000, device=device)  # 200 MB of float32, all written
        del tensor
    assert memory.method
    assert memory.peak >= 150 * MB


def test_out_of_memory_errors():
    assert is_out_of_memory(torch.cuda.OutOfMemoryError('CUDA out of memory'))
    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(RuntimeError(
        "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes"))
    assert not is_out_of_memory(RuntimeError('shape mismatch'))
    assert not is_out_of_memory(ValueError("can't allocate memory"))
