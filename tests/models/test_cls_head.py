"""LinearClsHead: shapes, losses against torch's functional losses, scores, bad arguments."""
import pytest
import torch
import torch.nn.functional as F

from unimedi.models.heads.cls_head import LinearClsHead
from unimedi.registry import HEADS

IN_DIM, NUM_CLASSES, BATCH = 16, 3, 5


def _features(seed: int = 0) -> torch.Tensor:
    return torch.randn(BATCH, IN_DIM, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('multi_label', [False, True])
@pytest.mark.parametrize('input_norm', [None, 'batch', 'layer'])
def test_shapes_and_scores(multi_label, input_norm):
    head = HEADS.build(dict(type='LinearClsHead', in_dim=IN_DIM, num_classes=NUM_CLASSES,
                            multi_label=multi_label, input_norm=input_norm, dropout=0.1))
    head.eval()
    logits = head(_features())
    assert logits.shape == (BATCH, NUM_CLASSES)
    scores = head.scores(logits)
    assert scores.shape == (BATCH, NUM_CLASSES)
    if multi_label:
        torch.testing.assert_close(scores, torch.sigmoid(logits))
    else:
        torch.testing.assert_close(scores, torch.softmax(logits, dim=-1))
        torch.testing.assert_close(scores.sum(dim=1), torch.ones(BATCH))
    assert ((scores >= 0) & (scores <= 1)).all()


def test_bce_equals_functional_with_pos_weight():
    pos_weight = [1.0, 2.0, 5.0]
    head = LinearClsHead(IN_DIM, NUM_CLASSES, multi_label=True, pos_weight=pos_weight)
    logits = head(_features())
    targets = torch.randint(0, 2, (BATCH, NUM_CLASSES)).float()
    expected = F.binary_cross_entropy_with_logits(logits, targets,
                                                  pos_weight=torch.tensor(pos_weight))
    torch.testing.assert_close(head.loss(logits, targets), expected)
    # a buffer: moves with the head and lands in its state dict
    assert 'pos_weight' in head.state_dict()
    plain = LinearClsHead(IN_DIM, NUM_CLASSES, multi_label=True)
    torch.testing.assert_close(plain.loss(logits, targets.long()),
                               F.binary_cross_entropy_with_logits(logits, targets))


@pytest.mark.parametrize('label_smoothing', [0.0, 0.1])
def test_ce_equals_functional(label_smoothing):
    head = LinearClsHead(IN_DIM, NUM_CLASSES, label_smoothing=label_smoothing)
    logits = head(_features())
    targets = torch.tensor([0, 1, 2, 1, 0])
    expected = F.cross_entropy(logits, targets, label_smoothing=label_smoothing)
    torch.testing.assert_close(head.loss(logits, targets), expected)
    torch.testing.assert_close(head.loss(logits, targets.float()), expected)


def test_single_class_multi_label_head():
    head = LinearClsHead(IN_DIM, 1, multi_label=True)
    logits = head(_features())
    assert logits.shape == (BATCH, 1)
    loss = head.loss(logits, torch.ones(BATCH, 1))
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_init_zero_bias_small_weights():
    head = LinearClsHead(IN_DIM, NUM_CLASSES)
    assert torch.all(head.fc.bias == 0)
    assert head.fc.weight.abs().max() < 0.05


@pytest.mark.parametrize('kwargs,match', [
    (dict(num_classes=1), 'num_classes >= 2'),
    (dict(num_classes=0, multi_label=True), 'num_classes must be >= 1'),
    (dict(num_classes=3, input_norm='group'), 'input_norm'),
    (dict(num_classes=3, multi_label=True, pos_weight=[1.0, 2.0]), 'pos_weight'),
    (dict(num_classes=3, pos_weight=[1.0, 2.0, 3.0]), 'pos_weight'),
])
def test_invalid_configs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearClsHead(IN_DIM, **kwargs)


def test_wrong_target_shapes_raise():
    multi_label = LinearClsHead(IN_DIM, NUM_CLASSES, multi_label=True)
    logits = multi_label(_features())
    with pytest.raises(ValueError, match=r'multi-label targets must be \(5, 3\)'):
        multi_label.loss(logits, torch.zeros(BATCH, dtype=torch.long))
    with pytest.raises(ValueError, match='multi-hot'):
        multi_label.loss(logits, torch.zeros(BATCH, NUM_CLASSES + 1))
    multi_class = LinearClsHead(IN_DIM, NUM_CLASSES)
    logits = multi_class(_features())
    with pytest.raises(ValueError, match=r'class indices \(B,\).*multi_label=True'):
        multi_class.loss(logits, torch.zeros(BATCH, NUM_CLASSES))
