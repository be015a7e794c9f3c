from .histogram_classifier import IntensityHistogramClassifier

__all__ = ['IntensityHistogramClassifier']
