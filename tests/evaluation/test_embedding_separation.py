"""The embedding-space scores of unimedi.evaluation.embedding_separation against sklearn
and hand-worked cases."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from unimedi.evaluation.embedding_separation import (finding_silhouette, modality_mixing,
                                                     pair_alignment)


def test_silhouette_matches_sklearn_and_drops_singletons():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 5))
    findings = ['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'lone']
    expected = silhouette_score(x[:8], findings[:8], metric='cosine')
    assert finding_silhouette(x, findings) == pytest.approx(expected)


def test_silhouette_separated_and_undefined():
    x = np.array([[1, 0.01], [1, -0.01], [0.01, 1], [-0.01, 1]])
    assert finding_silhouette(x, ['a', 'a', 'b', 'b']) > 0.9
    assert math.isnan(finding_silhouette(x, ['a', 'a', 'a', 'b']))  # one group of >= 2
    assert math.isnan(finding_silhouette(x, ['a'] * 4))


def test_mixing_separated_alternating_and_random():
    separated = np.array([[1, 0.01], [1, -0.01], [1, 0.02], [0.01, 1], [-0.01, 1], [0.02, 1]])
    assert modality_mixing(separated, list('aaabbb'), k=2) == 0.0
    # each point's nearest neighbour is of the other kind: f = 1, e = 2/3
    pairs = np.array([[1, 0.0], [1, 0.01], [0.0, 1], [0.01, 1]])
    assert modality_mixing(pairs, list('abab'), k=1) == pytest.approx(1.5)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 8))
    kinds = rng.integers(0, 2, 400)
    assert modality_mixing(x, kinds, k=10) == pytest.approx(1.0, abs=0.15)
    assert math.isnan(modality_mixing(x, ['a'] * 400))
    # k clipped to N - 1
    assert modality_mixing(pairs, list('abab'), k=50) == pytest.approx((2 / 3) / (2 / 3))


def test_pair_alignment_hand_cases():
    eye = np.eye(3)
    assert pair_alignment(eye, eye) == pytest.approx(1.0)
    assert pair_alignment(eye * 5, eye[[1, 2, 0]]) == pytest.approx(-0.5)
    same = np.ones((3, 2))
    assert pair_alignment(same, same) == pytest.approx(0.0)


def test_errors_on_mismatched_lengths():
    x = np.zeros((4, 3)) + 1
    with pytest.raises(ValueError):
        finding_silhouette(x, ['a', 'b'])
    with pytest.raises(ValueError):
        modality_mixing(x, ['a', 'b', 'a'])
    with pytest.raises(ValueError):
        modality_mixing(x, ['a', 'b', 'a', 'b'], k=0)
    with pytest.raises(ValueError):
        pair_alignment(x, x[:3])
    with pytest.raises(ValueError):
        pair_alignment(x[:1], x[:1])
