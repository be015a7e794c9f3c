"""Heads (``HEADS``): projections to the common space, DINO heads, classification heads,
pixel prediction."""
from .cls_head import LinearClsHead
from .dino_head import DINOHead
from .pixel_head import PixelPredictionHead
from .projection_head import ProjectionHead
from .unetr_decoder import UNETRDecoder

__all__ = ['ProjectionHead', 'DINOHead', 'LinearClsHead', 'UNETRDecoder', 'PixelPredictionHead']
