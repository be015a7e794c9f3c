"""Algorithms (``MODELS``): UniMedI pre-training, downstream classifiers and segmentors,
all on :class:`MedBaseModel`."""
from .base_model import MedBaseModel
from .image_classifier import ImageClassifier
from .unimedi import UniMedI
from .volume_segmentor import VolumeSegmentor

__all__ = ['MedBaseModel', 'UniMedI', 'ImageClassifier', 'VolumeSegmentor']
