"""UniMedI's loss in a 2-process gloo group whose ranks hold different 2D / 3D mixes:
every collective (InfoNCE gather, DINO / iBOT centre updates) must stay in step, and the
centres must agree across ranks afterwards."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

REPO_ROOT = Path(__file__).resolve().parents[2]


def _worker(out_dir: str) -> None:
    import datetime

    import torch.distributed as dist
    dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=30))
    rank = dist.get_rank()
    try:
        from unimedi.registry import MODELS
        from unimedi.structures import MedDataSample
        torch.manual_seed(0)
        model = MODELS.build(dict(
            type='UniMedI',
            vision_encoder=dict(type='UnifiedViT', arch='tiny', tokenizers={
                '2d': dict(type='PatchEmbed2D', img_size=32),
                '3d': dict(type='PatchEmbed3D', img_size=(8, 32, 32))}),
            text_encoder=dict(type='HFTextEncoder', config=dict(
                vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                intermediate_size=64)),
            embed_dim=16, dino_head=dict(type='DINOHead', out_dim=64, hidden_dim=32,
                                         bottleneck_dim=16),
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_ranks_with_different_modality_mixes_stay_in_step(tmp_path):
    env = dict(os.environ, MASTER_ADDR='127.0.0.1', MASTER_PORT=str(_free_port()),
               WORLD_SIZE='2', OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get('PYTHONPATH', '')]))
    procs = [subprocess.Popen([sys.executable, __file__, str(tmp_path)], cwd=REPO_ROOT,
                              env=dict(env, RANK=str(r), LOCAL_RANK=str(r)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for r in range(2)]
    outputs = [p.communicate(timeout=150)[0] for p in procs]
    for rank, (proc, output) in enumerate(zip(procs, outputs)):
        assert proc.returncode == 0, f'rank {rank} failed:\n{output[-3000:]}'
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
