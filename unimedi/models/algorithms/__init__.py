"""Algorithms (``MODELS``): UniMedI pre-training."""
from .unimedi import UniMedI

__all__ = ['UniMedI']
