"""``float32_forward``: run a loss in float32 even inside a bf16 / fp16 autocast region."""
from __future__ import annotations

import functools
import itertools

import torch

_LOW_PRECISION = (torch.bfloat16, torch.float16)


def _to_float32(value):
    if isinstance(value, torch.Tensor) and value.dtype in _LOW_PRECISION:
        return value.float()
    return value  # float32 / float64 as they are; masks and integers untouched


def float32_forward(forward):
    """Decorate a module's ``forward``: autocast is switched off on the inputs' device and
    bf16 / fp16 tensor arguments are cast to float32 (float64, integer and bool tensors,
    e.g. masks and groups, pass unchanged).

    Under ``torch.autocast`` the matrix products of a loss would otherwise run in bf16,
    whose 8-bit mantissa rounds a logit of 60 to a multiple of 0.25: the contrastive
    similarities, the DINO softmaxes and the KoLeo distances need float32. Gradients flow
    back through the casts to the bf16 producers.
    """

    @functools.wraps(forward)
    def wrapper(self, *args, **kwargs):
        tensors = (v for v in itertools.chain(args, kwargs.values())
                   if isinstance(v, torch.Tensor))
        device = next(tensors, None)
        device_type = device.device.type if device is not None else 'cpu'
        with torch.autocast(device_type=device_type, enabled=False):
            args = tuple(_to_float32(v) for v in args)
            kwargs = {k: _to_float32(v) for k, v in kwargs.items()}
            return forward(self, *args, **kwargs)

    return wrapper
