"""Heads (``HEADS``): projections to the common space, DINO heads."""
from .dino_head import DINOHead
from .projection_head import ProjectionHead

__all__ = ['ProjectionHead', 'DINOHead']
