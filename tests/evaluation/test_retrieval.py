"""Retrieval Recall@K: ``recall_at_k`` and the ``RetrievalRecall`` metric."""
from __future__ import annotations

import logging

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger

from unimedi.evaluation import RetrievalRecall, recall_at_k
from unimedi.registry import METRICS
from unimedi.structures import MedDataSample

# image i (row) vs report j (column). Rank of the match (items scoring strictly higher):
# i2t rows: 0, 2, 1, 3; t2i columns: 0, 2, 1, 0.
SIMILARITY = torch.tensor([[0.9, 0.1, 0.2, 0.0],
                           [0.8, 0.3, 0.5, 0.1],
                           [0.1, 0.7, 0.6, 0.2],
                           [0.5, 0.6, 0.7, 0.4]])


def test_recall_at_k_known_ranks_i2t():
    recall = recall_at_k(SIMILARITY, ks=(1, 2, 3, 4))
    assert recall == {1: 0.25, 2: 0.5, 3: 0.75, 4: 1.0}


def test_recall_at_k_known_ranks_t2i():
    recall = recall_at_k(SIMILARITY.t(), ks=(1, 2, 3))
    assert recall == {1: 0.5, 2: 0.75, 3: 1.0}


def test_recall_at_k_beyond_gallery_and_rectangular():
    assert recall_at_k(SIMILARITY, ks=(10, ))[10] == 1.0
    # two queries against a gallery of four: query 1's match (0.3) is third
    assert recall_at_k(SIMILARITY[:2], ks=(1, 2, 3)) == {1: 0.5, 2: 0.5, 3: 1.0}


def test_recall_at_k_ties_do_not_push_the_match_down():
    tied = torch.tensor([[0.5, 0.5, 0.5], [0.9, 0.5, 0.1], [0.0, 0.0, 0.0]])
    assert recall_at_k(tied, ks=(1, ))[1] == pytest.approx(2 / 3)


@pytest.mark.parametrize('shape', [(4, ), (5, 4), (2, 2, 2)])
def test_recall_at_k_bad_shape_raises(shape):
    with pytest.raises(ValueError, match=r'similarity must be \(Q, G\)'):
        recall_at_k(torch.zeros(shape))


def _samples(similarity: torch.Tensor, modality: str, offset: int = 0, dim: int = 8) -> list:
    """Samples whose img_embed @ txt_embed.T gives ``similarity`` (one-hot images in the
    block of dimensions starting at ``offset``)."""
    n = similarity.shape[0]
    samples = []
    for i in range(n):
        image = torch.zeros(dim)
        image[offset + i] = 1.0
        text = torch.zeros(dim)
        text[offset:offset + n] = similarity[:, i]
        sample = MedDataSample().set_modality(modality)
        sample.set_field(image, 'img_embed', dtype=torch.Tensor)
        sample.set_field(text, 'txt_embed', dtype=torch.Tensor)
        samples.append(sample)
    return samples


def _evaluate(samples, **kwargs) -> dict:
    evaluator = Evaluator(METRICS.build(dict(type='RetrievalRecall', **kwargs)))
    # two batches, as a runner would feed them
    evaluator.process(samples[:3])
    evaluator.process(samples[3:])
    return evaluator.evaluate(len(samples))


def test_metric_end_to_end():
    metrics = _evaluate(_samples(SIMILARITY, '2d'), ks=(1, 2, 3))
    assert metrics == {
        'retrieval/i2t_R@1': 0.25, 'retrieval/i2t_R@2': 0.5, 'retrieval/i2t_R@3': 0.75,
        'retrieval/t2i_R@1': 0.5, 'retrieval/t2i_R@2': 0.75, 'retrieval/t2i_R@3': 1.0}


def test_metric_modality_filter():
    perfect = torch.eye(3) + 0.1
    samples = _samples(SIMILARITY, '3d', offset=0) + _samples(perfect, '2d', offset=4)
    only_2d = _evaluate(samples, ks=(1, ), modality='2d')
    assert only_2d == {'retrieval/i2t_R@1': 1.0, 'retrieval/t2i_R@1': 1.0}
    only_3d = _evaluate(samples, ks=(1, ), modality='3d', prefix='ct')
    assert only_3d == {'ct/i2t_R@1': 0.25, 'ct/t2i_R@1': 0.5}
    # all seven together: the blocks are orthogonal (cross scores 0) and every match
    # scores above 0, so the ranks stay; recall is pooled over both blocks
    together = _evaluate(samples, ks=(1, ))
    assert together['retrieval/i2t_R@1'] == pytest.approx(4 / 7)
    assert together['retrieval/t2i_R@1'] == pytest.approx(5 / 7)


def test_missing_embeddings_raise():
    metric = RetrievalRecall()
    image_only = dict(modality='2d', img_embed=torch.ones(4))
    with pytest.raises(KeyError, match='img_embed and txt_embed'):
        metric.process({}, [image_only])
    text_only = dict(modality='2d', txt_embed=torch.ones(4))
    with pytest.raises(KeyError, match='img_embed and txt_embed'):
        metric.process({}, [text_only])
    # filtered-out samples are not checked
    RetrievalRecall(modality='3d').process({}, [image_only])


def test_no_samples_and_bad_modality_raise():
    with pytest.raises(ValueError, match='no samples to evaluate'):
        RetrievalRecall(modality='3d').compute_metrics([])
    with pytest.raises(ValueError, match='no samples to evaluate'):
        RetrievalRecall().compute_metrics([])
    with pytest.raises(ValueError, match='modality must be'):
        RetrievalRecall(modality='4d')


class _ListHandler(logging.Handler):

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_absent_modality_is_reported_and_omitted():
    # a retrieval config with per-modality metrics on a 2D-only manifest
    evaluator = Evaluator([
        METRICS.build(dict(type='RetrievalRecall', ks=(1, ), modality='2d', prefix='r2d')),
        METRICS.build(dict(type='RetrievalRecall', ks=(1, ), modality='3d', prefix='r3d'))])
    samples = _samples(torch.eye(3) + 0.1, '2d')
    evaluator.process(samples[:2])
    evaluator.process(samples[2:])
    logger = MMLogger.get_current_instance()
    handler = _ListHandler()
    logger.addHandler(handler)
    try:
        metrics = evaluator.evaluate(len(samples))
    finally:
        logger.removeHandler(handler)
    assert metrics == {'r2d/i2t_R@1': 1.0, 'r2d/t2i_R@1': 1.0}
    absent = [r for r in handler.records if 'no 3d samples' in r.getMessage()]
    assert len(absent) == 1 and absent[0].levelno == logging.INFO
    assert 'r3d' in absent[0].getMessage() and '3 evaluated' in absent[0].getMessage()
    assert not [r for r in handler.records if 'no 2d samples' in r.getMessage()]


@pytest.mark.parametrize('modality', ['2d', '3d', None])
def test_nothing_to_evaluate_is_still_an_error(modality):
    # samples of neither modality (here: none with a modality at all) -> nothing to evaluate
    metric = RetrievalRecall(modality=modality)
    unknown = dict(img_embed=torch.ones(4), txt_embed=torch.ones(4))
    metric.process({}, [unknown] if modality is not None else [])
    with pytest.raises(ValueError, match=rf'no samples to evaluate \(modality={modality}\)'):
        metric.evaluate(1)
