"""Feature-quality measures: effective rank, probe AUC, distillation-target entropy."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from unimedi.evaluation.feature_quality import effective_rank, probe_auc, target_entropy


def test_effective_rank_of_constructed_features():
    # centred rows +-(3, 0, 0) and +-(0, 1, 0): singular values 3 sqrt 2 and sqrt 2, so
    # p = (0.75, 0.25) and rank = exp(-(0.75 ln 0.75 + 0.25 ln 0.25))
    features = np.array([[3.0, 0, 0], [-3.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]]) + 5.0
    expected = math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    assert effective_rank(features) == pytest.approx(expected, rel=1e-9)
    # a rotation leaves the singular values, and so the rank, unchanged
    rotation, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    assert effective_rank(features @ rotation) == pytest.approx(expected, rel=1e-9)
    # RankMe as published (no centring): rows (3, 0, 0) and (0, 1, 0) give the same p
    plain = np.array([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert effective_rank(plain, centre=False) == pytest.approx(expected, rel=1e-9)
    # the shared offset of +5 enters the uncentred singular values as a third direction
    assert effective_rank(features, centre=False) != pytest.approx(expected, rel=1e-3)


def test_effective_rank_extremes():
    assert effective_rank(np.eye(8) * 2.5, centre=False) == pytest.approx(8.0)
    direction = np.random.default_rng(1).normal(size=(1, 16))
    collapsed = np.arange(1, 11)[:, None] * direction  # every row on one direction
    assert effective_rank(collapsed) == pytest.approx(1.0, abs=1e-6)
    assert effective_rank(collapsed, centre=False) == pytest.approx(1.0, abs=1e-6)
    assert effective_rank(torch.zeros(4, 3)) == 1.0
    assert effective_rank(np.ones((6, 3)) * 7.0) == 1.0  # constant features
    with pytest.raises(ValueError, match=r'\(N, C\) matrix'):
        effective_rank(np.zeros(5))


def _separable(seed=0, n=120, dims=16):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=(n, 3))
    features = rng.normal(size=(n, dims))
    features[:, :3] += 4.0 * labels  # each class shifts its own direction
    return features, labels


@pytest.mark.parametrize('method', ['logistic', 'knn'])
def test_probe_is_near_one_on_separable_and_near_half_on_noise(method):
    features, labels = _separable()
    result = probe_auc(features, labels, method=method, folds=5)
    assert result['macro'] > 0.97
    assert len(result['per_class']) == 3
    noise = np.random.default_rng(5).normal(size=features.shape)
    assert abs(probe_auc(noise, labels, method=method)['macro'] - 0.5) < 0.12


def test_logistic_probe_matches_sklearn_cross_validation():
    features, labels = _separable(seed=3)
    features[:, :3] = features[:, :3] * 0.25  # harder, so the AUC is not saturated
    ours = probe_auc(features, labels[:, 0], folds=4, seed=0, C=0.5)['macro']
    # the same probe with sklearn's own folds: equal up to the fold draw
    folds = StratifiedKFold(4, shuffle=True, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))
    scores = cross_val_predict(model, features, labels[:, 0], cv=folds,
                               method='decision_function')
    assert ours == pytest.approx(roc_auc_score(labels[:, 0], scores), abs=0.03)


def test_probe_skips_classes_it_cannot_score():
    features, labels = _separable()
    labels[:, 1] = 0  # no positives
    labels[:3, 2], labels[3:, 2] = 1, 0  # 3 positives < 5 folds
    result = probe_auc(features, labels, folds=5)
    assert math.isnan(result['per_class'][1]) and math.isnan(result['per_class'][2])
    assert result['macro'] == pytest.approx(result['per_class'][0])
    assert math.isnan(probe_auc(features, np.zeros((120, 2)))['macro'])
    with pytest.raises(ValueError, match='method'):
        probe_auc(features, labels, method='svm')
    with pytest.raises(ValueError, match='same N'):
        probe_auc(features, labels[:10])


def test_target_entropy():
    uniform = torch.zeros(6, 10)
    row, spread = target_entropy(uniform)
    assert row == pytest.approx(math.log(10)) and spread == pytest.approx(math.log(10))
    # sharp targets on one prototype: collapse (both near 0)
    collapsed = torch.zeros(6, 10)
    collapsed[:, 3] = 50.0
    row, spread = target_entropy(collapsed)
    assert row < 1e-6 and spread < 1e-6
    # sharp targets on different prototypes: low row entropy, spread log(5)
    spread_out = torch.zeros(5, 10)
    spread_out[torch.arange(5), torch.arange(5)] = 50.0
    row, spread = target_entropy(spread_out)
    assert row < 1e-6 and spread == pytest.approx(math.log(5), rel=1e-4)
    # centring and temperature enter as softmax((logits - c) / T)
    logits = torch.randn(4, 7)
    center = torch.randn(1, 7)
    p = torch.softmax((logits - center) / 0.1, dim=-1)
    expected = float(-(p * p.log()).sum(-1).mean())
    assert target_entropy(logits, center, 0.1)[0] == pytest.approx(expected, rel=1e-5)
