"""The one label palette: mmseg's ``metainfo['palette']`` and the overlays of
``tools/test.py --show-dir`` colour a label the same way."""
from __future__ import annotations

from typing import Sequence

import numpy as np

#: RGB colours of labels 1, 2, ... (label 0, the background, is black)
LABEL_COLOURS = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
                 (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60),
                 (250, 190, 190), (0, 128, 128), (170, 110, 40), (128, 0, 0),
                 (170, 255, 195), (128, 128, 0))


def label_colour(label: int) -> tuple[int, int, int]:
    """The RGB colour of a foreground label (``>= 1``; cycled past the table)."""
    return LABEL_COLOURS[(int(label) - 1) % len(LABEL_COLOURS)]


def make_palette(num_classes: int) -> list[list[int]]:
    """``num_classes`` RGB colours as mmseg's ``metainfo['palette']``: black for label 0,
    then :data:`LABEL_COLOURS`, then seeded colours for longer class lists."""
    colours = [[0, 0, 0]] + [list(c) for c in LABEL_COLOURS][:max(0, num_classes - 1)]
    rng = np.random.default_rng(0)
    while len(colours) < num_classes:
        colours.append(rng.integers(0, 256, 3).tolist())
    return colours[:num_classes]


def seg_metainfo(classes: Sequence[str], palette: Sequence | None = None) -> dict:
    """``dict(classes, palette)`` for a dataset whose label ``i`` is ``classes[i]``.

    Raises:
        ValueError: fewer than two classes, or a palette of another length.
    """
    classes = tuple(classes)
    if len(classes) < 2:
        raise ValueError(f'a segmentation dataset needs at least 2 classes (background '
                         f'first), got {classes}')
    palette = [list(c) for c in palette] if palette is not None else make_palette(len(classes))
    if len(palette) != len(classes):
        raise ValueError(f'palette has {len(palette)} colours for {len(classes)} classes')
    return dict(classes=classes, palette=palette)
