"""Peak memory of a block of code, on a GPU or the CPU, and out-of-memory errors.

:class:`PeakMemory` measures what the block needs on top of what the process held when it
began: ``torch.cuda.max_memory_allocated`` on a GPU; on the CPU the resident-set
high-water mark (Linux ``VmHWM``, reset through ``/proc/self/clear_refs``) or, where that
is unavailable, the highest RSS seen by a sampling thread (psutil when installed, else
``/proc/self/statm``). CPU numbers are RSS deltas: allocator caching makes them
approximate, so :func:`release_memory` (also run on entry) returns freed memory to the
system with ``malloc_trim``.
"""
from __future__ import annotations

import ctypes
import gc
import os
import threading

import torch


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
    """The RSS high-water mark (``VmHWM``) of this process in bytes (Linux)."""
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


def release_memory() -> None:
    """Collect garbage, empty the CUDA cache and return freed heap memory (glibc)."""
    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def is_out_of_memory(error: BaseException) -> bool:
    """A CUDA out-of-memory error (``torch.cuda.OutOfMemoryError``), or the CPU's."""
    if isinstance(error, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(error, RuntimeError) and "can't allocate memory" in str(error)


class PeakMemory:
    """Peak memory (bytes) used between ``__enter__`` and ``__exit__`` (see module doc).

    Args:
        device (torch.device): where to measure (``cuda``: that GPU; else the CPU).

    After the block, ``peak`` holds the bytes and ``method`` how they were measured.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.peak = None
        self.method = None

    def __enter__(self):
        release_memory()
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
