"""Selection heads (``SELECTORS``): which CT slices and which image regions matter."""
from .slice_selectors import AttentiveSliceSelector, RandomSliceSelector
from .token_maskers import AttentiveRegionSelector, RandomRegionSelector

__all__ = ['AttentiveSliceSelector', 'RandomSliceSelector', 'AttentiveRegionSelector',
           'RandomRegionSelector']
