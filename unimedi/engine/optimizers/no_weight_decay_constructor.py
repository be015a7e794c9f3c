"""Weight-decay exclusions read from the modules themselves (timm's ``no_weight_decay``)."""
from __future__ import annotations

import logging

from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from unimedi.registry import OPTIM_WRAPPER_CONSTRUCTORS


def no_weight_decay_names(model: nn.Module) -> list[str]:
    """Full parameter names that the model's modules exclude from weight decay.

    Every submodule with a ``no_weight_decay()`` method (timm's convention, e.g.
    :class:`~unimedi.models.encoders.UnifiedViT`: [CLS], position embeddings, mask and
    register tokens) contributes its names, prefixed with the submodule's path.
    """
    names = []
    for prefix, module in model.named_modules():
        method = getattr(module, 'no_weight_decay', None)
        if callable(method):
            names += [f'{prefix}.{name}' if prefix else name for name in sorted(method())]
    return names


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class NoWeightDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default constructor, plus ``decay_mult=0`` for :func:`no_weight_decay_names`.

    The names become ``paramwise_cfg.custom_keys`` entries (a key already in the config wins),
    so a new no-decay parameter of the encoder needs no edit of the schedule config.

    Frozen parameters (the EMA teacher, a locked text tower, a frozen encoder under a
    linear probe, DINO's fixed weight-norm gain) never reach the optimiser. Instead of
    MMEngine's warning per frozen parameter, one line counts them.
    """

    def add_params(self, params: list, module: nn.Module, prefix: str = '', **kwargs) -> None:
        if not any(param.requires_grad for param in module.parameters()):
            return
        super().add_params(params, module, prefix, **kwargs)

    def __call__(self, model: nn.Module):
        configured = self.paramwise_cfg
        custom_keys = dict(configured.get('custom_keys', {}))
        # names relative to the module MMEngine collects the parameters from: a DDP or FSDP
        # wrapper's .module (its own prefix would match no parameter name)
        for name in no_weight_decay_names(getattr(model, 'module', model)):
            custom_keys.setdefault(name, dict(decay_mult=0.0))
        self.paramwise_cfg = dict(configured, custom_keys=custom_keys)
        logger = MMLogger.get_current_instance()
        notices = _DropFrozenNotices()
        logger.addFilter(notices)
        try:
            wrapper = super().__call__(model)
        finally:
            logger.removeFilter(notices)
            self.paramwise_cfg = configured
        frozen = [p for p in model.parameters() if not p.requires_grad]
        if frozen:
            logger.info(f'{len(frozen)} frozen parameter tensors '
                        f'({sum(p.numel() for p in frozen):,} values) are not optimised')
        return wrapper


class _DropFrozenNotices(logging.Filter):
    """Drops MMEngine's "... is skipped since its requires_grad=False" warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        return 'requires_grad=False' not in record.getMessage()
