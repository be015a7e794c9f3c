"""Digitally reconstructed radiographs (DRR) of phantom volumes, and their masks.

A PA chest radiograph is simulated by integrating the linear attenuation along the
antero-posterior axis (H) of a ``(D, H, W)`` volume. The image is shown as radiographs
are: superior at the top and the patient's right on the viewer's left, i.e. the
projection is flipped along both D and W.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from .findings import PAINT_ORDER, label_of

MU_WATER_PER_MM = 0.02  # linear attenuation of water near 70 keV


def _nearest_index(source: int, target: int) -> np.ndarray:
    """Source index of each target pixel for a nearest-exact (half-pixel) resize."""
    return np.minimum(np.floor((np.arange(target) + 0.5) * source / target).astype(int),
                      source - 1)


def radiograph(hu: np.ndarray, spacing, out_size=(224, 224), rng=None,
               noise: float = 0.01) -> np.ndarray:
    """Project a ``(D, H, W)`` HU volume to a ``(rows, cols)`` radiograph in [0, 1].

    Bright = attenuating (bone, heart), dark = air and lungs, as on a film.
    """
    mu = np.clip(MU_WATER_PER_MM * (1.0 + hu.astype(np.float32) / 1000.0), 0.0, None)
    path = mu.sum(axis=1) * float(spacing[1])  # (D, W) line integrals
    view = np.ascontiguousarray(path[::-1, ::-1])
    image = Image.fromarray(view.astype(np.float32), mode='F')
    image = np.asarray(image.resize((out_size[1], out_size[0]), Image.BILINEAR))
    image = np.clip(image / max(np.percentile(image, 99.5), 1e-6), 0.0, 1.0) ** 1.2
    if rng is not None and noise > 0:
        image = image + rng.normal(0.0, noise, image.shape)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def project_labels(labels: np.ndarray, out_size=(224, 224)) -> np.ndarray:
    """Project a ``(D, H, W)`` lesion label volume the way :func:`radiograph` projects.

    A pixel takes the label of any finding on its ray; where findings overlap in the
    projection the smaller kind (later in ``PAINT_ORDER``) wins. Resized nearest-exact.

    Returns:
        ``(rows, cols)`` uint8 labels.
    """
    projected = np.zeros((labels.shape[0], labels.shape[2]), dtype=np.uint8)
    for kind in PAINT_ORDER:
        value = label_of(kind)
        projected[(labels == value).any(axis=1)] = value
    view = projected[::-1, ::-1]
    rows = _nearest_index(view.shape[0], out_size[0])
    cols = _nearest_index(view.shape[1], out_size[1])
    return np.ascontiguousarray(view[rows][:, cols])
