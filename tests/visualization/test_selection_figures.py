"""unimedi.visualization: the selection figures decode at their stated sizes and show the
explanation's own chosen slices."""
import numpy as np
import pytest
from PIL import Image

from unimedi.apis.explanation import Explanation
from unimedi.visualization import (ct_figure, explanation_figure, index_figure, radiograph_figure,
                                   save)
from unimedi.visualization.selection_figures import CT_SIZE, DPI, RADIOGRAPH_SIZE


def _ct(selected=(3, 4, 9)):
    rng = np.random.default_rng(0)
    attention = rng.random((4, 2, 2)).astype(np.float32)
    return Explanation(modality='3d', image=rng.random((16, 32, 32), dtype=np.float32),
                       attention=attention / attention.sum(),
                       attention_map=rng.random((16, 32, 32), dtype=np.float32),
                       student_mask=np.zeros((4, 2, 2), bool),
                       slice_scores=rng.random(16).astype(np.float32),
                       selected_slices=np.array(selected))


def _radiograph():
    rng = np.random.default_rng(1)
    attention = rng.random((4, 4)).astype(np.float32)
    return Explanation(modality='2d', image=rng.random((32, 32), dtype=np.float32),
                       attention=attention / attention.sum(),
                       attention_map=rng.random((32, 32), dtype=np.float32),
                       student_mask=rng.random((4, 4)) > 0.5)


def _pixels(size):
    return int(round(size[0] * DPI)), int(round(size[1] * DPI))


def test_ct_figure_marks_the_selected_slices(tmp_path):
    explanation = _ct()
    figure = ct_figure(explanation, lesion_slices=[3, 4, 5], title='ct')
    curve = figure.axes[0]
    marked = np.concatenate([c.get_offsets()[:, 0] for c in curve.collections
                             if len(c.get_offsets())])
    np.testing.assert_array_equal(marked, explanation.selected_slices)
    montage = [ax.get_title() for ax in figure.axes[1:] if ax.get_title()]
    assert montage == ['slice 3 (lesion)', 'slice 4 (lesion)', 'slice 9']
    path = save(figure, tmp_path / 'sub' / 'ct.png')
    assert Image.open(path).size == _pixels(CT_SIZE)


def test_radiograph_figure_and_dispatch(tmp_path):
    lesion = np.zeros((32, 32), bool)
    lesion[8:16, 8:16] = True
    path = save(radiograph_figure(_radiograph(), lesion, 'xray'), tmp_path / 'x.png')
    assert Image.open(path).size == _pixels(RADIOGRAPH_SIZE)
    assert len(explanation_figure(_radiograph()).axes) == 3
    with pytest.raises(ValueError, match='2D'):
        radiograph_figure(_ct())
    with pytest.raises(ValueError, match='3D'):
        ct_figure(_radiograph())


def test_ct_figure_without_a_selector_shows_spread_slices():
    explanation = _ct()
    explanation.selected_slices = explanation.slice_scores = None
    titles = [ax.get_title() for ax in ct_figure(explanation, max_slices=4).axes[1:]]
    assert titles == ['slice 0', 'slice 5', 'slice 10', 'slice 15']


def test_index_figure_size(tmp_path):
    case = dict(label='best', precision=0.5, chance=0.25, name='c')
    rows = [[dict(case, explanation=_radiograph())] * 3, [dict(case, explanation=_ct())] * 2]
    path = save(index_figure(rows), tmp_path / 'index.png')
    assert Image.open(path).size == (1200, 720)
    with pytest.raises(ValueError, match='no cases'):
        index_figure([[], []])
