"""Quality measures of frozen features: effective rank, probe AUC, distillation targets.

Used while pre-training (``FeatureQualityHook``) and after it (``tools/analysis``): a recipe
is judged by how linearly separable and how spread out its features are, not by its loss.
"""
from __future__ import annotations

import numpy as np
import torch

from .metrics.auc import roc_auc

PROBES = ('logistic', 'knn')


def effective_rank(features, centre: bool = True) -> float:
    """RankMe (Garrido et al. 2023): ``exp`` of the entropy of the normalised singular values.

    Args:
        features: ``(N, C)`` array or tensor.
        centre: subtract the mean feature first (default). Features straight out of a
            LayerNorm share a large mean direction, which would dominate the singular
            values and hide how the samples spread; ``False`` is RankMe as published.

    Returns:
        a value in ``[1, min(N, C)]``; ``min(N, C)`` for orthogonal rows of equal norm, 1 for
        features on a single direction (after centring: for features varying along one).
    """
    matrix = torch.as_tensor(np.asarray(features), dtype=torch.float64)
    if matrix.ndim != 2 or min(matrix.shape) == 0:
        raise ValueError(f'features must be a non-empty (N, C) matrix, got {tuple(matrix.shape)}')
    if centre:
        matrix = matrix - matrix.mean(dim=0, keepdim=True)
    singular = torch.linalg.svdvals(matrix)
    total = singular.sum()
    if total <= 1e-12 * max(1.0, float(matrix.abs().max())):
        return 1.0
    p = singular / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def _fold_ids(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Stratified fold index of every sample for one binary label."""
    rng = np.random.default_rng(seed)
    ids = np.empty(len(labels), dtype=int)
    for value in (0, 1):
        members = np.flatnonzero(labels == value)
        ids[rng.permutation(members)] = np.arange(len(members)) % folds
    return ids


def _logistic_scores(features, labels, folds, seed, C):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scores = np.zeros(len(labels))
    fold_of = _fold_ids(labels, folds, seed)
    for fold in range(folds):
        held = fold_of == fold
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
        model.fit(features[~held], labels[~held])
        scores[held] = model.decision_function(features[held])
    return scores


def _knn_scores(features, labels, k, temperature):
    """Leave-one-out weighted k-NN vote on cosine similarity (DINO's k-NN classifier)."""
    unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    k = min(k, len(labels) - 1)
    nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    weights = np.exp(np.take_along_axis(similarity, nearest, axis=1) / temperature)
    return (weights * labels[nearest]).sum(1) / weights.sum(1)


def probe_auc(features, labels, method: str = 'logistic', folds: int = 5, seed: int = 0,
              C: float = 1.0, k: int = 20, temperature: float = 0.07) -> dict:
    """Macro ROC AUC of a probe on frozen features, by cross-validation on one labelled set.

    ``'logistic'``: a standardised logistic regression per class, scored out of fold over
    ``folds`` stratified folds. ``'knn'``: a leave-one-out weighted k-NN vote.

    Args:
        features: ``(N, C)`` features.
        labels: ``(N, K)`` multi-hot (or ``(N,)`` binary) labels.
        method: one of :data:`PROBES`.
        folds: folds of the logistic probe; a class needs ``folds`` positives and
            negatives to be scored.
        seed: the fold draw.
        C: inverse regularisation of the logistic regression.
        k, temperature: of the k-NN probe.

    Returns:
        ``{'macro': float, 'per_class': [float or nan, ...]}``; classes that cannot be
        scored are ``nan`` and left out of the macro mean (``nan`` when none can).
    """
    if method not in PROBES:
        raise ValueError(f'method must be one of {PROBES}, got {method!r}')
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if labels.ndim == 1:
        labels = labels[:, None]
    if features.ndim != 2 or labels.ndim != 2 or len(features) != len(labels):
        raise ValueError(f'features {features.shape} and labels {labels.shape} must be (N, C) '
                         'and (N, K) with the same N')
    labels = labels.round().astype(int)
    per_class = []
    for column in labels.T:
        positives = int(column.sum())
        negatives = len(column) - positives
        needed = folds if method == 'logistic' else 1
        if min(positives, negatives) < needed:
            per_class.append(float('nan'))
            continue
        if method == 'logistic':
            scores = _logistic_scores(features, column, folds, seed, C)
        else:
            scores = _knn_scores(features, column, k, temperature)
        per_class.append(roc_auc(scores, column))
    valid = [v for v in per_class if not np.isnan(v)]
    return dict(macro=float(np.mean(valid)) if valid else float('nan'), per_class=per_class)


def target_entropy(logits: torch.Tensor, center: torch.Tensor | float = 0.0,
                   temperature: float = 1.0) -> tuple[float, float]:
    """Entropies (nats) of the distillation targets ``softmax((logits - center) / T)``.

    Returns:
        ``(mean entropy of a row, entropy of the mean row)``. Collapse to one prototype
        drives both to 0; uniform targets drive both to ``log K``. Healthy distillation has
        sharp rows (low first value) spread over many prototypes (high second value).
    """
    targets = torch.softmax((logits.float() - center) / temperature, dim=-1)
    row = -(targets * targets.clamp_min(1e-12).log()).sum(-1).mean()
    mean = targets.mean(0)
    spread = -(mean * mean.clamp_min(1e-12).log()).sum()
    return float(row), float(spread)


def _fit_scores(train_x, train_y, eval_xs, C):
    """Standardised logistic regression on one binary label -> decision scores per eval set;
    a label with one value in training gives constant scores (AUC 0.5)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(np.unique(train_y)) < 2:
        return [np.zeros(len(x)) for x in eval_xs]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000))
    model.fit(train_x, train_y)
    return [model.decision_function(x) for x in eval_xs]


def _macro(per_class):
    valid = [v for v in per_class if not np.isnan(v)]
    return float(np.mean(valid)) if valid else float('nan')


def _cv_macro(x, y, C, folds=3, seed=0):
    """Macro AUC of out-of-fold scores on the training set itself (classes with fewer than
    ``folds`` positives or negatives are left out)."""
    per_class = []
    for column in y.T:
        if min(column.sum(), len(column) - column.sum()) < folds:
            continue
        scores = np.zeros(len(column))
        fold_of = _fold_ids(column, folds, seed)
        for fold in range(folds):
            held = fold_of == fold
            scores[held] = _fit_scores(x[~held], column[~held], (x[held], ), C)[0]
        per_class.append(roc_auc(scores, column))
    return _macro(per_class)


def linear_probe_auc(train: tuple, val: tuple | None, test: tuple,
                     Cs: tuple = (0.01, 0.1, 1.0, 10.0)) -> dict:
    """A linear probe on frozen features: logistic regression per class, the inverse
    regularisation ``C`` chosen by the validation macro AUC (or, with ``val=None``, by
    3-fold cross-validation on the training set), scored on the test set.

    Args:
        train, val, test: ``(features (N, C), multi-hot labels (N, K))`` each; ``val`` may
            be ``None`` (datasets without a third split).
        Cs: the ``C`` values tried.

    Returns:
        ``{'macro': test macro AUC, 'per_class': [...], 'C': the chosen C, 'val_macro': ...}``
        (test classes with a single label value are ``nan`` and left out of the mean).
    """
    def arrays(pair):
        return np.asarray(pair[0], dtype=np.float64), np.asarray(pair[1]).round().astype(int)

    (train_x, train_y), (test_x, test_y) = arrays(train), arrays(test)
    val_x, val_y = arrays(val) if val is not None else (None, None)
    results = []
    for C in Cs:
        test_auc, val_auc = [], []
        for k in range(train_y.shape[1]):
            evals = (test_x, ) if val is None else (test_x, val_x)
            scores = _fit_scores(train_x, train_y[:, k], evals, C)
            test_auc.append(roc_auc(scores[0], test_y[:, k]))
            if val is not None:
                val_auc.append(roc_auc(scores[1], val_y[:, k]))
        val_macro = _macro(val_auc) if val is not None else _cv_macro(train_x, train_y, C)
        results.append(dict(macro=_macro(test_auc), per_class=test_auc, C=C,
                            val_macro=val_macro))
    scored = [r for r in results if not np.isnan(r['val_macro'])]
    # nothing to choose on (e.g. 1 % labels): the middle of the grid
    return max(scored, key=lambda r: r['val_macro']) if scored else results[len(results) // 2]
