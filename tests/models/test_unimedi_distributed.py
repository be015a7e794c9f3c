"""UniMedI's loss in a 2-process gloo group whose ranks hold different 2D / 3D mixes:
every collective (InfoNCE gather, DINO / iBOT centre updates) must stay in step, and the
centres must agree across ranks afterwards."""
import os
import sys

import pytest
import torch

from fakes.ranks import run_ranks

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out


def _worker(out_dir: str) -> None:
    import datetime

    import torch.distributed as dist
    dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=30))
    rank = dist.get_rank()
    try:
        from unimedi.registry import MODELS
        from unimedi.structures import MedDataSample
        from fakes.tiny_unimedi import tiny_unimedi_cfg
        torch.manual_seed(0)
        model = MODELS.build(tiny_unimedi_cfg(
            token_masker=dict(type='RandomRegionSelector', mask_ratio=0.5),
            slice_selector=dict(type='AttentiveSliceSelector', topk=2))).train()
        # rank 0: 2 radiographs + 2 CTs; rank 1: 3 radiographs and no CT
        count_2d, count_3d = (2, 2) if rank == 0 else (3, 0)
        total = count_2d + count_3d
        inputs = {'2d': torch.randn(count_2d, 1, 32, 32),
                  '3d': torch.randn(count_3d, 1, 8, 32, 32) if count_3d else None,
                  'text': dict(input_ids=torch.randint(0, 100, (total, 6)),
                               attention_mask=torch.ones(total, 6, dtype=torch.long))}
        samples = [MedDataSample().set_modality('2d' if i < count_2d else '3d')
                   for i in range(total)]
        for _ in range(2):
            losses = model.loss(inputs, samples)
        torch.save(dict(losses={k: v.detach() for k, v in losses.items()},
                        icl_center=model.cls_distill_loss.center,
                        pcl_center=model.patch_distill_loss.center),
                   os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


def test_ranks_with_different_modality_mixes_stay_in_step(tmp_path):
    run_ranks([__file__, tmp_path], 2)
    ranks = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(2)]
    for result in ranks:
        assert all(torch.isfinite(v).all() for v in result['losses'].values())
        assert {'loss_vl', 'loss_icl', 'loss_pcl'} <= set(result['losses'])
    # one centre update per loss and step over all ranks' rows: identical centres
    for key in ('icl_center', 'pcl_center'):
        torch.testing.assert_close(ranks[0][key], ranks[1][key])
        assert ranks[0][key].abs().sum() > 0
    assert 'sel_prec' not in ranks[1]['losses']


if __name__ == '__main__':
    _worker(sys.argv[1])
