"""UnifiedViT: shapes, the [CLS] -> patch attention, masking, extra tokens, features."""
from __future__ import annotations

import math

import pytest
import torch

from unimedi.models.encoders.unified_vit import ARCH_SETTINGS, UnifiedViT
from unimedi.registry import ENCODERS

TOKENIZERS = {
    '2d': dict(type='PatchEmbed2D', patch_size=16, img_size=64),
    '3d': dict(type='PatchEmbed3D', patch_size=(4, 16, 16), img_size=(16, 64, 64)),
}
CUSTOM_ARCH = dict(embed_dim=48, depth=3, num_heads=4, mlp_ratio=2.0)


def _vit(arch='tiny', **kwargs) -> UnifiedViT:
    torch.manual_seed(0)
    model = UnifiedViT(arch=arch, tokenizers=TOKENIZERS, **kwargs)
    return model.eval()


def _input(modality: str, batch: int = 2, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, 1, 64, 64) if modality == '2d' else (batch, 1, 16, 64, 64)
    return torch.randn(shape, generator=generator)


@pytest.fixture(scope='module')
def vit() -> UnifiedViT:
    return _vit()


@pytest.mark.parametrize('arch, width, depth',
                         [('tiny', 64, 2), ('demo', 128, 4), (CUSTOM_ARCH, 48, 3)])
@pytest.mark.parametrize('modality, grid', [('2d', (4, 4)), ('3d', (4, 4, 4))])
def test_output_shapes(arch, width, depth, modality, grid):
    model = _vit(arch)
    assert (model.embed_dim, model.depth, len(model.blocks)) == (width, depth, depth)
    out = model(_input(modality, batch=3), modality, return_attention=True,
                return_features=True)
    length = math.prod(grid)
    assert out['grid'] == grid
    assert out['cls'].shape == (3, width)
    assert out['patch'].shape == (3, length, width)
    assert out['extra'].shape == (3, 0, width)
    assert out['cls_attention'].shape == (3, length)
    assert len(out['features']) == 1 and out['features'][0].shape == (3, length, width)


def test_other_input_size_uses_interpolated_positions(vit):
    out = vit(torch.randn(1, 1, 32, 48), '2d')
    assert out['grid'] == (2, 3) and out['patch'].shape == (1, 6, 64)
    out = vit(torch.randn(1, 1, 8, 32, 64), '3d')
    assert out['grid'] == (2, 2, 4) and out['patch'].shape == (1, 16, 64)


def _manual_cls_attention(model: UnifiedViT, x: torch.Tensor, modality: str) -> torch.Tensor:
    """softmax(q_cls . K_patches^T / sqrt(head_dim)) over the L patch keys, mean over heads
    and layers, from the inputs each attention module receives."""
    seen = []
    handles = [block.attn.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
               for block in model.blocks]
    try:
        with torch.no_grad():
            out = model(x, modality)
    finally:
        for handle in handles:
            handle.remove()
    assert len(seen) == model.depth
    length = out['patch'].shape[1]
    heads, head_dim = model.num_heads, model.embed_dim // model.num_heads
    start = 1 + model.num_registers  # [CLS], then the registers, then the patches
    per_layer = []
    for block, tokens in zip(model.blocks, seen):
        qkv = tokens @ block.attn.qkv.weight.t() + block.attn.qkv.bias
        q, k, _ = qkv.split(model.embed_dim, dim=-1)
        q_cls = q[:, 0].reshape(-1, heads, head_dim)  # (B, H, d)
        k_patch = k[:, start:start + length].reshape(-1, length, heads, head_dim)  # (B, L, H, d)
        logits = torch.einsum('bhd,blhd->bhl', q_cls, k_patch) / math.sqrt(head_dim)
        weights = logits.exp() / logits.exp().sum(dim=-1, keepdim=True)
        per_layer.append(weights.mean(dim=1))
    return torch.stack(per_layer).mean(dim=0)


@pytest.mark.parametrize('arch', ['tiny', CUSTOM_ARCH])
@pytest.mark.parametrize('modality', ['2d', '3d'])
def test_cls_attention_matches_explicit_computation(arch, modality):
    model = _vit(arch)
    x = _input(modality)
    with torch.no_grad():
        attention = model(x, modality, return_attention=True)['cls_attention']
    expected = _manual_cls_attention(model, x, modality)
    torch.testing.assert_close(attention, expected, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(attention.sum(dim=1), torch.ones(x.shape[0]))
    assert (attention > 0).all()
    # not uniform: the test would not notice a constant output otherwise
    assert attention.std(dim=1).min() > 0


@pytest.mark.parametrize('modality', ['2d', '3d'])
def test_registers_take_part_in_attention_but_not_in_the_outputs(modality):
    model = _vit(num_registers=3)
    plain = _vit()
    x = _input(modality)
    with torch.no_grad():
        out = model(x, modality, return_attention=True)
        reference = plain(x, modality)
    assert model.register_tokens.shape == (1, 3, 64)
    assert out['patch'].shape == reference['patch'].shape and out['extra'].shape[1] == 0
    # the [CLS] attention still covers exactly the patch keys, skipping the registers
    torch.testing.assert_close(out['cls_attention'], _manual_cls_attention(model, x, modality),
                               atol=1e-5, rtol=1e-4)
    assert 'register_tokens' in model.no_weight_decay()
    # the registers are attended to: other register values give another [CLS] (a random
    # change: a constant shift of every channel is invisible behind the pre-norm LayerNorms)
    with torch.no_grad():
        model.register_tokens.add_(torch.randn_like(model.register_tokens))
        shifted = model(x, modality)['cls']
    assert not torch.allclose(shifted, out['cls'], atol=1e-4)


def test_negative_registers_raise():
    with pytest.raises(ValueError, match='num_registers'):
        _vit(num_registers=-1)


def test_cls_attention_ignores_extra_tokens(vit):
    """The softmax runs over the L patch keys only, even with extra tokens appended."""
    x = _input('3d')
    extra = vit.embed_extra(torch.randn(2, 2, 1, 64, 64), '2d')
    with torch.no_grad():
        attention = vit(x, '3d', extra_tokens=extra, return_attention=True)['cls_attention']
    assert attention.shape == (2, 64)
    torch.testing.assert_close(attention.sum(dim=1), torch.ones(2))


@pytest.mark.parametrize('modality', ['2d', '3d'])
def test_return_attention_does_not_change_outputs(vit, modality):
    x = _input(modality)
    with torch.no_grad():
        plain = vit(x, modality)
        with_attention = vit(x, modality, return_attention=True)
    assert 'cls_attention' not in plain
    assert torch.equal(plain['cls'], with_attention['cls'])
    assert torch.equal(plain['patch'], with_attention['patch'])


def test_embed_replaces_exactly_the_masked_tokens(vit):
    x = _input('2d')
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0, [1, 5, 6]] = True
    mask[1, [0, 15]] = True
    with torch.no_grad():
        plain, grid = vit.embed(x, '2d')
        masked, _ = vit.embed(x, '2d', mask)
        positions = vit.tokenizers['2d'].position_embedding(grid)
    expected_masked = (vit.mask_token + positions).expand(2, -1, -1)
    assert torch.equal(masked[~mask], plain[~mask])
    torch.testing.assert_close(masked[mask], expected_masked[mask])
    assert not torch.allclose(plain[mask], masked[mask])


@pytest.mark.parametrize('modality, length', [('2d', 16), ('3d', 64)])
def test_mask_changes_masked_outputs_and_all_false_changes_nothing(vit, modality, length):
    x = _input(modality)
    mask = torch.zeros(2, length, dtype=torch.bool)
    mask[:, ::3] = True
    with torch.no_grad():
        plain = vit(x, modality)
        none_masked = vit(x, modality, mask=torch.zeros(2, length, dtype=torch.bool))
        masked = vit(x, modality, mask=mask)
    assert torch.equal(none_masked['cls'], plain['cls'])
    assert torch.equal(none_masked['patch'], plain['patch'])
    difference = (masked['patch'] - plain['patch']).abs().amax(dim=-1)
    assert (difference[mask] > 1e-4).all()
    assert not torch.allclose(masked['cls'], plain['cls'])


def test_mask_shape_is_checked(vit):
    with pytest.raises(ValueError, match='mask shape'):
        vit(_input('2d'), '2d', mask=torch.zeros(2, 15, dtype=torch.bool))


def test_extra_tokens_change_cls_and_keep_patch_shape(vit):
    x = _input('3d')
    slices = torch.randn(2, 3, 1, 64, 64)
    extra = vit.embed_extra(slices, '2d')
    assert extra.shape == (2, 3 * 16, 64)
    with torch.no_grad():
        tokens, _ = vit.embed(slices.flatten(0, 1), '2d')
        torch.testing.assert_close(extra, tokens.reshape(2, 48, 64) + vit.extra_embed)
        plain = vit(x, '3d')
        with_extra = vit(x, '3d', extra_tokens=extra)
    assert with_extra['patch'].shape == plain['patch'].shape == (2, 64, 64)
    assert with_extra['extra'].shape == (2, 48, 64)
    assert not torch.allclose(with_extra['cls'], plain['cls'], atol=1e-4)


@pytest.mark.parametrize('modality, grid', [('2d', (4, 4)), ('3d', (4, 4, 4))])
def test_get_intermediate_layers(modality, grid):
    model = _vit(CUSTOM_ARCH, out_indices=(-1, ))
    x = _input(modality)
    block_outputs, seen_out_indices = [], set()

    def record(module, args, out):
        block_outputs.append(out[0])
        seen_out_indices.add(model.out_indices)

    handles = [block.register_forward_hook(record) for block in model.blocks]
    with torch.no_grad():
        maps = model.get_intermediate_layers(x, modality, indices=(0, -1))
    for handle in handles:
        handle.remove()
    length = math.prod(grid)
    assert len(maps) == 2
    for feature, index in zip(maps, (0, 2)):
        assert feature.shape == (2, 48, *grid)
        expected = block_outputs[index][:, 1:1 + length].transpose(1, 2).reshape(2, 48, *grid)
        assert torch.equal(feature, expected)
    assert not torch.allclose(maps[0], maps[1])
    # the encoder's state is not changed, not even while the call runs (another thread or a
    # hook sees the configured out_indices throughout)
    assert seen_out_indices == {(2, )} and model.out_indices == (2, )
    with torch.no_grad():
        default = model.get_intermediate_layers(x, modality)
    assert len(default) == 1 and torch.equal(default[0], maps[1])


def test_drop_path_only_in_train_mode():
    torch.manual_seed(0)
    model = UnifiedViT(arch='tiny', tokenizers=TOKENIZERS, drop_path_rate=0.5)
    reference = UnifiedViT(arch='tiny', tokenizers=TOKENIZERS, drop_path_rate=0.0)
    reference.load_state_dict(model.state_dict())
    x = _input('2d', batch=4)
    with torch.no_grad():
        model.train()
        reference.train()
        torch.manual_seed(1)
        first = model(x, '2d')['cls']
        torch.manual_seed(2)
        second = model(x, '2d')['cls']
        torch.manual_seed(1)
        ref_first = reference(x, '2d')['cls']
        torch.manual_seed(2)
        ref_second = reference(x, '2d')['cls']
        model.eval()
        reference.eval()
        eval_out = model(x, '2d')['cls']
        ref_eval = reference(x, '2d')['cls']
    assert not torch.allclose(first, second)  # stochastic depth in training
    assert torch.equal(ref_first, ref_second)  # nothing else is random
    assert torch.equal(eval_out, ref_eval)  # and nothing is dropped in eval


def test_registry_build_and_default_tokenizers():
    model = ENCODERS.build(dict(type='UnifiedViT', arch='tiny', in_channels=2))
    assert set(model.tokenizers) == {'2d', '3d'}
    assert model.tokenizers['2d'].in_channels == 2
    assert model.tokenizers['3d'].patch_size == (4, 16, 16)
    assert model.tokenizers['2d'].embed_dim == ARCH_SETTINGS['tiny']['embed_dim']


def test_only_one_tokenizer_rejects_the_other_modality():
    model = UnifiedViT(arch='tiny', tokenizers={'2d': TOKENIZERS['2d']})
    with pytest.raises(ValueError, match="no tokenizer for modality '3d'"):
        model(_input('3d'), '3d')


@pytest.mark.parametrize('kwargs, match', [
    (dict(arch='huge'), "unknown arch 'huge'"),
    (dict(arch=dict(embed_dim=64, depth=2)), 'missing'),
    (dict(arch=dict(embed_dim=30, depth=1, num_heads=4)), 'divisible by num_heads'),
    (dict(arch='tiny', tokenizers={'2D': TOKENIZERS['2d']}), 'tokenizers keys'),
    (dict(arch='tiny', tokenizers={'2d': TOKENIZERS['2d'], 'video': TOKENIZERS['3d']}),
     'tokenizers keys'),
])
def test_bad_configs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UnifiedViT(**kwargs)


def test_no_weight_decay_names_are_parameters(vit):
    names = vit.no_weight_decay()
    parameters = dict(vit.named_parameters())
    assert names == {'cls_token', 'cls_pos', 'mask_token', 'extra_embed',
                     'tokenizers.2d.pos_embed', 'tokenizers.3d.pos_embed'}
    assert names <= set(parameters)


def test_attention_layers_averages_the_last_blocks_only():
    import torch

    from unimedi.models.encoders import UnifiedViT
    torch.manual_seed(0)
    vit = UnifiedViT(arch=dict(embed_dim=32, depth=3, num_heads=2),
                     tokenizers={'2d': dict(type='PatchEmbed2D', img_size=32)}).eval()
    x = torch.rand(2, 1, 32, 32)
    rows = []
    hooks = [blk.attn.register_forward_hook(
        lambda m, i, o: rows.append(None if o[1] is None else o[1].mean(1)))
             for blk in vit.blocks]
    with torch.no_grad():
        last = vit(x, '2d', return_attention=True, attention_layers=1)['cls_attention']
        assert len(rows) == 3 and rows[0] is None and rows[1] is None
        torch.testing.assert_close(last, rows[2])
        rows.clear()
        every = vit(x, '2d', return_attention=True)['cls_attention']
        torch.testing.assert_close(every, sum(rows) / 3)
    for hook in hooks:
        hook.remove()
    with pytest.raises(ValueError, match='attention_layers'):
        vit(x, '2d', return_attention=True, attention_layers=4)


def _loss_and_grads(model: UnifiedViT, modality: str, seed: int = 3):
    torch.manual_seed(seed)  # the drop-path draws
    x = _input(modality)
    mask = torch.zeros(2, 16 if modality == '2d' else 64, dtype=torch.bool)
    mask[:, ::3] = True
    extra = model.embed_extra(torch.randn(2, 2, 1, 64, 64, generator=torch.Generator()
                                          .manual_seed(4)))
    out = model(x, modality, mask=mask, extra_tokens=extra, return_features=True)
    loss = out['cls'].square().sum() + out['patch'].mean() + out['extra'].mean() \
        + sum(f.square().mean() for f in out['features'])
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return loss.detach(), grads


@pytest.mark.parametrize('modality', ['2d', '3d'])
def test_grad_checkpointing_keeps_loss_and_gradients(modality):
    """Recomputing the blocks in the backward pass (drop path on: the replayed random
    draws must match) gives the same loss and gradients as storing the activations."""
    plain = _vit(drop_path_rate=0.2).train()
    checkpointed = _vit(drop_path_rate=0.2, grad_checkpointing=True).train()
    loss, grads = _loss_and_grads(plain, modality)
    loss_ckpt, grads_ckpt = _loss_and_grads(checkpointed, modality)
    torch.testing.assert_close(loss_ckpt, loss, atol=1e-6, rtol=0)
    assert grads_ckpt.keys() == grads.keys() and len(grads) > 10
    for name in grads:
        torch.testing.assert_close(grads_ckpt[name], grads[name], atol=1e-6, rtol=0,
                                   msg=lambda m, n=name: f'{n}: {m}')


def test_grad_checkpointing_recomputes_blocks_only_with_gradients(monkeypatch):
    model = _vit(grad_checkpointing=True)
    calls = []
    original = torch.utils.checkpoint.checkpoint
    monkeypatch.setattr(torch.utils.checkpoint, 'checkpoint',
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    with torch.no_grad():  # the teacher's pass: nothing to recompute
        teacher = model(_input('3d'), '3d', return_attention=True)
    assert calls == []
    student = model(_input('3d'), '3d', return_attention=True)
    assert len(calls) == model.depth
    torch.testing.assert_close(student['cls_attention'], teacher['cls_attention'])
    model.set_grad_checkpointing(False)
    model(_input('2d'), '2d')
    assert len(calls) == model.depth
