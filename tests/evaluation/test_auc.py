"""ROC AUC: ``roc_auc`` and ``MultiLabelAUC`` against scikit-learn."""
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from unimedi.evaluation import MultiLabelAUC, roc_auc
from unimedi.registry import METRICS

CLASSES = ('nodule', 'effusion', 'mass', 'atelectasis')


def _tied_data(seed: int, num: int = 60, num_classes: int = len(CLASSES)):
    """Scores on a coarse grid (many ties) and multi-hot targets with both values per class."""
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 5, size=(num, num_classes)) / 4.0
    targets = (rng.random((num, num_classes)) < 0.4).astype(np.float32)
    targets[0], targets[1] = 1, 0  # every class has positives and negatives
    return scores, targets


def _evaluate(scores: np.ndarray, targets: np.ndarray, **kwargs) -> dict:
    metric = MultiLabelAUC(**kwargs)
    samples = [dict(pred_score=torch.as_tensor(s), gt_label=torch.as_tensor(t))
               for s, t in zip(scores, targets)]
    # two batches, as a runner would feed them
    metric.process({}, samples[:len(samples) // 2])
    metric.process({}, samples[len(samples) // 2:])
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_roc_auc_matches_sklearn_with_ties(seed):
    scores, targets = _tied_data(seed)
    assert len(np.unique(scores[:, 0])) < len(scores)  # the data really has ties
    for i in range(scores.shape[1]):
        expected = roc_auc_score(targets[:, i], scores[:, i])
        assert roc_auc(scores[:, i], targets[:, i]) == pytest.approx(expected, abs=1e-12)


def test_roc_auc_extremes_and_ties():
    targets = np.array([0, 0, 1, 1])
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), targets) == 1.0
    assert roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), targets) == 0.0
    assert roc_auc(np.full(4, 0.5), targets) == 0.5  # ties count one half
    # lists and boolean targets are accepted
    assert roc_auc([0.3, 0.7], [False, True]) == 1.0


def test_roc_auc_single_class_is_nan():
    assert math.isnan(roc_auc(np.array([0.1, 0.5, 0.9]), np.ones(3)))
    assert math.isnan(roc_auc(np.array([0.1, 0.5, 0.9]), np.zeros(3)))


def test_roc_auc_shape_mismatch_raises():
    with pytest.raises(ValueError, match='same length'):
        roc_auc(np.array([0.1, 0.2, 0.3]), np.array([0, 1]))
    with pytest.raises(ValueError):
        roc_auc(np.zeros((3, 2)), np.zeros((3, 2)))


@pytest.mark.parametrize('seed', [0, 3])
def test_multilabel_auc_matches_sklearn_per_class_and_macro(seed):
    scores, targets = _tied_data(seed)
    metrics = _evaluate(scores, targets, classes=CLASSES)
    per_class = roc_auc_score(targets, scores, average=None)
    assert set(metrics) == {'cls/auc'} | {f'cls/auc_{c}' for c in CLASSES}
    for name, expected in zip(CLASSES, per_class):
        assert metrics[f'cls/auc_{name}'] == pytest.approx(expected, abs=1e-12)
    assert metrics['cls/auc'] == pytest.approx(
        roc_auc_score(targets, scores, average='macro'), abs=1e-12)
    assert isinstance(metrics['cls/auc'], float)


def test_multilabel_auc_class_names_from_dataset_meta_and_prefix():
    scores, targets = _tied_data(4, num_classes=2)
    metric = MultiLabelAUC(prefix='val')
    metric.dataset_meta = dict(classes=('nodule', 'effusion'))
    metric.process({}, [dict(pred_score=torch.as_tensor(s), gt_label=torch.as_tensor(t))
                        for s, t in zip(scores, targets)])
    metrics = metric.evaluate(len(scores))
    assert set(metrics) == {'val/auc', 'val/auc_nodule', 'val/auc_effusion'}
    assert metrics['val/auc_effusion'] == pytest.approx(
        roc_auc_score(targets[:, 1], scores[:, 1]), abs=1e-12)


def test_multilabel_auc_numbered_classes_without_names():
    scores, targets = _tied_data(5, num_classes=3)
    metrics = _evaluate(scores, targets)
    assert set(metrics) == {'cls/auc', 'cls/auc_0', 'cls/auc_1', 'cls/auc_2'}


def test_multilabel_auc_single_valued_class_is_nan_and_left_out_of_macro():
    scores, targets = _tied_data(6)
    targets[:, 2] = 1  # 'mass': positives only
    targets[:, 3] = 0  # 'atelectasis': negatives only
    metrics = _evaluate(scores, targets, classes=CLASSES)
    assert math.isnan(metrics['cls/auc_mass'])
    assert math.isnan(metrics['cls/auc_atelectasis'])
    expected = roc_auc_score(targets[:, :2], scores[:, :2], average=None)
    assert metrics['cls/auc_nodule'] == pytest.approx(expected[0], abs=1e-12)
    assert metrics['cls/auc'] == pytest.approx(expected.mean(), abs=1e-12)
    assert not math.isnan(metrics['cls/auc'])


def test_multilabel_auc_all_classes_undefined_gives_nan():
    scores, targets = _tied_data(7, num_classes=2)
    targets[:] = 1
    metrics = _evaluate(scores, targets)
    assert math.isnan(metrics['cls/auc'])


def test_multilabel_auc_shape_mismatch_raises():
    scores, targets = _tied_data(8, num_classes=3)
    with pytest.raises(ValueError, match='same number of classes'):
        _evaluate(scores, targets[:, :2])


def test_multilabel_auc_class_names_must_match_scores():
    scores, targets = _tied_data(9, num_classes=3)
    with pytest.raises(ValueError, match='class names'):
        _evaluate(scores, targets, classes=('nodule', 'effusion'))


def test_multilabel_auc_is_registered():
    metric = METRICS.build(dict(type='MultiLabelAUC', classes=['a', 'b']))
    assert isinstance(metric, MultiLabelAUC)
    assert metric.classes == ('a', 'b')
    assert metric.prefix == 'cls'
