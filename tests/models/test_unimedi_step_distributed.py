"""One full UniMedI training step on 2 gloo (CPU) processes equals the same step on 1 process
with the same global batch.

The step is the one training runs: ``MMDistributedDataParallel(find_unused_parameters=True)``
(as ``configs/_base_/schedules/pretrain_adamw_cosine.py``), its ``train_step`` (the data
preprocessor with the text tokenizer, the EMA teacher's pass, attentive slice selection,
attentive masking, the masked student, ``loss_vl`` / ``loss_icl`` / ``loss_pcl``,
backward, DDP's gradient averaging, an SGD step), then ``momentum_update`` (what
``TeacherEMAHook`` calls). The single process runs the same code in a group of one.

The global batch is 6 radiographs and 2 CTs: rank 0 holds 2 radiographs and both CTs,
rank 1 four radiographs and no CT (its 3D tokenizer and slice path are unused), so each
rank holds 4 samples. With equal local batch sizes each loss is, by construction, the mean
over ranks of the local losses:

- ``loss_vl``: every rank's queries against the gathered batch, a sum over its rows / 4;
- ``loss_icl`` / ``loss_pcl``: per modality a mean over rows (masked tokens; every row of a
  modality masks the same number of tokens) times the rows, summed, / the local batch;

and DDP's averaged gradient is the gradient of that mean (``all_gather``'s backward brings
the other rank's InfoNCE gradients to the owner of the rows). Dropout and drop path are 0
and the masks are attentive (no randomness), so the test asserts:

- the masks and the selected CT slices of the two ranks are the single process's rows;
- ``loss_vl``, ``loss_icl``, ``loss_pcl`` and their sum: mean over ranks == single process
  (atol 1e-5);
- after the step, every student and teacher parameter and buffer (the DINO / iBOT centres
  included) equals the single process's on both ranks (atol 1e-6 plus 1e-4 of the
  weight's own step), and the step moved
  the weights (the 3D tokenizer too, through rank 0 alone, and the teacher by EMA).
"""
from __future__ import annotations

import os
import sys

import pytest
import torch

from fakes.ranks import finish, start_ranks
from fakes.tiny_unimedi import tiny_unimedi_cfg

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

WORLD_SIZE = 2
#: the global batch, in the sampler's order (radiographs and CTs interleaved on rank 0);
#: rank 0 holds samples 0-3, rank 1 samples 4-7.
MODALITY_ORDER = {
    'ddp': ('2d', '3d', '2d', '3d', '2d', '2d', '2d', '2d'),  # rank 1: no CT
    # FSDP gathers a block's parameters at each call, so every rank must run the same
    # passes: a CT on every rank (ModalityRatioBatchSampler in the FSDP config)
    'fsdp': ('2d', '3d', '2d', '3d', '2d', '2d', '3d', '3d'),
}
RANK_SAMPLES = {0: (0, 1, 2, 3), 1: (4, 5, 6, 7)}
REPORTS = ('small left pleural effusion', 'nodule in the right upper lobe',
           'the lungs are clear', 'ground glass opacities bilaterally',
           'cardiomegaly without edema', 'right lower lobe consolidation',
           'no acute cardiopulmonary process', 'mild interstitial edema')
LOSS_KEYS = ('loss_vl', 'loss_icl', 'loss_pcl', 'loss')
LOSS_ATOL, WEIGHT_ATOL = 1e-5, 1e-6
MOMENTUM = 0.9
#: With SGD the two runs' weights differ by ``lr`` times the fp32 rounding of the gradients
#: (4 + 4 rows reduced in another order than 8): ~6e-5 at lr 1 (on ``dino_head.mlp.4.bias``,
#: whose gradient is ~1e3), ~3e-7 at this lr, while the step moves the weights by ~1e-4
#: (text encoder, 3D tokenizer) to ~6e-3 (ViT blocks). AdamW's first step is
#: ~``lr * sign(grad)``: it blows up the rounding noise of gradients that are exactly 0 in
#: exact arithmetic (the attention key biases: softmax ignores a shift of all keys) to
#: ~0.15 lr, so the key biases would differ by 1.5e-4 at lr 1e-3 (every other weight agrees
#: within 3e-7 with AdamW too). How far the rounding goes depends on the CPU's kernels
#: (the same FSDP step differs by 6e-6 on ``dino_head.mlp.4.bias`` on another machine, a
#: 1e-5 part of that weight's step), so a weight may differ by ``WEIGHT_ATOL`` plus
#: ``STEP_RTOL`` of its own step.
SGD_LR = 5e-3
STEP_RTOL = 1e-4


def _model_cfg() -> dict:
    return tiny_unimedi_cfg(
        vocab_size=30522, text_dropout=False, vision_encoder=dict(drop_path_rate=0.0, tokenizers={
            '2d': dict(type='PatchEmbed2D', img_size=32, patch_size=8),  # 16 tokens
            '3d': dict(type='PatchEmbed3D', img_size=(8, 32, 32), patch_size=(4, 8, 8))}),
        token_masker=dict(type='AttentiveRegionSelector', mask_ratio=0.5),
        slice_selector=dict(type='AttentiveSliceSelector', topk=2),
        # fixed-length padding: every process tokenizes to the same shapes
        data_preprocessor=dict(type='MedDataPreprocessor', text_tokenizer=dict(
            type='HFTextTokenizer', max_length=16, padding='max_length')))


def _global_batch(wrapper: str) -> list:
    """``(modality, image)`` of every sample of the global batch (same in every process)."""
    generator = torch.Generator().manual_seed(1)
    shapes = {'2d': (1, 32, 32), '3d': (1, 8, 32, 32)}
    return [(m, torch.randn(shapes[m], generator=generator)) for m in MODALITY_ORDER[wrapper]]


class _Recorder:
    """Wraps a selector and keeps what it returned (masks, slice indices)."""

    def __init__(self, selector):
        self.selector = selector
        self.outputs = []

    def __call__(self, *args, **kwargs):
        out = self.selector(*args, **kwargs)
        self.outputs.append(out.detach().clone())
        return out


def _wrap(model, wrapper: str):
    """DDP as training configures it, or FSDP with unimedi's wrap policy (on the CPU)."""
    if wrapper == 'ddp':
        from mmengine.model import MMDistributedDataParallel
        return MMDistributedDataParallel(module=model, device_ids=None,
                                         find_unused_parameters=True)
    from mmengine.model.wrappers import MMFullyShardedDataParallel

    from unimedi.engine.fsdp import transformer_layer_wrap_policy
    return MMFullyShardedDataParallel(module=model, device_id=torch.device('cpu'),
                                      auto_wrap_policy=transformer_layer_wrap_policy,
                                      use_orig_params=True)


def _full_state(wrapped, model) -> dict:
    """The whole (unsharded) state dict with the plain parameter names."""
    from unimedi.engine.hooks.teacher_ema_hook import _full_parameters
    with _full_parameters(wrapped):
        return {k.replace('_fsdp_wrapped_module.', ''): v.detach().clone()
                for k, v in model.state_dict().items()}


def _worker(out_dir: str, wrapper: str, layout: str) -> None:
    import datetime

    import torch.distributed as dist
    from mmengine.optim import OptimWrapper

    from unimedi.engine.hooks.teacher_ema_hook import _full_parameters

    dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=60))
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        from unimedi.registry import MODELS
        from unimedi.structures import MedDataSample
        torch.manual_seed(0)
        model = MODELS.build(_model_cfg())
        model.init_weights()  # as the runner: the teacher starts as a copy of the student
        masker, slicer = _Recorder(model.token_masker), _Recorder(model.slice_selector)
        model.token_masker, model.slice_selector = masker, slicer
        initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
        ddp = _wrap(model, wrapper)
        ddp.train()
        # SGD: the new weights are ``w - lr * averaged gradient`` (AdamW would not do here:
        # see SGD_LR)
        optim_wrapper = OptimWrapper(torch.optim.SGD(
            [p for p in model.parameters() if p.requires_grad], lr=SGD_LR, weight_decay=0.05))
        indices = RANK_SAMPLES[rank] if world > 1 else range(len(MODALITY_ORDER[layout]))
        batch = _global_batch(layout)
        data = dict(inputs=[batch[i][1] for i in indices],
                    data_samples=[MedDataSample().set_modality(batch[i][0])
                                  .set_report(REPORTS[i]) for i in indices])
        log_vars = ddp.train_step(data, optim_wrapper)
        with _full_parameters(ddp):  # as TeacherEMAHook
            model.momentum_update(MOMENTUM)
        present = [m for m in ('2d', '3d') if any(batch[i][0] == m for i in indices)]
        torch.save(dict(losses={k: log_vars[k].detach() for k in LOSS_KEYS},
                        masks=dict(zip(present, masker.outputs)),
                        slices=slicer.outputs,
                        state=_full_state(ddp, model), initial=initial),
                   os.path.join(out_dir, f'{wrapper}_world{world}_rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


def _max_diff(a: dict, b: dict) -> float:
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


@pytest.mark.parametrize('wrapper', ['ddp', 'fsdp'])
def test_one_training_step_on_two_ranks_equals_one_process(tmp_path, wrapper):
    """DDP, and FSDP (``configs/unimedi/vit_l_pretrain_fsdp.py``'s wrap policy, the EMA
    update on gathered parameters): the same step as one process."""
    groups = {'single': start_ranks([__file__, tmp_path, 'ddp', wrapper], 1),
              wrapper: start_ranks([__file__, tmp_path, wrapper, wrapper], WORLD_SIZE)}
    for name, procs in groups.items():
        try:
            finish(procs, timeout=240)
        except AssertionError as error:
            for proc in (p for g in groups.values() for p in g):
                proc.kill()
            pytest.fail(f'{name}: {error}')
    single = torch.load(tmp_path / 'ddp_world1_rank0.pt', weights_only=True)
    ranks = [torch.load(tmp_path / f'{wrapper}_world{WORLD_SIZE}_rank{r}.pt', weights_only=True)
             for r in range(WORLD_SIZE)]

    # the same masks and CT slices as the single process: the losses see the same tokens
    if wrapper == 'ddp':
        assert set(ranks[1]['masks']) == {'2d'} and not ranks[1]['slices']
    for modality in ('2d', '3d'):
        rows = [r['masks'][modality] for r in ranks if modality in r['masks']]
        assert torch.equal(torch.cat(rows), single['masks'][modality])
    assert single['masks']['2d'].sum(1).eq(8).all() and single['masks']['3d'].sum(1).eq(16).all()
    assert torch.equal(torch.cat([s for r in ranks for s in r['slices']]), single['slices'][0])

    loss_diff = {}
    for key in LOSS_KEYS:
        mean = torch.stack([r['losses'][key] for r in ranks]).mean()
        loss_diff[key] = (mean - single['losses'][key]).abs().item()
        torch.testing.assert_close(mean, single['losses'][key], atol=LOSS_ATOL, rtol=0,
                                   msg=lambda m, k=key: f'{k}: {m}')

    state, initial = single['state'], single['initial']
    teacher = [k for k in state if k.startswith('teacher.')]
    centres = ['cls_distill_loss.center', 'patch_distill_loss.center']
    assert teacher and set(centres) <= set(state)
    for rank, result in enumerate(ranks):
        assert result['state'].keys() == state.keys()
        for key, value in state.items():
            step = (value.float() - initial[key].float()).abs().max().item()
            torch.testing.assert_close(result['state'][key], value,
                                       atol=WEIGHT_ATOL + STEP_RTOL * step, rtol=0,
                                       msg=lambda m, k=key, r=rank: f'rank {r} {k}: {m}')
    # DDP keeps the ranks in step: the same averaged gradients, EMA and centres
    for key, value in ranks[0]['state'].items():
        assert torch.equal(ranks[1]['state'][key], value), key
    # the step did something: student, teacher (EMA), the CT-only 3D tokenizer, the centres
    moved = {k: (state[k].float() - initial[k].float()).abs().max().item() for k in state}
    assert moved['vision_encoder.tokenizers.3d.proj.weight'] > 5e-5
    assert moved['vision_encoder.blocks.0.attn.qkv.weight'] > 1e-3
    assert moved['teacher.encoder.blocks.0.attn.qkv.weight'] > 1e-4
    assert moved['text_encoder.model.encoder.layer.0.output.dense.weight'] > 2e-5
    assert all(state[k].abs().sum() > 0 for k in centres)
    print(f'max |mean over ranks - single| per loss: {loss_diff}; max weight / buffer '
          f'difference: {max(_max_diff(r["state"], state) for r in ranks):.3g}; '
          f'rank 0 vs rank 1: {_max_diff(ranks[0]["state"], ranks[1]["state"]):.3g}; '
          f'largest change by the step: {max(moved.values()):.3g}')


if __name__ == '__main__':
    _worker(*sys.argv[1:4])
