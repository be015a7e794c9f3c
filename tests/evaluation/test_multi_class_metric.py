"""MultiClassMetric: accuracy, balanced accuracy and one-vs-rest AUC against scikit-learn."""
import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

from unimedi.evaluation.metrics.multi_class import MultiClassMetric
from unimedi.registry import METRICS

CLASSES = ('normal', 'pneumonia', 'covid', 'other')


def _data(seed: int, num_classes: int, num: int = 40):
    """Softmax scores and labels in which every class occurs."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(num, num_classes))
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, num_classes, size=num)
    labels[:num_classes] = np.arange(num_classes)
    return scores.astype(np.float32), labels


def _evaluate(scores, labels, dataset_classes, label_shape=(), **kwargs) -> dict:
    metric = MultiClassMetric(**kwargs)
    metric.dataset_meta = dict(classes=dataset_classes)
    samples = [dict(pred_score=torch.as_tensor(s),
                    gt_label=torch.tensor(int(y)).reshape(label_shape))
               for s, y in zip(scores, labels)]
    half = len(samples) // 2
    metric.process(None, samples[:half])
    metric.process(None, samples[half:])
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('num_classes,seed', [(3, 0), (4, 1), (4, 2)])
def test_matches_sklearn(num_classes, seed):
    scores, labels = _data(seed, num_classes)
    classes = CLASSES[:num_classes]
    metrics = _evaluate(scores, labels, classes)
    # probabilities in float32 may not sum to 1 exactly enough for sklearn's check
    probs = scores.astype(np.float64)
    probs /= probs.sum(axis=1, keepdims=True)
    predicted = scores.argmax(axis=1)
    assert metrics['cls/acc'] == pytest.approx(accuracy_score(labels, predicted))
    assert metrics['cls/balanced_acc'] == pytest.approx(
        balanced_accuracy_score(labels, predicted))
    assert metrics['cls/auc'] == pytest.approx(
        roc_auc_score(labels, probs, multi_class='ovr', average='macro'), abs=1e-6)
    for k, name in enumerate(classes):
        assert metrics[f'cls/auc_{name}'] == pytest.approx(
            roc_auc_score(labels == k, scores[:, k]), abs=1e-12)
        recall = (predicted[labels == k] == k).mean()
        assert metrics[f'cls/recall_{name}'] == pytest.approx(recall)
    assert set(metrics) == {f'cls/{k}' for k in ('acc', 'balanced_acc', 'auc')} | {
        f'cls/{kind}_{name}' for kind in ('auc', 'recall') for name in classes}


def test_label_shapes_one_element_accepted_and_classes_argument():
    scores, labels = _data(3, 3)
    a = _evaluate(scores, labels, CLASSES[:3])
    b = _evaluate(scores, labels, CLASSES[:3], label_shape=(1, ))
    assert a == pytest.approx(b)
    # explicit class names win over the dataset's; the prefix is configurable
    c = _evaluate(scores, labels, ('x', 'y', 'z'), classes=('a', 'b', 'c'), prefix='val')
    assert 'val/auc_a' in c and c['val/auc'] == pytest.approx(a['cls/auc'])


def test_built_from_registry_without_dataset_classes():
    metric = METRICS.build(dict(type='MultiClassMetric'))
    scores, labels = _data(4, 3)
    result = metric.compute_metrics([(torch.as_tensor(s), int(y))
                                     for s, y in zip(scores, labels)])
    assert {'auc_0', 'auc_1', 'auc_2', 'recall_2'} <= set(result)


def test_absent_class_is_nan_and_left_out_of_means():
    scores, labels = _data(5, 4, num=30)
    labels = np.where(labels == 2, 0, labels)  # class 2 never occurs
    assert 2 not in labels
    metrics = _evaluate(scores, labels, CLASSES)
    assert math.isnan(metrics['cls/auc_covid'])
    assert math.isnan(metrics['cls/recall_covid'])
    present = [k for k in range(4) if k != 2]
    expected_auc = np.mean([roc_auc_score(labels == k, scores[:, k]) for k in present])
    assert metrics['cls/auc'] == pytest.approx(expected_auc)
    predicted = scores.argmax(axis=1)
    expected_bacc = np.mean([(predicted[labels == k] == k).mean() for k in present])
    assert metrics['cls/balanced_acc'] == pytest.approx(expected_bacc)
    with warnings.catch_warnings():  # sklearn warns about the absent class, same value
        warnings.simplefilter('ignore')
        assert metrics['cls/balanced_acc'] == pytest.approx(
            balanced_accuracy_score(labels, predicted))
    assert not math.isnan(metrics['cls/acc'])


def test_multi_hot_gt_label_raises():
    metric = MultiClassMetric()
    with pytest.raises(ValueError, match='one class index per sample'):
        metric.process(None, [dict(pred_score=torch.rand(3), gt_label=torch.tensor([0., 1., 1.]),
                                   img_path='a.png')])


def test_class_name_count_mismatch_raises():
    scores, labels = _data(6, 3)
    with pytest.raises(ValueError, match='class names'):
        _evaluate(scores, labels, CLASSES)  # 4 names, 3 scores
    with pytest.raises(ValueError, match='class names'):
        _evaluate(scores, labels, CLASSES[:3], classes=('a', 'b'))


def test_label_out_of_range_raises():
    scores, labels = _data(7, 3)
    labels[0] = 3
    with pytest.raises(ValueError, match='gt_label values'):
        _evaluate(scores, labels, CLASSES[:3])
