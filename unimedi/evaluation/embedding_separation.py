"""How a common image-report space is organised: by finding, by modality, by pair.

Pure functions on numpy arrays, all in the original embedding space with the cosine
(rows are L2-normalised here, whatever the caller passed), never on a 2D map of it:

- :func:`finding_silhouette`: do embeddings group by finding? (silhouette, cosine)
- :func:`modality_mixing`: are kinds (2D / 3D images, images / reports) mixed among the
  nearest neighbours, or does each kind live in its own region?
- :func:`pair_alignment`: is an image closer to its own report than to the others?

``tools/analysis/embedding_map.py`` prints them beside its t-SNE / UMAP figure.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def _unit_rows(embeddings, name: str = 'embeddings') -> np.ndarray:
    """``(N, E)`` float64 copy with unit-length rows (zero rows stay zero)."""
    matrix = np.asarray(embeddings, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f'{name} must be a non-empty (N, E) array, got shape {matrix.shape}')
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _labels_for(embeddings: np.ndarray, labels: Sequence, name: str) -> np.ndarray:
    """``(N,)`` array of ``labels``, checked to have one entry per embedding row."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(embeddings):
        raise ValueError(f'{name} must have one entry per embedding: got {len(labels)} '
                         f'{name} for {len(embeddings)} embeddings')
    return labels


def finding_silhouette(embeddings, findings: Sequence) -> float:
    """Mean silhouette of the embeddings grouped by finding, with the cosine distance.

    Groups with a single member are left out (a silhouette needs a second member); with
    fewer than 2 groups left the score is undefined.

    Args:
        embeddings: ``(N, E)`` image embeddings.
        findings: ``(N,)`` group of each row (e.g. its first finding, or ``'normal'``).

    Returns:
        ``sklearn.metrics.silhouette_score(..., metric='cosine')`` in ``[-1, 1]`` (1: tight,
        well separated finding groups; about 0: no grouping), or ``nan``.
    """
    from sklearn.metrics import silhouette_score

    matrix = _unit_rows(embeddings)
    findings = _labels_for(matrix, findings, 'findings')
    names, counts = np.unique(findings, return_counts=True)
    keep = np.isin(findings, names[counts > 1])
    if len(names[counts > 1]) < 2:
        return float('nan')
    return float(silhouette_score(matrix[keep], findings[keep], metric='cosine'))


def _neighbours(matrix: np.ndarray, k: int) -> np.ndarray:
    """``(N, k)`` indices of each row's ``k`` nearest other rows (highest cosine first;
    ties go to the lower index)."""
    similarity = matrix @ matrix.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1, kind='stable')[:, :k]


def modality_mixing(embeddings, kinds: Sequence, k: int = 10) -> float:
    """How mixed the kinds are among nearest neighbours, against random mixing.

    With ``N`` points, ``n_c`` of them of kind ``c``, and ``k' = min(k, N - 1)``: for each
    point ``i`` of kind ``c_i``, ``o_i`` is the fraction of its ``k'`` nearest neighbours
    (cosine, itself excluded) of another kind, and ``e_i = (N - n_{c_i}) / (N - 1)`` the
    fraction expected if the kinds were assigned at random (``k'`` draws without
    replacement among the other ``N - 1`` points). The score is

        ``mixing = sum_i o_i / sum_i e_i``

    so its expectation is 1.0 for randomly interleaved kinds and it is 0.0 when every
    neighbourhood holds a single kind (kinds fully separated); above 1, neighbours are
    more often of another kind than chance (e.g. every image next to its report only).

    Args:
        embeddings: ``(N, E)`` embeddings.
        kinds: ``(N,)`` kind of each row (e.g. ``'2d'`` / ``'3d'``, ``'image'`` /
            ``'report'``).
        k: neighbours per point (clipped to ``N - 1``).

    Returns:
        the score, or ``nan`` with fewer than 2 kinds (or fewer than 2 points).
    """
    if k < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    matrix = _unit_rows(embeddings)
    kinds = _labels_for(matrix, kinds, 'kinds')
    names, index, counts = np.unique(kinds, return_inverse=True, return_counts=True)
    total = len(kinds)
    if len(names) < 2:
        return float('nan')
    neighbours = _neighbours(matrix, min(k, total - 1))
    observed = (index[neighbours] != index[:, None]).mean(axis=1)
    expected = (total - counts[index]) / (total - 1)
    return float(observed.sum() / expected.sum())


def pair_alignment(images, reports) -> float:
    """Mean cosine of each image with its own report minus the mean with other reports.

    Args:
        images: ``(N, E)`` image embeddings.
        reports: ``(N, E)`` report embeddings, row ``i`` the report of image ``i``.

    Returns:
        ``mean_i cos(img_i, rep_i) - mean_{i != j} cos(img_i, rep_j)``, in ``[-2, 2]``: 0 when
        a report is no closer to its image than to the others (random init), positive when
        the common space pairs them. Reports with identical text (e.g. two normal cases)
        count as "other" reports, which bounds the score below its maximum.

    Raises:
        ValueError: the shapes differ, or there is a single pair (no "other" report).
    """
    images, reports = _unit_rows(images, 'images'), _unit_rows(reports, 'reports')
    if images.shape != reports.shape:
        raise ValueError(f'images {images.shape} and reports {reports.shape} must have the '
                         'same (N, E) shape: one report per image')
    count = len(images)
    if count < 2:
        raise ValueError('pair_alignment needs at least 2 image-report pairs, got 1')
    similarity = images @ reports.T
    own = np.trace(similarity) / count
    others = (similarity.sum() - np.trace(similarity)) / (count * (count - 1))
    return float(own - others)
