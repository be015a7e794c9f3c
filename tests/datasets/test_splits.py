"""stratified_fraction: size, stratification, determinism, errors."""
import numpy as np
import pytest

from unimedi.datasets.splits import stratified_fraction


def _multi_label(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, 3)) < [0.5, 0.2, 0.05]).astype(int)


@pytest.mark.parametrize('fraction', [0.01, 0.1, 0.5])
def test_size_and_class_balance_follow_the_fraction(fraction):
    labels = np.repeat(np.arange(4), [500, 300, 150, 50])
    chosen = stratified_fraction(labels, fraction, seed=3)
    assert len(chosen) == round(fraction * 1000)
    assert len(set(chosen)) == len(chosen) and chosen == sorted(chosen)
    counts = np.bincount(labels[chosen], minlength=4)
    expected = np.array([500, 300, 150, 50]) * fraction
    assert np.all(np.abs(counts - expected) <= 1)


def test_multi_label_rows_are_stratified_by_their_label_vector():
    labels = _multi_label()
    chosen = stratified_fraction(labels, 0.1, seed=0)
    assert len(chosen) == 100
    prevalence_all = labels.mean(axis=0)
    prevalence_subset = labels[chosen].mean(axis=0)
    assert np.all(np.abs(prevalence_subset - prevalence_all) < 0.03)


def test_seeded_stable_and_seed_dependent():
    labels = _multi_label()
    first = stratified_fraction(labels, 0.1, seed=7)
    assert first == stratified_fraction(labels.copy(), 0.1, seed=7)
    assert first != stratified_fraction(labels, 0.1, seed=8)
    assert stratified_fraction(labels, 1.0) == list(range(len(labels)))
    assert len(stratified_fraction(labels[:10], 0.01)) == 1  # never empty


@pytest.mark.parametrize('fraction', [0.0, -0.1, 1.5])
def test_bad_fraction_raises(fraction):
    with pytest.raises(ValueError, match='fraction'):
        stratified_fraction([0, 1], fraction)
