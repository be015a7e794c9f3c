"""ImageClassifier: pre-trained encoder loading, linear probe, pooling, mixed 2D/3D batches."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from unimedi.engine.checkpoint import load_state_dict_file
from unimedi.models.algorithms.image_classifier import ImageClassifier
from unimedi.models.encoders import UnifiedViT
from unimedi.models.encoders.checkpoint_loading import load_encoder_checkpoint
from unimedi.models.tokenizers.patch_embed import resample_pos_embed
from unimedi.registry import MODELS
from unimedi.structures import MedDataSample
from repo_scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[2]
ARCH = dict(embed_dim=32, depth=2, num_heads=2)
SHAPES = {'2d': (1, 32, 32), '3d': (1, 8, 32, 32)}  # grids (2, 2) and (2, 2, 2)


def _tokenizers(size_2d=32, size_3d=(8, 32, 32)) -> dict:
    return {'2d': dict(type='PatchEmbed2D', img_size=size_2d),
            '3d': dict(type='PatchEmbed3D', img_size=size_3d)}


def _encoder(seed: int, **tokenizer_sizes) -> UnifiedViT:
    torch.manual_seed(seed)
    return UnifiedViT(arch=ARCH, tokenizers=_tokenizers(**tokenizer_sizes))


def _model(num_classes=3, multi_label=False, seed=100, **kwargs) -> ImageClassifier:
    torch.manual_seed(seed)
    model = MODELS.build(dict(
        type='ImageClassifier', backbone=dict(type='UnifiedViT', arch=ARCH,
                                              tokenizers=_tokenizers()),
        head=dict(type='LinearClsHead', num_classes=num_classes, multi_label=multi_label),
        **kwargs))
    assert isinstance(model, ImageClassifier)
    return model


def _save_unimedi_checkpoint(path: Path, student: UnifiedViT, teacher: UnifiedViT,
                             drop=()) -> Path:
    state = {f'vision_encoder.{k}': v for k, v in student.state_dict().items() if k not in drop}
    state.update({f'teacher.encoder.{k}': v for k, v in teacher.state_dict().items()
                  if k not in drop})
    state['text_encoder.x'] = torch.zeros(3)
    torch.save({'state_dict': state, 'meta': {}}, path)
    return path


def _export(checkpoint: Path, out: Path, monkeypatch, teacher=False) -> Path:
    """Run tools/misc/export_encoder.py on ``checkpoint``."""
    module = load_script('tools/misc/export_encoder.py')
    argv = ['export_encoder.py', str(checkpoint), str(out)] + (['--teacher'] if teacher else [])
    monkeypatch.setattr(sys, 'argv', argv)
    module.main()
    return out


def _assert_backbone_equals(model: ImageClassifier, encoder: UnifiedViT):
    expected = encoder.state_dict()
    actual = model.backbone.state_dict()
    assert set(actual) == set(expected)
    for key, value in expected.items():
        torch.testing.assert_close(actual[key], value, rtol=0, atol=0, msg=key)


@pytest.fixture
def checkpoint_pair(tmp_path):
    student, teacher = _encoder(1), _encoder(2)
    return _save_unimedi_checkpoint(tmp_path / 'iter_10.pth', student, teacher), student, teacher


# ---- loading pre-trained weights -----------------------------------------------------
def test_init_weights_loads_student_teacher_and_exported(checkpoint_pair, tmp_path, monkeypatch):
    path, student, teacher = checkpoint_pair
    fresh = _model()
    before = {k: v.clone() for k, v in fresh.backbone.state_dict().items()}
    # nothing is loaded before init_weights (the runner calls it)
    model = _model(pretrained=dict(checkpoint=str(path), prefix='vision_encoder.'))
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    model.init_weights()
    _assert_backbone_equals(model, student)

    model = _model(pretrained=dict(checkpoint=str(path), prefix='teacher.encoder.'))
    model.init_weights()
    _assert_backbone_equals(model, teacher)

    # the default prefix and the plain-path form pick the student
    model = _model(pretrained=str(path))
    model.init_weights()
    _assert_backbone_equals(model, student)

    for name, which, expected in (('enc.safetensors', False, student),
                                  ('teacher.pth', True, teacher)):
        exported = _export(path, tmp_path / name, monkeypatch, teacher=which)
        assert not any(k.startswith(('vision_encoder.', 'teacher.'))
                       for k in load_state_dict_file(str(exported)))
        model = _model(pretrained=dict(checkpoint=str(exported)))  # prefix not found: own keys
        model.init_weights()
        _assert_backbone_equals(model, expected)
        model = _model(pretrained=dict(checkpoint=str(exported), prefix=None))
        model.init_weights()
        _assert_backbone_equals(model, expected)


def test_load_encoder_checkpoint_report(checkpoint_pair):
    path, student, _ = checkpoint_pair
    encoder = _encoder(5)
    report = load_encoder_checkpoint(encoder, str(path), prefix='vision_encoder.')
    assert report['loaded'] == len(student.state_dict())
    assert report['missing'] == [] and report['resampled'] == []


def test_missing_keys_strict_raises_naming_the_file(tmp_path):
    student, teacher = _encoder(1), _encoder(2)
    path = _save_unimedi_checkpoint(tmp_path / 'partial.pth', student, teacher,
                                    drop=('norm.weight', 'blocks.1.mlp.fc1.bias'))
    model = _model(pretrained=dict(checkpoint=str(path)))
    with pytest.raises(ValueError, match=r'partial\.pth.*lacks 2 encoder weights') as info:
        model.init_weights()
    assert 'norm.weight' in str(info.value) and 'blocks.1.mlp.fc1.bias' in str(info.value)
    # strict=False loads the rest and leaves the missing ones as initialised
    model = _model(pretrained=dict(checkpoint=str(path), strict=False))
    initial_norm = model.backbone.norm.weight.detach().clone()
    model.init_weights()
    torch.testing.assert_close(model.backbone.norm.weight.detach(), initial_norm)
    torch.testing.assert_close(model.backbone.blocks[0].attn.qkv.weight.detach(),
                               student.blocks[0].attn.qkv.weight.detach())
    report = load_encoder_checkpoint(_encoder(3), str(path), strict=False)
    assert sorted(report['missing']) == ['blocks.1.mlp.fc1.bias', 'norm.weight']


def test_checkpoint_without_matching_keys_raises(tmp_path):
    path = tmp_path / 'text_only.pth'
    torch.save({'state_dict': {'text_encoder.x': torch.zeros(3),
                               'text_projection.weight': torch.zeros(2, 2)}}, path)
    model = _model(pretrained=dict(checkpoint=str(path)))
    with pytest.raises(ValueError, match=r'text_only\.pth: no weights for this encoder'):
        model.init_weights()
    with pytest.raises(FileNotFoundError):
        _model(pretrained=str(tmp_path / 'absent.pth')).init_weights()


def test_pretrained_without_checkpoint_raises():
    with pytest.raises(ValueError, match='checkpoint'):
        _model(pretrained=dict(prefix='vision_encoder.'))


def test_pos_embed_of_another_grid_is_resampled(tmp_path):
    # pre-trained at 64 x 64 (grid 4 x 4) and 16 x 64 x 64 (grid 4 x 4 x 4)
    source = _encoder(7, size_2d=64, size_3d=(16, 64, 64))
    path = _save_unimedi_checkpoint(tmp_path / 'big.pth', source, source)
    model = _model(pretrained=dict(checkpoint=str(path)))
    model.init_weights()
    tokenizers = model.backbone.tokenizers
    torch.testing.assert_close(
        tokenizers['2d'].pos_embed.detach(),
        resample_pos_embed(source.tokenizers['2d'].pos_embed.detach(), (4, 4), (2, 2)))
    torch.testing.assert_close(
        tokenizers['3d'].pos_embed.detach(),
        resample_pos_embed(source.tokenizers['3d'].pos_embed.detach(), (4, 4, 4), (2, 2, 2)))
    torch.testing.assert_close(tokenizers['2d'].proj.weight.detach(),
                               source.tokenizers['2d'].proj.weight.detach())
    report = load_encoder_checkpoint(_encoder(8), str(path))
    assert sorted(report['resampled']) == ['tokenizers.2d.pos_embed: (4, 4) -> (2, 2)',
                                           'tokenizers.3d.pos_embed: (4, 4, 4) -> (2, 2, 2)']


def test_pos_embed_of_a_non_integer_scale_is_resampled(tmp_path):
    source = _encoder(7, size_2d=48)  # grid 3 x 3 -> 2 x 2
    path = _save_unimedi_checkpoint(tmp_path / 'odd.pth', source, source)
    report = load_encoder_checkpoint(_encoder(8), str(path))
    assert report['resampled'] == ['tokenizers.2d.pos_embed: (3, 3) -> (2, 2)']


def test_pos_embed_of_non_matching_grid_raises(tmp_path):
    source = _encoder(7, size_2d=(64, 32))  # grid 4 x 2: not a uniform scale of 2 x 2
    path = _save_unimedi_checkpoint(tmp_path / 'odd.pth', source, source)
    model = _model(pretrained=dict(checkpoint=str(path)))
    with pytest.raises(ValueError, match=r'odd\.pth: tokenizers\.2d\.pos_embed has shape'):
        model.init_weights()


def test_pos_embed_of_another_width_raises(tmp_path):
    source = _encoder(7)
    state = {f'vision_encoder.{k}': v for k, v in source.state_dict().items()}
    state['vision_encoder.tokenizers.2d.pos_embed'] = torch.zeros(1, 16, 48)
    path = tmp_path / 'wide.pth'
    torch.save({'state_dict': state}, path)
    with pytest.raises(ValueError, match='pos_embed has shape'):
        load_encoder_checkpoint(_encoder(8), str(path))


# ---- linear probe and fine-tuning ------------------------------------------------------
def _batch(modalities=('3d', '2d', '2d', '3d', '2d'), multi_label=False, num_classes=3,
           seed=0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i, modality in enumerate(modalities):
        inputs.append(torch.randn(SHAPES[modality], generator=generator))
        sample = MedDataSample(metainfo=dict(img_path=f'{modality}_{i}'))
        sample.set_modality(modality)
        if multi_label:
            sample.set_gt_label([float((i + k) % 2) for k in range(num_classes)])
        else:
            sample.set_gt_label(i % num_classes)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _step(model: ImageClassifier, lr: float = 0.5):
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    data = model.data_preprocessor(_batch(), training=True)
    losses = model(**data, mode='loss')
    optimizer.zero_grad()
    losses['loss_cls'].backward()
    optimizer.step()
    return losses


def _snapshot(module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_frozen_backbone_is_a_linear_probe():
    model = _model(frozen=True)
    assert all(not p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    model.train()
    assert model.training and model.head.training
    assert not model.backbone.training
    assert not any(m.training for m in model.backbone.modules())
    backbone, head = _snapshot(model.backbone), _snapshot(model.head)
    losses = _step(model)
    assert not losses['loss_cls'].isnan()
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, backbone[key], rtol=0, atol=0, msg=key)
    assert all(p.grad is None for p in model.backbone.parameters())
    assert not torch.equal(model.head.fc.weight.detach(), head['fc.weight'])


def test_unfrozen_backbone_is_fine_tuned():
    model = _model(frozen=False).train()
    assert model.backbone.training
    backbone = _snapshot(model.backbone)
    _step(model)
    changed = [k for k, v in model.backbone.state_dict().items()
               if not torch.equal(v, backbone[k])]
    for key in ('blocks.0.attn.qkv.weight', 'tokenizers.2d.proj.weight',
                'tokenizers.3d.proj.weight', 'norm.weight'):
        assert key in changed


@pytest.mark.parametrize('multi_label', [False, True])
def test_loss_on_mixed_batch(multi_label):
    model = _model(multi_label=multi_label).train()
    data = model.data_preprocessor(_batch(multi_label=multi_label), training=True)
    assert data['inputs']['2d'].shape == (3, *SHAPES['2d'])
    assert data['inputs']['3d'].shape == (2, *SHAPES['3d'])
    losses = model(**data, mode='loss')
    assert losses['loss_cls'].ndim == 0 and torch.isfinite(losses['loss_cls'])
    assert losses['loss_cls'].requires_grad
    if multi_label:
        assert 'acc' not in losses
    else:
        assert 0.0 <= losses['acc'].item() <= 1.0
        # the loss pairs each sample's features with its own label
        logits = model(data['inputs'], mode='tensor')
        targets = torch.stack([s.gt_label for s in data['data_samples']])
        torch.testing.assert_close(losses['loss_cls'],
                                   torch.nn.functional.cross_entropy(logits, targets))


@pytest.mark.parametrize('multi_label', [False, True])
def test_predict_scores_in_original_batch_order(multi_label):
    model = _model(multi_label=multi_label).eval()
    batch = _batch(multi_label=multi_label)
    inputs = [x.clone() for x in batch['inputs']]
    modalities = [s.modality for s in batch['data_samples']]
    assert modalities[0] == '3d'
    data = model.data_preprocessor(batch)
    assert data['data_samples'][0].modality == '2d'  # the preprocessor reorders
    results = model(**data, mode='predict')
    assert [s.batch_index for s in results] == list(range(len(inputs)))
    assert [s.img_path for s in results] == [f'{m}_{i}' for i, m in enumerate(modalities)]
    for image, modality, sample in zip(inputs, modalities, results):
        score = sample.pred_score
        assert score.shape == (3, )
        assert ((score >= 0) & (score <= 1)).all()
        # the same image alone gives the same score: features and samples line up
        alone = model.head.scores(model({modality: image[None]}, mode='tensor'))[0]
        torch.testing.assert_close(score, alone, rtol=1e-4, atol=1e-5)
        if multi_label:
            torch.testing.assert_close(sample.pred_label, (score > 0.5).long())
        else:
            torch.testing.assert_close(score.sum(), torch.tensor(1.0))
            assert sample.pred_label.item() == score.argmax().item()


def test_single_modality_batches_and_errors():
    model = _model().eval()
    for modalities in (('2d', '2d'), ('3d', )):
        data = model.data_preprocessor(_batch(modalities))
        assert len(model(**data, mode='predict')) == len(modalities)
    with pytest.raises(ValueError, match='no 2D or 3D images'):
        model({'2d': None, '3d': None}, mode='tensor')
    data = model.data_preprocessor(_batch(('2d', )))
    with pytest.raises(ValueError, match='mode must be'):
        model(**data, mode='features')
    del data['data_samples'][0].gt_label
    with pytest.raises(ValueError, match='samples without gt_label'):
        model(**data, mode='loss')


@pytest.mark.parametrize('pooling,width', [('cls', 32), ('mean', 32), ('cls+mean', 64)])
def test_pooling_sets_head_width(pooling, width):
    model = _model(pooling=pooling).eval()
    assert model.head.fc.in_features == width
    image = torch.randn(2, *SHAPES['2d'])
    out = model.backbone(image, '2d')
    expected = {'cls': out['cls'], 'mean': out['patch'].mean(dim=1),
                'cls+mean': torch.cat([out['cls'], out['patch'].mean(dim=1)], dim=1)}[pooling]
    torch.testing.assert_close(model.extract_feat({'2d': image}), expected)
    assert model({'2d': image}, mode='tensor').shape == (2, 3)


def test_bad_pooling_raises():
    with pytest.raises(ValueError, match='pooling must be one of'):
        _model(pooling='max')


def test_runner_checkpoint_round_trip(tmp_path):
    model = _model(multi_label=True, seed=3)
    path = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, path)
    state = load_state_dict_file(str(path))
    other = _model(multi_label=True, seed=4)
    other.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(other.state_dict()[key], value, rtol=0, atol=0)
