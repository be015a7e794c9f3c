"""unimedi.apis.explanation: selection precision of one image, against hand-made cases."""
import numpy as np
import pytest

from unimedi.apis.explanation import Explanation, selection_hits


def _explanation(modality, image_shape, attention_shape, **kwargs):
    attention = np.full(attention_shape, 1.0 / np.prod(attention_shape), np.float32)
    return Explanation(modality=modality, image=np.zeros(image_shape, np.float32),
                       attention=attention, attention_map=np.zeros(image_shape, np.float32),
                       **kwargs)


def test_ct_precision_is_the_fraction_of_chosen_lesion_slices():
    explanation = _explanation('3d', (8, 4, 4), (4, 1, 1),
                               selected_slices=np.array([1, 2, 6, 7]))
    assert selection_hits(explanation, lesion_slices=[0, 1, 2]) == (0.5, 3 / 8)
    assert selection_hits(explanation, lesion_slices=[]) is None
    assert selection_hits(_explanation('3d', (8, 4, 4), (4, 1, 1)), [1]) is None
    assert explanation.peak_ratio == pytest.approx(1.0)


def test_radiograph_precision_counts_the_visible_tokens_over_the_lesion():
    hidden = np.array([[True, False], [False, False]])  # the student sees 3 of 4 tokens
    explanation = _explanation('2d', (4, 4), (2, 2), student_mask=hidden)
    lesion = np.zeros((4, 4), bool)
    lesion[0, 3] = True   # one pixel in the top-right token (visible)
    lesion[0, 0] = True   # and one in the hidden top-left token
    precision, chance = selection_hits(explanation, lesion_mask=lesion)
    assert precision == pytest.approx(1 / 3) and chance == pytest.approx(2 / 4)
    assert selection_hits(explanation, lesion_mask=np.zeros((4, 4), bool)) is None
    with pytest.raises(ValueError, match='must match'):
        selection_hits(explanation, lesion_mask=lesion[:2])
    assert explanation.mask_map()[:2, :2].all() and not explanation.mask_map()[2:].any()
