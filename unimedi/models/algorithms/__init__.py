"""Algorithms (``MODELS``): UniMedI pre-training, downstream classifiers."""
from .image_classifier import ImageClassifier
from .unimedi import UniMedI
from .volume_segmentor import VolumeSegmentor

__all__ = ['UniMedI', 'ImageClassifier', 'VolumeSegmentor']
