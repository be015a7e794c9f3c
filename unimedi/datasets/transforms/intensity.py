"""Intensity transforms: CT windowing with named presets, and MONAI's intensity augmentations."""
from __future__ import annotations

from typing import Sequence

import monai.transforms
import numpy as np
from mmcv.transforms import BaseTransform
from monai.transforms import InvertibleTransform, MapTransform, Randomizable
from monai.utils import convert_to_numpy

from unimedi.registry import TRANSFORMS

#: Named CT windows as (level, width) in HU.
HU_WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    'lung': (-600.0, 1500.0),
    'mediastinum': (50.0, 350.0),
    'abdomen': (50.0, 400.0),
    'bone': (400.0, 1800.0),
    'brain': (40.0, 80.0),
}


@TRANSFORMS.register_module()
class HUWindow(BaseTransform):
    """Clip CT intensities to one or more HU windows and scale each to ``out_range``.

    Required keys: ``img`` in HU (``img_unit == 'HU'``), ``(1, ...)``.
    Modified keys: ``img`` -> ``(len(windows), ...)`` float32; ``img_unit`` -> ``'unit'``.

    Args:
        windows: preset names (see :data:`HU_WINDOW_PRESETS`) and/or ``(level, width)``
            pairs; several windows give several channels. Default: the lung window.
        out_range: the range each window is scaled to.
    """

    def __init__(self, windows: str | Sequence = 'lung', out_range: Sequence[float] = (0.0, 1.0)):
        if isinstance(windows, str) or (isinstance(windows, Sequence) and len(windows) == 2
                                        and all(isinstance(v, (int, float)) for v in windows)):
            windows = [windows]
        self.windows = [self._resolve(w) for w in windows]
        if len(out_range) != 2 or out_range[0] >= out_range[1]:
            raise ValueError(f'out_range must be (low, high) with low < high, got {out_range}')
        self.out_range = tuple(float(v) for v in out_range)

    @staticmethod
    def _resolve(window) -> tuple[float, float]:
        if isinstance(window, str):
            if window not in HU_WINDOW_PRESETS:
                raise ValueError(f'unknown HU window preset {window!r}; '
                                 f'choose from {sorted(HU_WINDOW_PRESETS)} or give (level, width)')
            return HU_WINDOW_PRESETS[window]
        level, width = (float(v) for v in window)
        if width <= 0:
            raise ValueError(f'window width must be positive, got {width}')
        return level, width

    def transform(self, results: dict) -> dict:
        if results.get('img_unit', 'HU') != 'HU':
            raise ValueError(f'{results.get("img_path")}: HUWindow needs CT intensities in HU, '
                             f'got unit {results.get("img_unit")!r}')
        img = results['img']
        if img.shape[0] != 1:
            raise ValueError(f'{results.get("img_path")}: HUWindow expects one channel, '
                             f'got {img.shape[0]}')
        low, high = self.out_range
        channels = []
        for level, width in self.windows:
            scaled = (img[0] - (level - width / 2.0)) / width
            channels.append(np.clip(scaled, 0.0, 1.0) * (high - low) + low)
        results['img'] = np.stack(channels).astype(np.float32)
        results['img_unit'] = 'unit'
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(windows={self.windows}, out_range={self.out_range})'


@TRANSFORMS.register_module()
class MonaiIntensity(BaseTransform):
    """Apply one of MONAI's array intensity transforms to ``img``, in 2D or 3D.

    Any transform of ``monai.transforms`` that changes values, not geometry
    (``RandScaleIntensity``, ``RandShiftIntensity``, ``RandAdjustContrast``,
    ``RandGaussianNoise``, ``RandBiasField``, ...), given by name and arguments. Spatial
    transforms (MONAI's invertible ones) are refused: they would leave ``gt_seg``,
    ``affine`` and ``lesion_slices`` behind; use the ``Med*`` spatial transforms.

    A random transform is re-seeded from NumPy's global generator on every call, so that
    the draws follow the run's seed and differ between dataloader workers (MONAI's own
    generator is copied unchanged into every forked worker).

    Required keys: ``img`` ``(C, H, W)`` or ``(C, D, H, W)``. Modified keys: ``img``
    (same shape and dtype).

    Args:
        transform: ``dict(type=NAME, **kwargs)`` naming a class of ``monai.transforms``.
    """

    def __init__(self, transform: dict):
        if not isinstance(transform, dict) or 'type' not in transform:
            raise TypeError(f'transform must be dict(type=NAME, ...), got {transform!r}')
        kwargs = dict(transform)
        name = kwargs.pop('type')
        cls = getattr(monai.transforms, name, None)
        if not isinstance(cls, type):
            raise ValueError(f'monai.transforms has no transform {name!r}')
        if issubclass(cls, MapTransform):
            raise ValueError(f'{name} is a dictionary transform; give the array form '
                             f'{name[:-1]!r}')
        if issubclass(cls, InvertibleTransform):
            raise ValueError(f'{name} is a spatial transform; MonaiIntensity takes intensity '
                             f'transforms only (use MedRandomCrop, MedRandomFlip, MedResize)')
        self.name, self.kwargs = name, kwargs
        self.transform_ = cls(**kwargs)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if isinstance(self.transform_, Randomizable):
            self.transform_.set_random_state(seed=int(np.random.randint(0, 2**31 - 1)))
        out = convert_to_numpy(self.transform_(img), dtype=img.dtype)
        if out.shape != img.shape:
            raise ValueError(f'{results.get("img_path")}: {self.name} changed the image shape '
                             f'{img.shape} -> {out.shape}')
        results['img'] = out
        return results

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())
        return f'{self.__class__.__name__}({self.name}({args}))'
