"""Losses (``LOSSES``): InfoNCE, DINO, iBOT patch distillation, KoLeo, masked pixels."""
from .dice_ce import DiceCELoss
from .distillation import DINOLoss, PatchDistillationLoss
from .info_nce import InfoNCELoss, gather_with_grad
from .koleo import KoLeoLoss
from .masked_pixel import MaskedPixelLoss, patchify

__all__ = ['InfoNCELoss', 'gather_with_grad', 'DINOLoss', 'PatchDistillationLoss', 'DiceCELoss',
           'KoLeoLoss', 'MaskedPixelLoss', 'patchify']
