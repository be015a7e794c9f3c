"""The one label palette shared by mmseg's metainfo and the overlays."""
import numpy as np
import pytest

from unimedi.engine.hooks.seg_overlay_hook import overlay
from unimedi.utils.palette import LABEL_COLOURS, label_colour, make_palette, seg_metainfo


def test_metainfo_palette_and_overlay_colour_a_label_alike():
    palette = make_palette(4)
    assert palette[0] == [0, 0, 0]
    assert [tuple(c) for c in palette[1:]] == [label_colour(i) for i in (1, 2, 3)]
    grey = np.zeros((2, 2), np.uint8)
    labels = np.array([[0, 2], [2, 2]])
    rgb = overlay(grey, labels, alpha=1.0)
    assert tuple(rgb[1, 1]) == label_colour(2)  # inside the label: its colour at alpha 1


def test_long_class_lists_get_distinct_seeded_colours():
    palette = make_palette(len(LABEL_COLOURS) + 5)
    assert len(palette) == len(LABEL_COLOURS) + 5
    assert label_colour(len(LABEL_COLOURS) + 1) == label_colour(1)  # overlays cycle


def test_palettes_and_metainfo():
    assert make_palette(3)[0] == [0, 0, 0] and len(make_palette(20)) == 20
    assert seg_metainfo(('bg', 'x'))['palette'] == make_palette(2)
    with pytest.raises(ValueError, match='palette has 1 colours for 2 classes'):
        seg_metainfo(('bg', 'x'), palette=[(1, 2, 3)])
