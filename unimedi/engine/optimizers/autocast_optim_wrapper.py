"""``AutocastOptimWrapper``: bf16 autocast on any device, the CPU included."""
from __future__ import annotations

from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from unimedi.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose forward passes run under ``torch.autocast``.

    MMEngine's ``AmpOptimWrapper`` refuses the CPU (it is built around CUDA's fp16 loss
    scaling). bfloat16 keeps fp32's exponent range, so it needs no loss scaling, and
    ``torch.autocast`` runs it on CPUs as well as GPUs: matrix products and convolutions in
    bf16, reductions, norms and losses in fp32. Parameters, gradients and optimizer states
    stay fp32.

    Args:
        dtype: ``'bfloat16'`` (default) or ``'float16'`` (CUDA only; without loss scaling,
            use ``AmpOptimWrapper`` there instead).
        enabled: ``False`` turns it into a plain ``OptimWrapper`` (e.g. from the command
            line: ``--cfg-options optim_wrapper.enabled=False``).
        sharded_grads: the gradients are split across the ranks (FSDP): ``clip_grad``'s
            norm is that of the whole gradient (:func:`~unimedi.engine.fsdp.
            clip_sharded_grad_norm_`), not of each rank's shard.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``clip_grad``...).
    """

    def __init__(self, dtype: str = 'bfloat16', enabled: bool = True,
                 sharded_grads: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.sharded_grads = sharded_grads
        if sharded_grads and getattr(self, 'clip_func', None) is torch.nn.utils.clip_grad_value_:
            raise ValueError('sharded_grads clips by the norm; clip_grad type value needs no '
                             'all-reduce: set sharded_grads=False')
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"dtype must be 'bfloat16' or 'float16', got {dtype!r}")
        self.cast_dtype = getattr(torch, dtype)
        self.enabled = enabled

    def _clip_grad(self) -> None:
        if not self.sharded_grads:
            return super()._clip_grad()
        from unimedi.engine.fsdp import clip_sharded_grad_norm_
        params = [p for group in self.optimizer.param_groups for p in group['params']
                  if p.requires_grad]
        # every rank, with or without gradients: the norm is all-reduced
        norm = clip_sharded_grad_norm_(params, **self.clip_grad_kwargs)
        self.message_hub.update_scalar(f'train/{self.grad_name}', float(norm))

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The parent's context (gradient accumulation) inside ``torch.autocast`` on the
        device of the model's parameters."""
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(device_type=device,
                                                          dtype=self.cast_dtype,
                                                          enabled=self.enabled):
            yield
