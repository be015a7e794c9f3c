"""Algorithms (``MODELS``): UniMedI pre-training, downstream classifiers."""
from .image_classifier import ImageClassifier
from .unimedi import UniMedI

__all__ = ['UniMedI', 'ImageClassifier']
