"""Encoders (``ENCODERS``): the shared ViT and the text encoders."""
from .text_encoder import HFTextEncoder
from .unified_vit import ARCH_SETTINGS, UnifiedViT
from .vit_seg_backbone import ViTSegBackbone

__all__ = ['UnifiedViT', 'ARCH_SETTINGS', 'HFTextEncoder', 'ViTSegBackbone']
