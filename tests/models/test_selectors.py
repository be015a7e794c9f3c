"""Slice selectors (attentive, random) and token maskers (attentive, random)."""
from __future__ import annotations

import pytest
import torch

from unimedi.models.selectors import (AttentiveRegionSelector, AttentiveSliceSelector,
                                      RandomRegionSelector, RandomSliceSelector)
from unimedi.registry import SELECTORS


def _attention_from_slabs(slab_patches) -> torch.Tensor:
    """``(B, d, h*w)`` per-patch values -> ``(B, L)`` attention in (d, h, w) token order."""
    tensor = torch.as_tensor(slab_patches, dtype=torch.float32)
    return tensor.reshape(tensor.shape[0], -1)


# grid (4, 2, 2): 4 slabs of 4 patches. Slab 0 has one very attended patch but the lowest
# mean; slab means: 0.225, 0.3, 0.1, 0.25 -> order 1, 3, 0, 2.
SLABS = [[[0.9, 0.0, 0.0, 0.0], [0.3, 0.3, 0.3, 0.3], [0.1, 0.1, 0.1, 0.1],
          [0.4, 0.1, 0.4, 0.1]]]
GRID = (4, 2, 2)


def test_slice_scores_are_slab_means_repeated_over_patch_depth():
    attention = _attention_from_slabs(SLABS)
    scores = AttentiveSliceSelector().slice_scores(attention, GRID, depth=8)
    expected = torch.tensor([[0.225, 0.225, 0.3, 0.3, 0.1, 0.1, 0.25, 0.25]])
    torch.testing.assert_close(scores, expected)


@pytest.mark.parametrize('kwargs, depth, expected', [
    (dict(ratio=0.5), 8, [2, 3, 6, 7]),  # slabs 1 and 3, two slices each
    (dict(ratio=0.25), 8, [2, 3]),  # slab 1 only
    (dict(topk=3), 8, [2, 3, 6]),  # slab 1, then the lower slice of slab 3
    (dict(topk=5), 8, [0, 2, 3, 6, 7]),
    (dict(ratio=0.5), 4, [1, 3]),  # patch depth 1: one slice per slab
    (dict(ratio=0.25), 16, [4, 5, 6, 7]),  # patch depth 4
    (dict(ratio=0.01), 8, [2]),  # round(0.08) = 0 -> at least one slice
    (dict(ratio=0.01, min_slices=3), 8, [2, 3, 6]),
    (dict(topk=20), 8, list(range(8))),  # clipped at the depth
])
def test_attentive_slices_from_highest_slabs(kwargs, depth, expected):
    selector = AttentiveSliceSelector(**kwargs)
    selected = selector(_attention_from_slabs(SLABS), GRID, depth)
    assert selected.dtype == torch.long
    assert selected.tolist() == [expected]
    assert selector.num_slices(depth) == len(expected)


def test_num_slices_rule():
    assert AttentiveSliceSelector(ratio=0.1).num_slices(64) == 6  # round(6.4)
    assert AttentiveSliceSelector(ratio=0.1).num_slices(68) == 7  # round(6.8)
    assert AttentiveSliceSelector(ratio=0.1, min_slices=10).num_slices(64) == 10
    assert AttentiveSliceSelector(topk=4, ratio=0.9).num_slices(64) == 4
    assert AttentiveSliceSelector(ratio=1.0).num_slices(9) == 9
    assert AttentiveSliceSelector(min_slices=0).num_slices(5) == 1


def test_each_row_is_ranked_on_its_own_and_sorted():
    slabs = [[[0.1] * 4, [0.2] * 4, [0.4] * 4, [0.3] * 4],
             [[0.5] * 4, [0.1] * 4, [0.2] * 4, [0.4] * 4]]
    selected = AttentiveSliceSelector(topk=2)(_attention_from_slabs(slabs), GRID, 4)
    assert selected.tolist() == [[2, 3], [0, 3]]
    # ascending, even though the top-ranked slice comes first in the ranking
    assert (selected[:, 1:] > selected[:, :-1]).all()


def test_ties_go_to_lower_indices():
    equal = torch.full((1, 16), 1.0 / 16)
    assert AttentiveSliceSelector(topk=3)(equal, GRID, 8).tolist() == [[0, 1, 2]]
    slabs = [[[0.3] * 4, [0.1] * 4, [0.3] * 4, [0.3] * 4]]
    assert AttentiveSliceSelector(topk=3)(_attention_from_slabs(slabs), GRID, 8).tolist() == \
        [[0, 1, 4]]
    assert AttentiveSliceSelector(topk=2)(_attention_from_slabs(slabs), GRID, 4).tolist() == \
        [[0, 2]]


def test_gather_picks_the_slices():
    batch, channels, depth, height, width = 2, 3, 6, 4, 5
    volume = torch.randn(batch, channels, depth, height, width)
    indices = torch.tensor([[0, 4], [2, 5]])
    picked = AttentiveSliceSelector.gather(volume, indices)
    assert picked.shape == (batch, 2, channels, height, width)
    for b in range(batch):
        for j in range(2):
            assert torch.equal(picked[b, j], volume[b, :, indices[b, j]])


def test_selected_slices_gathered_from_attention():
    """End to end: the gathered slices are the ones of the highest slab."""
    depth = 8
    volume = torch.arange(depth, dtype=torch.float32).reshape(1, 1, depth, 1, 1).expand(
        1, 2, depth, 3, 3)
    selected = AttentiveSliceSelector(ratio=0.25)(_attention_from_slabs(SLABS), GRID, depth)
    picked = AttentiveSliceSelector.gather(volume, selected)
    assert picked[0, :, 0, 0, 0].tolist() == [2.0, 3.0]


@pytest.mark.parametrize('attention, grid, depth, match', [
    (torch.rand(1, 15), GRID, 8, 'needs their product'),
    (torch.rand(1, 16), GRID, 10, 'cannot be split into 4 slabs'),
])
def test_attentive_bad_inputs_raise(attention, grid, depth, match):
    with pytest.raises(ValueError, match=match):
        AttentiveSliceSelector(ratio=0.5)(attention, grid, depth)


@pytest.mark.parametrize('cls', [AttentiveSliceSelector, RandomSliceSelector])
@pytest.mark.parametrize('kwargs, match', [
    (dict(ratio=0.0), r'ratio must be in \(0, 1\]'),
    (dict(ratio=1.5), r'ratio must be in \(0, 1\]'),
    (dict(topk=0), 'topk must be >= 1'),
])
def test_slice_selector_bad_args_raise(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_random_slices_distinct_sorted_in_range():
    torch.manual_seed(0)
    selector = RandomSliceSelector(ratio=0.25)
    selected = selector(torch.rand(5, 16), GRID, 32)
    assert selected.shape == (5, 8) and selected.dtype == torch.long
    for row in selected.tolist():
        assert row == sorted(set(row))  # distinct and ascending
        assert 0 <= row[0] and row[-1] < 32
    assert len({tuple(r) for r in selected.tolist()}) > 1  # not the same choice every row


def test_random_slices_without_attention():
    torch.manual_seed(0)
    selected = RandomSliceSelector(topk=3)(None, GRID, 8, batch_size=4)
    assert selected.shape == (4, 3)
    assert all(len(set(r)) == 3 for r in selected.tolist())


def test_selectors_build_from_registry():
    assert isinstance(SELECTORS.build(dict(type='AttentiveSliceSelector', ratio=0.2)),
                      AttentiveSliceSelector)
    assert SELECTORS.build(dict(type='RandomRegionSelector', mask_ratio=0.3)).mask_ratio == 0.3


def test_attentive_region_masks_least_attended():
    torch.manual_seed(0)
    length = 16
    attention = torch.stack([torch.randperm(length), torch.randperm(length)]).float()
    mask = AttentiveRegionSelector(mask_ratio=0.3)(attention)
    count = round(0.3 * length)  # 5
    assert mask.dtype == torch.bool and mask.shape == (2, length)
    assert mask.sum(dim=1).tolist() == [count, count]
    for row in range(2):
        # the masked ones are exactly the `count` lowest values
        assert set(attention[row][mask[row]].tolist()) == set(range(count))
        assert attention[row][mask[row]].max() < attention[row][~mask[row]].min()


def test_attentive_region_ties_and_zero_ratio():
    attention = torch.tensor([[0.5, 0.1, 0.1, 0.1, 0.9, 0.1]])
    mask = AttentiveRegionSelector(mask_ratio=0.5)(attention)
    assert mask.tolist() == [[False, True, True, True, False, False]]
    assert not AttentiveRegionSelector(mask_ratio=0.0)(attention).any()


def test_random_region_count_and_randomness():
    torch.manual_seed(0)
    masker = RandomRegionSelector(mask_ratio=0.5)
    attention = torch.rand(6, 64)
    mask = masker(attention)
    assert mask.shape == (6, 64) and mask.dtype == torch.bool
    assert mask.sum(dim=1).tolist() == [32] * 6
    assert len({tuple(r) for r in mask.tolist()}) == 6
    assert RandomRegionSelector(mask_ratio=0.3)(torch.rand(2, 10)).sum(dim=1).tolist() == [3, 3]


@pytest.mark.parametrize('cls', [AttentiveRegionSelector, RandomRegionSelector])
@pytest.mark.parametrize('ratio', [-0.1, 1.0, 1.5])
def test_region_bad_ratio_raises(cls, ratio):
    with pytest.raises(ValueError, match=r'mask_ratio must be in \[0, 1\)'):
        cls(mask_ratio=ratio)


def test_batch_centering_removes_a_bias_shared_by_every_volume():
    """Every CT leans a little towards slab 0; each has its own lesion slab on top of that.
    The paper's rule picks slab 0 everywhere; centred on the batch, each CT's own slab."""
    grid, depth = (4, 1, 1), 8  # 4 slabs of 2 slices
    shared = torch.tensor([0.30, 0.23, 0.23, 0.24])
    own = torch.tensor([[0.0, 0.02, 0.0, 0.0], [0.0, 0.0, 0.02, 0.0], [0.0, 0.0, 0.0, 0.02]])
    attention = shared + own  # (3, 4)
    plain = AttentiveSliceSelector(topk=2)(attention, grid, depth)
    assert plain.tolist() == [[0, 1]] * 3
    centred = AttentiveSliceSelector(topk=2, center='batch')(attention, grid, depth)
    assert centred.tolist() == [[2, 3], [4, 5], [6, 7]]
    # a batch of one is ranked as it is
    single = AttentiveSliceSelector(topk=2, center='batch')(attention[:1], grid, depth)
    assert single.tolist() == [[0, 1]]
    with pytest.raises(ValueError, match="center must be None or 'batch'"):
        AttentiveSliceSelector(center='mean')
