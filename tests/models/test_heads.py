"""ProjectionHead and DINOHead."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from unimedi.models.heads import DINOHead, ProjectionHead
from unimedi.registry import HEADS


@pytest.mark.parametrize('hidden_dim', [None, 16])
def test_projection_head_unit_vectors(hidden_dim):
    torch.manual_seed(0)
    head = ProjectionHead(in_dim=12, out_dim=8, hidden_dim=hidden_dim)
    x = torch.randn(5, 12) * 7
    out = head(x)
    assert out.shape == (5, 8)
    torch.testing.assert_close(out.norm(dim=-1), torch.ones(5))
    # the direction is that of the projection (normalisation only rescales)
    raw = head.layers(x)
    torch.testing.assert_close(out, raw / raw.norm(dim=-1, keepdim=True))
    kinds = [type(m) for m in head.modules() if isinstance(m, (nn.Linear, nn.GELU))]
    assert kinds == ([nn.Linear] if hidden_dim is None else [nn.Linear, nn.GELU, nn.Linear])


def test_projection_head_registry_build():
    head = HEADS.build(dict(type='ProjectionHead', in_dim=4, out_dim=3))
    assert head(torch.randn(2, 4)).shape == (2, 3)


def _last_layer_weight(head: DINOHead) -> torch.Tensor:
    return head.last_layer.weight  # the weight-normalised (out_dim, bottleneck) matrix


@pytest.mark.parametrize('num_layers', [1, 2, 3])
def test_dino_head_shapes(num_layers):
    torch.manual_seed(0)
    head = DINOHead(in_dim=16, out_dim=32, hidden_dim=24, bottleneck_dim=8,
                    num_layers=num_layers)
    assert head.out_dim == 32
    assert head(torch.randn(4, 16)).shape == (4, 32)
    assert head(torch.randn(2, 5, 16)).shape == (2, 5, 32)
    linears = [m for m in head.mlp.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == num_layers
    assert linears[-1].out_features == 8


def test_dino_head_output_is_prototypes_of_normalised_bottleneck():
    torch.manual_seed(0)
    head = DINOHead(in_dim=16, out_dim=10, hidden_dim=24, bottleneck_dim=8, num_layers=2)
    x = torch.randn(3, 16)
    bottleneck = head.mlp(x)
    expected = (bottleneck / bottleneck.norm(dim=-1, keepdim=True)) @ _last_layer_weight(head).t()
    torch.testing.assert_close(head(x), expected)
    # prototypes start with unit norm, so |logit| <= 1
    torch.testing.assert_close(_last_layer_weight(head).norm(dim=1), torch.ones(10))
    assert head(torch.randn(20, 16)).abs().max() <= 1 + 1e-5


def _train_step(head: DINOHead) -> None:
    optimizer = torch.optim.SGD([p for p in head.parameters() if p.requires_grad], lr=10.0)
    target = torch.randn(8, head.out_dim)
    loss = ((head(torch.randn(8, 16)) - target)**2).sum()
    loss.backward()
    optimizer.step()


def test_last_layer_norm_frozen_when_norm_last_layer():
    torch.manual_seed(0)
    head = DINOHead(in_dim=16, out_dim=10, hidden_dim=24, bottleneck_dim=8,
                    norm_last_layer=True)
    norm_param = head.last_layer.parametrizations.weight.original0
    direction = head.last_layer.parametrizations.weight.original1
    assert not norm_param.requires_grad and direction.requires_grad
    before = _last_layer_weight(head).detach().clone()
    _train_step(head)
    after = _last_layer_weight(head).detach()
    assert not torch.allclose(before, after)  # the prototypes did learn
    torch.testing.assert_close(after.norm(dim=1), torch.ones(10))  # at unit norm
    assert torch.equal(norm_param, torch.ones_like(norm_param))


def test_last_layer_norm_learns_without_norm_last_layer():
    torch.manual_seed(0)
    head = DINOHead(in_dim=16, out_dim=10, hidden_dim=24, bottleneck_dim=8,
                    norm_last_layer=False)
    norm_param = head.last_layer.parametrizations.weight.original0
    assert norm_param.requires_grad
    _train_step(head)
    assert not torch.allclose(_last_layer_weight(head).norm(dim=1), torch.ones(10))


def test_dino_head_bad_depth_raises():
    with pytest.raises(ValueError, match='num_layers must be >= 1'):
        DINOHead(in_dim=4, num_layers=0)


def test_projection_head_batch_input_norm_removes_the_common_direction():
    import torch

    from unimedi.models.heads import ProjectionHead
    torch.manual_seed(0)
    common = torch.randn(1, 16) * 10
    x = common + torch.randn(8, 16)  # embeddings dominated by one shared direction
    plain = ProjectionHead(16, 8)
    centred = ProjectionHead(16, 8, input_norm='batch')
    centred.layers.load_state_dict(plain.layers.state_dict())
    off_diagonal = ~torch.eye(8, dtype=torch.bool)
    plain_cos = (plain(x) @ plain(x).t())[off_diagonal].mean()
    centred_cos = (centred(x) @ centred(x).t())[off_diagonal].mean()
    assert plain_cos > 0.8
    assert centred_cos < 0.3


def test_projection_head_rejects_unknown_input_norm():
    import pytest

    from unimedi.models.heads import ProjectionHead
    with pytest.raises(ValueError, match='input_norm'):
        ProjectionHead(16, 8, input_norm='group')
