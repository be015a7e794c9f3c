"""Heads (``HEADS``): projections to the common space, DINO heads, classification heads."""
from .cls_head import LinearClsHead
from .dino_head import DINOHead
from .projection_head import ProjectionHead

__all__ = ['ProjectionHead', 'DINOHead', 'LinearClsHead']
