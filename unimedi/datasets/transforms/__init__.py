from .cache import CachedTransforms
from .formatting import PackMedInputs, to_plain_tensor
from .intensity import HU_WINDOW_PRESETS, HUWindow, MonaiIntensity
from .label_crop import RandomCropByLabel
from .labels import RemapLabels
from .loading import LoadMedicalImage, LoadMedicalMask, OverrideHeader
from .report import ParseReport
from .seg_formatting import KeepOriginalMask, PackSegInputs2D
from .spatial import CenterCropOrPad, MedRandomCrop, MedRandomFlip, MedResize, Resample, crop_or_pad
from .wrappers import MultiSample, PerModality

__all__ = [
    'LoadMedicalImage', 'LoadMedicalMask', 'HUWindow', 'HU_WINDOW_PRESETS', 'Resample',
    'MedResize', 'CenterCropOrPad', 'MedRandomCrop', 'MedRandomFlip', 'crop_or_pad', 'ParseReport',
    'PackMedInputs', 'to_plain_tensor', 'PerModality', 'RemapLabels', 'RandomCropByLabel',
    'KeepOriginalMask', 'PackSegInputs2D', 'CachedTransforms', 'MultiSample',
    'OverrideHeader', 'MonaiIntensity'
]
