"""UniMedI end to end on a tiny model: losses, selection, teacher, predict, EMA hook."""
from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from unimedi.engine.hooks import TeacherEMAHook, cosine_momentum
from unimedi.models.algorithms.unimedi import UniMedI
from unimedi.models.selectors import AttentiveSliceSelector
from unimedi.registry import HOOKS, MODELS
from unimedi.structures import MedDataSample

TINY_BERT = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=64)
DEPTH = 16  # CT slices; 3D patches (4, 16, 16) -> grid (4, 4, 4), four slices per slab
NUM_SELECTED = 4  # round(0.25 * 16)
PROMPTS = {
    'effusion': dict(positive=['pleural effusion', 'fluid in the pleural space'],
                     negative=['no pleural effusion']),
    'nodule': dict(positive=['a lung nodule'], negative=['no nodule', 'clear lungs']),
}


def _config(**overrides) -> dict:
    cfg = dict(
        type='UniMedI',
        vision_encoder=dict(
            type='UnifiedViT', arch='tiny',
            tokenizers={'2d': dict(type='PatchEmbed2D', img_size=64),
                        '3d': dict(type='PatchEmbed3D', img_size=(DEPTH, 64, 64))}),
        text_encoder=dict(type='HFTextEncoder', config=TINY_BERT),
        embed_dim=32,
        dino_head=dict(type='DINOHead', out_dim=64, hidden_dim=32, bottleneck_dim=16),
        slice_selector=dict(type='AttentiveSliceSelector', ratio=0.25),
        token_masker=dict(type='RandomRegionSelector', mask_ratio=0.5),
        data_preprocessor=dict(type='MedDataPreprocessor',
                               text_tokenizer=dict(type='HFTextTokenizer', max_length=32)))
    cfg.update(overrides)
    return cfg


def _build(**overrides) -> UniMedI:
    torch.manual_seed(0)
    model = MODELS.build(_config(**overrides))
    assert isinstance(model, UniMedI)
    return model


REPORTS = {
    '2d': ['small left pleural effusion', 'the lungs are clear', 'cardiomegaly without edema'],
    '3d': ['nodule in the right upper lobe', 'ground glass opacities bilaterally'],
}


def _batch(modalities=('3d', '2d', '2d', '3d', '2d'), lesions=True, seed=0) -> dict:
    """A mixed batch as ``pseudo_collate`` gives it; the first 3D sample has lesion slices."""
    generator = torch.Generator().manual_seed(seed)
    inputs, samples, counters = [], [], {'2d': 0, '3d': 0}
    lesion_given = False
    for modality in modalities:
        index = counters[modality]
        counters[modality] += 1
        shape = (1, 64, 64) if modality == '2d' else (1, DEPTH, 64, 64)
        inputs.append(torch.randn(shape, generator=generator))
        sample = MedDataSample(metainfo=dict(img_path=f'{modality}_{index}'))
        sample.set_modality(modality).set_report(REPORTS[modality][index])
        if modality == '3d' and lesions and not lesion_given:
            sample.set_lesion_slices([5, 6, 7, 8])
            lesion_given = True
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _loss(model, batch=None):
    data = model.data_preprocessor(batch or _batch(), training=True)
    return model(**data, mode='loss'), data


def test_loss_keys_values_and_selection_precision():
    model = _build().train()
    losses, data = _loss(model)
    loss_keys = {k for k in losses if 'loss' in k}
    assert loss_keys == {'loss_vl', 'loss_icl', 'loss_pcl'}
    assert {'i2t_acc', 'sel_prec', 'sel_chance'} <= set(losses)
    for key in loss_keys:
        assert losses[key].ndim == 0 and torch.isfinite(losses[key])
        assert losses[key].requires_grad
    # random 5-way contrastive loss starts near log(5)
    assert 0.5 * math.log(5) < losses['loss_vl'].item() < 2 * math.log(5)
    assert 0.0 <= losses['i2t_acc'].item() <= 1.0
    # selection precision: the share of the chosen slices that hold a lesion
    with_lesions = [s for s in data['data_samples'] if 'lesion_slices' in s]
    assert len(with_lesions) == 1
    chosen = with_lesions[0].selected_slices
    expected = torch.isin(chosen, torch.tensor([5, 6, 7, 8])).float().mean()
    assert losses['sel_prec'].item() == pytest.approx(expected.item())
    assert losses['sel_chance'].item() == pytest.approx(4 / DEPTH)


def test_backward_reaches_student_not_teacher():
    model = _build().train()
    losses, _ = _loss(model)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(not p.requires_grad for p in model.teacher.parameters())
    encoder = model.vision_encoder
    for parameter in (encoder.cls_token, encoder.mask_token, encoder.extra_embed,
                      encoder.tokenizers['2d'].proj.weight, encoder.tokenizers['3d'].proj.weight,
                      encoder.blocks[0].attn.qkv.weight,
                      model.dino_head.last_layer.parametrizations.weight.original1,
                      model.contrastive_loss.log_logit_scale,
                      model.text_projection.layers.weight):
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0
    # the text encoder learns too (it is not frozen here)
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.text_encoder.parameters())


def test_train_mode_keeps_teacher_in_eval():
    model = _build().train()
    assert model.training and model.vision_encoder.training
    assert not model.teacher.training
    assert not any(m.training for m in model.teacher.modules())


def test_selected_slices_follow_teacher_attention():
    model = _build().train()
    with torch.no_grad():  # the student drifts from the teacher, as after some training
        for parameter in model.vision_encoder.blocks.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.2)
    batch = _batch()
    _, data = _loss(model, batch)
    samples = data['data_samples']
    assert [s.modality for s in samples] == ['2d'] * 3 + ['3d'] * 2
    for sample in samples[:3]:
        assert 'selected_slices' not in sample
    selected = torch.stack([s.selected_slices for s in samples[3:]])
    assert selected.shape == (2, NUM_SELECTED)
    assert ((selected[:, 1:] > selected[:, :-1]).all() and selected.min() >= 0
            and selected.max() < DEPTH)
    # the same choice as the selector on the teacher's [CLS] attention
    volumes = data['inputs']['3d']
    with torch.no_grad():
        teacher = model.teacher['encoder'](volumes, '3d', return_attention=True)
    expected = AttentiveSliceSelector(ratio=0.25)(teacher['cls_attention'], teacher['grid'],
                                                  DEPTH)
    assert torch.equal(selected, expected)
    # the student's attention would choose other slices (the teacher is the one asked)
    with torch.no_grad():
        student = model.vision_encoder(volumes, '3d', return_attention=True)
    assert not torch.equal(
        AttentiveSliceSelector(ratio=0.25)(student['cls_attention'], student['grid'], DEPTH),
        expected)
    # whole slabs of four slices are kept
    assert (selected[:, 0] % 4 == 0).all() and (selected[:, 3] - selected[:, 0] == 3).all()


def test_only_vl_loss_when_distillation_weights_are_zero():
    model = _build(loss_weights=dict(icl=0.0, pcl=0.0)).train()
    assert model.cls_distill_loss is None and model.patch_distill_loss is None
    losses, _ = _loss(model)
    assert {k for k in losses if 'loss' in k} == {'loss_vl'}
    losses['loss_vl'].backward()


def test_loss_weights_scale_the_losses():
    plain = _build().train()
    weighted = _build(loss_weights=dict(vl=2.0, icl=0.5, pcl=3.0)).train()
    torch.manual_seed(1)
    base, _ = _loss(plain)
    torch.manual_seed(1)
    scaled, _ = _loss(weighted)
    for name, weight in (('loss_vl', 2.0), ('loss_icl', 0.5), ('loss_pcl', 3.0)):
        assert scaled[name].item() == pytest.approx(weight * base[name].item(), rel=1e-4)


def test_modality_negatives_pass_the_modality_groups_to_the_loss():
    model = _build(contrastive_negatives='modality', loss_weights=dict(icl=0.0, pcl=0.0)).train()
    seen = {}
    original = model.contrastive_loss.forward

    def spy(image, text, groups=None):
        seen['groups'] = groups
        return original(image, text, groups=groups)

    model.contrastive_loss.forward = spy
    losses, data = _loss(model)  # 3 radiographs, then 2 CTs
    assert seen['groups'].tolist() == [0, 0, 0, 1, 1]
    assert [s.modality for s in data['data_samples']] == ['2d', '2d', '2d', '3d', '3d']
    assert torch.isfinite(losses['loss_vl'])
    with pytest.raises(ValueError, match="contrastive_negatives must be 'batch' or 'modality'"):
        _build(contrastive_negatives='all')


def test_modality_centres_follow_each_modality_teacher_outputs():
    model = _build(distill_centers='modality').train()
    assert model.cls_distill_loss.center.shape == (2, 64)
    assert model.patch_distill_loss.center.shape == (2, 64)
    data = model.data_preprocessor(_batch(), training=True)
    with torch.no_grad():
        expected = [model.teacher['head'](model.teacher_pass(data['inputs'][m], m)['cls'])
                    .mean(0) * (1 - 0.9) for m in ('2d', '3d')]
    model(**data, mode='loss')
    for group, mean in enumerate(expected):  # each centre: 0.9 * 0 + 0.1 * its batch mean
        torch.testing.assert_close(model.cls_distill_loss.center[group], mean)
    shared = _build().train()
    assert shared.cls_distill_loss.center.shape == (1, 64)
    with pytest.raises(ValueError, match="distill_centers must be 'shared' or 'modality'"):
        _build(distill_centers='per_sample')


def test_unknown_loss_weight_raises():
    with pytest.raises(ValueError, match='loss_weights keys'):
        _build(loss_weights=dict(vl=1.0, mlm=1.0))


def test_without_slice_selector():
    model = _build(slice_selector=None).train()
    losses, data = _loss(model)
    assert {k for k in losses if 'loss' in k} == {'loss_vl', 'loss_icl', 'loss_pcl'}
    assert 'sel_prec' not in losses and 'sel_chance' not in losses
    assert all('selected_slices' not in s for s in data['data_samples'])


@pytest.mark.parametrize('modalities', [('2d', '2d', '2d'), ('3d', '3d')])
def test_single_modality_batches(modalities):
    model = _build().train()
    losses, data = _loss(model, _batch(modalities))
    assert {k for k in losses if 'loss' in k} == {'loss_vl', 'loss_icl', 'loss_pcl'}
    assert all(torch.isfinite(losses[k]) for k in ('loss_vl', 'loss_icl', 'loss_pcl'))
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    if modalities[0] == '3d':
        assert all(s.selected_slices.shape == (NUM_SELECTED, ) for s in data['data_samples'])
    else:
        assert 'sel_prec' not in losses


def test_loss_needs_reports():
    model = _build()
    data = model.data_preprocessor(_batch(), training=True)
    data['inputs']['text'] = None
    with pytest.raises(ValueError, match='needs reports'):
        model(**data, mode='loss')


def test_predict_sets_unit_embeddings():
    model = _build().eval()
    data = model.data_preprocessor(_batch(lesions=False))
    samples = model(**data, mode='predict')
    assert len(samples) == 5
    for sample in samples:
        assert sample.img_embed.shape == (32, ) and sample.txt_embed.shape == (32, )
        assert sample.img_embed.norm().item() == pytest.approx(1.0, abs=1e-5)
        assert sample.txt_embed.norm().item() == pytest.approx(1.0, abs=1e-5)
        assert 'pred_score' not in sample
    # samples come back in the sampler's (batch) order, each with its own embedding
    assert [s.batch_index for s in samples] == list(range(5))
    with torch.no_grad():
        first_3d = model.encode_image(data['inputs']['3d'][:1], '3d')[0]
    sample_3d = next(s for s in samples if s.modality == '3d')
    torch.testing.assert_close(sample_3d.img_embed, first_3d)
    tensors = model(**data, mode='tensor')
    assert tensors['image'].shape == (5, 32) and tensors['text'].shape == (5, 32)


def test_predict_without_reports_sets_only_image_embeddings():
    model = _build().eval()
    data = model.data_preprocessor(_batch())
    data['inputs']['text'] = None
    for sample in model(**data, mode='predict'):
        assert 'img_embed' in sample and 'txt_embed' not in sample


def test_zero_shot_scores():
    model = _build(zero_shot_prompts=PROMPTS).eval()
    data = model.data_preprocessor(_batch())
    samples = model(**data, mode='predict')
    scores = torch.stack([s.pred_score for s in samples])
    assert scores.shape == (5, len(PROMPTS))
    assert ((scores >= 0) & (scores <= 1)).all()
    # the score is the softmax of the scaled similarities to the two prompt prototypes
    tokenizer = model.data_preprocessor.text_tokenizer
    image = torch.stack([s.img_embed for s in samples])
    with torch.no_grad():
        protos = [F.normalize(model.encode_text(tokenizer(PROMPTS['nodule'][p])).mean(0), dim=0)
                  for p in ('positive', 'negative')]
        logits = model.contrastive_loss.logit_scale * image @ torch.stack(protos).t()
    torch.testing.assert_close(scores[:, 1], logits.softmax(dim=-1)[:, 0])


def test_zero_shot_needs_both_polarities():
    model = _build(zero_shot_prompts={'x': dict(positive=['x'])}).eval()
    with pytest.raises(ValueError, match='needs negative prompts'):
        model.zero_shot_scores(F.normalize(torch.randn(2, 32), dim=-1))


def test_bad_mode_raises():
    model = _build()
    with pytest.raises(ValueError, match='mode must be'):
        model(inputs={}, mode='train')


def test_momentum_update_formula_for_every_parameter():
    model = _build()
    with torch.no_grad():  # move the student away from the teacher copy
        for parameter in list(model.vision_encoder.parameters()) + list(
                model.dino_head.parameters()):
            parameter.add_(torch.randn_like(parameter) * 0.1)
    pairs = ((model.teacher['encoder'], model.vision_encoder),
             (model.teacher['head'], model.dino_head))
    before = [(copy.deepcopy(dict(t.named_parameters())), copy.deepcopy(dict(s.named_parameters())))
              for t, s in pairs]
    model.momentum_update(0.9)
    count = 0
    for (teacher, student), (old_teacher, old_student) in zip(pairs, before):
        teacher_now = dict(teacher.named_parameters())
        student_now = dict(student.named_parameters())
        assert set(teacher_now) == set(old_student)
        for name, value in teacher_now.items():
            expected = 0.9 * old_teacher[name] + 0.1 * old_student[name]
            torch.testing.assert_close(value, expected)
            assert torch.equal(student_now[name], old_student[name])  # student untouched
            count += 1
    assert count == len(list(model.teacher.parameters()))
    # momentum 1 leaves the teacher as it is; 0 copies the student
    frozen = copy.deepcopy(dict(model.teacher.named_parameters()))
    model.momentum_update(1.0)
    assert all(torch.equal(frozen[n], p) for n, p in model.teacher.named_parameters())
    model.momentum_update(0.0)
    for teacher, student in pairs:
        for t, s in zip(teacher.parameters(), student.parameters()):
            assert torch.equal(t, s)


def test_cosine_momentum_schedule():
    assert cosine_momentum(0.996, 1.0, 0, 100) == pytest.approx(0.996)
    assert cosine_momentum(0.996, 1.0, 50, 100) == pytest.approx(0.998)
    assert cosine_momentum(0.996, 1.0, 100, 100) == pytest.approx(1.0)
    assert cosine_momentum(0.996, 1.0, 25, 100) == pytest.approx(
        1.0 - 0.004 * (math.cos(math.pi / 4) + 1) / 2)
    assert cosine_momentum(0.996, 1.0, 500, 100) == pytest.approx(1.0)  # clamped


class _FakeModel:
    def __init__(self):
        self.calls = []

    def momentum_update(self, momentum):
        self.calls.append(momentum)


class _FakeHub:
    def __init__(self):
        self.scalars = {}

    def update_scalar(self, key, value):
        self.scalars[key] = value


class _FakeRunner:
    def __init__(self, model, iteration, max_iters):
        self.model, self.iter, self.max_iters = model, iteration, max_iters
        self.message_hub = _FakeHub()


@pytest.mark.parametrize('iteration, expected', [(0, 0.99), (30, 0.995), (60, 1.0)])
def test_teacher_ema_hook_calls_momentum_update(iteration, expected):
    hook = HOOKS.build(dict(type='TeacherEMAHook', momentum=0.99, end_momentum=1.0))
    model = _FakeModel()
    runner = _FakeRunner(model, iteration, 60)
    hook.after_train_iter(runner, batch_idx=0)
    assert model.calls == [pytest.approx(cosine_momentum(0.99, 1.0, iteration, 60))]
    assert model.calls[0] == pytest.approx(expected)
    assert runner.message_hub.scalars['train/ema_momentum'] == model.calls[0]


def test_teacher_ema_hook_updates_a_real_teacher():
    model = _build()
    with torch.no_grad():
        model.vision_encoder.cls_token.add_(1.0)
    old = model.teacher['encoder'].cls_token.detach().clone()
    student = model.vision_encoder.cls_token.detach().clone()
    TeacherEMAHook(momentum=0.996).after_train_iter(_FakeRunner(model, 0, 10), batch_idx=0)
    torch.testing.assert_close(model.teacher['encoder'].cls_token,
                               0.996 * old + 0.004 * student)


def test_teacher_ema_hook_errors():
    with pytest.raises(TypeError, match='no momentum_update'):
        TeacherEMAHook().after_train_iter(_FakeRunner(object(), 0, 10), batch_idx=0)
    with pytest.raises(ValueError, match='momentum'):
        TeacherEMAHook(momentum=1.0, end_momentum=0.9)


def test_koleo_weight_adds_a_per_modality_spreading_loss():
    model = _build(loss_weights=dict(koleo=0.5)).train()
    seen = []
    original = model.koleo_loss.forward

    def spy(features):
        value = original(features)
        seen.append((features.shape[0], value.detach()))
        return value

    model.koleo_loss.forward = spy
    losses, _ = _loss(model)  # 3 radiographs and 2 CTs: KoLeo within each modality
    assert {k for k in losses if 'loss' in k} == {
        'loss_vl', 'loss_icl', 'loss_pcl', 'loss_koleo'}
    assert [n for n, _ in seen] == [3, 2]
    expected = 0.5 * (3 * seen[0][1] + 2 * seen[1][1]) / 5
    torch.testing.assert_close(losses['loss_koleo'].detach(), expected)
    losses['loss_koleo'].backward()
    assert model.vision_encoder.cls_token.grad.abs().sum() > 0
    assert _build().koleo_loss is None  # off by default (the paper has no KoLeo)


def test_imagenet_weights_reach_the_student_and_the_teacher_starts_as_its_copy(tmp_path):
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(3)
    vit = timm.models.vision_transformer.VisionTransformer(
        img_size=64, patch_size=16, embed_dim=64, depth=2, num_heads=2, num_classes=0)
    path = tmp_path / 'imagenet.safetensors'
    save_file({k: v.contiguous() for k, v in vit.state_dict().items()}, str(path))
    cfg = _config()
    cfg['vision_encoder'] = dict(cfg['vision_encoder'],
                                 pretrained=dict(checkpoint=str(path), format='timm'))
    model = MODELS.build(cfg)
    model.init_weights()  # what the runner does before training
    torch.testing.assert_close(model.vision_encoder.blocks[0].attn.qkv.weight,
                               vit.blocks[0].attn.qkv.weight)
    teacher = model.teacher['encoder'].state_dict()
    for key, value in model.vision_encoder.state_dict().items():
        torch.testing.assert_close(teacher[key], value)
    for key, value in model.dino_head.state_dict().items():
        torch.testing.assert_close(model.teacher['head'].state_dict()[key], value)


def test_mim_weight_regresses_the_masked_patches_pixels_per_modality():
    model = _build(loss_weights=dict(mim=2.0)).train()
    assert set(model.pixel_heads) == {'2d', '3d'}
    assert model.pixel_heads['2d'].layers.out_features == 16 * 16
    assert model.pixel_heads['3d'].layers.out_features == 4 * 16 * 16
    seen = []
    original = model.pixel_loss.forward

    def spy(prediction, patches):
        value = original(prediction, patches)
        seen.append((prediction.shape, patches, value.detach()))
        return value

    model.pixel_loss.forward = spy
    batch = _batch()
    losses, data = _loss(model, batch)
    assert 'loss_mim' in losses
    # 2D first: 3 radiographs x 16 tokens, half masked; then 2 CTs x 64 tokens, half masked
    assert [tuple(shape) for shape, _, _ in seen] == [(24, 256), (64, 1024)]
    # the targets are 24 distinct patches of the radiographs' own pixels, cut by hand here
    radiographs = data['inputs']['2d'][:, 0]
    all_patches = radiographs.reshape(3, 4, 16, 4, 16).permute(0, 1, 3, 2, 4).reshape(48, 256)
    distances = torch.cdist(seen[0][1], all_patches)
    assert torch.all(distances.min(dim=1).values < 0.05)  # others are about 20 away
    assert distances.argmin(dim=1).unique().numel() == 24
    expected = 2.0 * (3 * seen[0][2] + 2 * seen[1][2]) / 5
    torch.testing.assert_close(losses['loss_mim'].detach(), expected)
    losses['loss_mim'].backward()
    assert model.pixel_heads['2d'].layers.weight.grad.abs().sum() > 0
    assert model.vision_encoder.mask_token.grad.abs().sum() > 0  # masked tokens learn
    assert _build().pixel_loss is None and _build().pixel_heads is None  # off by default


def test_mim_needs_a_token_masker_to_have_targets():
    model = _build(loss_weights=dict(mim=1.0), token_masker=None).train()
    losses, _ = _loss(model)
    assert 'loss_mim' not in losses
