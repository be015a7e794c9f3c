"""tools/analysis/feature_probe.py and linear_probe_auc: the label-efficiency probe."""
import json

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from unimedi.datasets.phantom.generator import PhantomConfig, write_phantom_dataset
from unimedi.datasets.splits import stratified_fraction
from unimedi.evaluation.feature_quality import linear_probe_auc
from unimedi.registry import ENCODERS
from repo_scripts import TINY_UNIMEDI_CONFIG, load_script

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out


def _data(seed, n, shift):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=(n, 2))
    features = rng.normal(size=(n, 6))
    features[:, :2] += shift * labels
    return features, labels


def test_linear_probe_picks_c_on_val_and_scores_test_like_sklearn():
    train, val, test = _data(0, 80, 1.5), _data(1, 40, 1.5), _data(2, 60, 1.5)
    result = linear_probe_auc(train, val, test, Cs=(0.01, 1.0))
    assert result['C'] in (0.01, 1.0)
    scaler = StandardScaler().fit(train[0])
    expected = []
    for k in range(2):
        model = LogisticRegression(C=result['C'], max_iter=3000).fit(
            scaler.transform(train[0]), train[1][:, k])
        expected.append(roc_auc_score(test[1][:, k],
                                      model.decision_function(scaler.transform(test[0]))))
    assert result['per_class'] == pytest.approx(expected)
    assert result['macro'] == pytest.approx(np.mean(expected))
    assert result['macro'] > 0.7


def test_linear_probe_on_a_class_without_positives_is_chance():
    train, val, test = _data(0, 30, 3.0), _data(1, 20, 3.0), _data(2, 40, 3.0)
    train[1][:, 1] = 0
    result = linear_probe_auc(train, val, test)
    assert result['per_class'][1] == 0.5 and result['per_class'][0] > 0.9


def test_probe_table_uses_the_data_fraction_draw():
    tool = load_script('tools/analysis/feature_probe.py')
    features = {s: _data(i, 100, 2.0)[0] for i, s in enumerate(('train', 'val', 'test'))}
    labels = {s: _data(i, 100, 2.0)[1] for i, s in enumerate(('train', 'val', 'test'))}
    table = tool.probe_table(features, labels, [10, 100], [0, 1])
    assert len(table['10']['macro']) == 2 and len(table['100']['macro']) == 1
    subset = stratified_fraction(labels['train'], 0.1, 1)
    expected = linear_probe_auc((features['train'][subset], labels['train'][subset]),
                                (features['val'], labels['val']),
                                (features['test'], labels['test']))
    assert table['10']['macro'][1] == pytest.approx(expected['macro'])


def test_tool_end_to_end_on_phantoms(tmp_path, capsys):
    root = tmp_path / 'phantoms'
    write_phantom_dataset(str(root), 14, 14, seed=0, workers=1, progress=False,
                          config=PhantomConfig(ct_shape=(32, 64, 64),
                                               ct_spacing=(10.0, 5.6, 5.6), xray_size=(64, 64)))
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_UNIMEDI_CONFIG)
    out = tmp_path / 'probe.json'
    tool = load_script('tools/analysis/feature_probe.py')
    tool.main([str(config), '--random-init', '--raw-pixels', '--fractions', '50', '100',
               '--seeds', '0', '--data-root', str(root), '--out', str(out)])
    printed = capsys.readouterr().out
    assert '2d: linear-probe macro AUC' in printed and 'raw pixels' in printed
    saved = json.loads(out.read_text())
    for modality in ('2d', '3d'):
        assert set(saved['results'][modality]) == {'random init', 'raw pixels'}
        for rows in saved['results'][modality].values():
            assert set(rows) == {'50', '100', 'rank'} and rows['rank'] >= 1.0
            assert all(0.0 <= v <= 1.0 for v in rows['100']['macro'] if not np.isnan(v))
    with pytest.raises(SystemExit, match='nothing to probe'):
        tool.main([str(config), '--data-root', str(root)])


def test_cls_and_mean_patch_features():
    """``--features cls+mean``: [CLS] then the mean of the patch tokens."""
    tool = load_script('tools/analysis/feature_probe.py')
    torch.manual_seed(0)
    encoder = ENCODERS.build(dict(type='UnifiedViT', arch=dict(embed_dim=32, depth=1,
                                                               num_heads=2),
                                  tokenizers={'2d': dict(type='PatchEmbed2D', img_size=32)}))
    images = torch.randn(5, 1, 32, 32)
    both = tool.cls_features(encoder, images, '2d', 2, 'cls+mean')
    out = encoder.eval()(images, '2d')
    assert both.shape == (5, 64)
    np.testing.assert_allclose(both[:, :32], tool.cls_features(encoder, images, '2d', 3),
                               atol=1e-5)
    np.testing.assert_allclose(both[:, 32:], out['patch'].mean(dim=1).detach().numpy(),
                               atol=1e-5)


def test_tool_on_a_classification_config_without_a_third_split(tmp_path, capsys):
    """An image folder (val == test): C is chosen on the training labels; bright images are
    class 1, so raw pixels separate the classes."""
    from PIL import Image
    rng = np.random.default_rng(0)
    for name, level in (('dark', 0.3), ('bright', 0.7)):
        (tmp_path / 'images' / name).mkdir(parents=True)
        for i in range(15):
            pixels = np.clip(rng.normal(level, 0.1, (40, 40)), 0, 1)
            Image.fromarray((pixels * 255).astype(np.uint8)).save(
                tmp_path / 'images' / name / f'{i}.png')
    dataset = dict(type='ImageFolderDataset', data_root=str(tmp_path / 'images'),
                   classes=('dark', 'bright'), val_fraction=0.3, split_seed=0,
                   pipeline=[dict(type='LoadMedicalImage', modality='2d'),
                             dict(type='MedResize', size=(32, 32), image_mode='area'),
                             dict(type='PackMedInputs')])
    data_config = tmp_path / 'folder.py'
    data_config.write_text(
        f'train_dataloader = dict(dataset=dict({dataset!r}, split="train"))\n'
        f'val_dataloader = dict(dataset=dict({dataset!r}, split="val"))\n'
        'test_dataloader = val_dataloader\n')
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_UNIMEDI_CONFIG)
    out = tmp_path / 'probe.json'
    tool = load_script('tools/analysis/feature_probe.py')
    tool.main([str(config), '--raw-pixels', '--pixel-size', '8', '8', '--fractions', '100',
               '--seeds', '0', '--dataset-config', str(data_config), '--out', str(out)])
    assert 'train 21 / test 9' in capsys.readouterr().out
    rows = json.loads(out.read_text())['results']['2d']['raw pixels']['100']
    assert rows['macro'] == [1.0] and rows['C'][0] in (0.01, 0.1, 1.0, 10.0)


def test_tool_checks_its_cfg_options_before_reading_anything(tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_UNIMEDI_CONFIG)
    tool = load_script('tools/analysis/feature_probe.py')
    with pytest.raises(ValueError, match='model.embed_dim'):
        tool.main([str(config), '--random-init', '--data-root', str(tmp_path / 'absent'),
                   '--cfg-options', 'model.embed_dim=abc'])
