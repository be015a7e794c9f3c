"""Figures: what the model looks at (selection and attention)."""
from .selection_figures import ct_figure, explanation_figure, index_figure, radiograph_figure, save

__all__ = ['radiograph_figure', 'ct_figure', 'explanation_figure', 'index_figure', 'save']
