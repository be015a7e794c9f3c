"""projects/example_project: built from its config through custom_imports, and trained."""
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS, DefaultScope
from mmengine.utils import import_modules_from_strings

from unimedi.models import MedDataPreprocessor
from unimedi.registry import DATASETS
from unimedi.registry import MODELS as UNIMEDI_MODELS
from conftest import TINY_CLASSES

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / 'projects' / 'example_project' / 'configs' / 'histogram_baseline.py'
MODULE = 'projects.example_project.example_project'


@pytest.fixture
def cfg() -> Config:
    cfg = Config.fromfile(str(CONFIG), import_custom_modules=False)
    assert cfg.custom_imports.imports == [MODULE]
    import_modules_from_strings(**cfg.custom_imports)
    cfg.model.num_classes = len(TINY_CLASSES)
    return cfg


def _model(cfg: Config):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(cfg.model)


def _batch(cfg: Config, tiny_dataset: Path, split: str) -> dict:
    dataset_cfg = dict(cfg.train_dataloader.dataset, data_root=str(tiny_dataset.parent),
                       split=split, metainfo=dict(classes=TINY_CLASSES))
    dataset = DATASETS.build(dataset_cfg)
    return pseudo_collate([dataset[i] for i in range(len(dataset))])


def test_custom_imports_register_the_model(cfg):
    assert MODULE in sys.modules
    cls = UNIMEDI_MODELS.get('IntensityHistogramClassifier')
    assert cls is not None
    assert cls.__module__ == MODULE + '.histogram_classifier'
    assert cfg.default_scope == 'unimedi'


def test_builds_from_the_config(cfg):
    model = _model(cfg)
    assert type(model).__name__ == 'IntensityHistogramClassifier'
    assert isinstance(model.data_preprocessor, MedDataPreprocessor)
    assert model.bins == cfg.model.bins == 32
    assert model.head.in_features == 32 and model.head.out_features == len(TINY_CLASSES)


def test_histogram_of_known_images(cfg):
    model = _model(cfg)
    images = torch.stack([torch.full((1, 4, 4), 0.5), torch.zeros(1, 4, 4),
                          torch.full((1, 4, 4), 7.0)])  # above value_range -> last bin
    hist = model.histogram(images)
    assert hist.shape == (3, 32)
    torch.testing.assert_close(hist.sum(dim=1), torch.ones(3))
    assert hist[0, 16] == 1.0 and hist[1, 0] == 1.0 and hist[2, 31] == 1.0
    half = torch.cat([torch.zeros(1, 2, 4), torch.ones(1, 2, 4)], dim=1)[None]  # 3D input
    hist = model.histogram(half)
    assert hist[0, 0] == 0.5 and hist[0, 31] == 0.5


def test_loss_and_predict_through_the_preprocessor(cfg, tiny_dataset):
    model = _model(cfg)
    batch = _batch(cfg, tiny_dataset, 'train')
    modalities = [s.modality for s in batch['data_samples']]
    assert set(modalities) == {'2d', '3d'}  # a mixed batch

    data = model.data_preprocessor(batch, training=True)
    assert data['inputs']['2d'].shape[0] == modalities.count('2d')
    assert data['inputs']['3d'].shape[0] == modalities.count('3d')
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls'}
    loss = losses['loss_cls']
    assert loss.ndim == 0 and torch.isfinite(loss)
    # the loss is binary cross-entropy of the logits against the multi-hot labels
    logits = model(data['inputs'], mode='tensor')
    targets = torch.stack([s.gt_label for s in data['data_samples']])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
    torch.testing.assert_close(loss, expected)

    data = model.data_preprocessor(_batch(cfg, tiny_dataset, 'test'), training=False)
    samples = model(**data, mode='predict')
    logits = model(data['inputs'], mode='tensor')
    assert len(samples) == len(logits) == 4
    for sample, row in zip(samples, logits):  # each score belongs to its own sample
        assert sample.pred_score.shape == (len(TINY_CLASSES), )
        torch.testing.assert_close(sample.pred_score, row.sigmoid())
        assert ((sample.pred_score >= 0) & (sample.pred_score <= 1)).all()


def test_unknown_mode_raises(cfg, tiny_dataset):
    model = _model(cfg)
    data = model.data_preprocessor(_batch(cfg, tiny_dataset, 'test'))
    with pytest.raises(ValueError, match='mode'):
        model(**data, mode='nonsense')


def test_training_steps_reduce_the_loss(cfg, tiny_dataset):
    model = _model(cfg)
    optimizer_cfg = dict(cfg.optim_wrapper.optimizer)
    assert optimizer_cfg.pop('type') == 'AdamW'
    optim_wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), **optimizer_cfg))
    batch = _batch(cfg, tiny_dataset, 'train')

    def full_loss() -> float:
        model.eval()
        with torch.no_grad():
            data = model.data_preprocessor(batch, training=False)
            return float(model(**data, mode='loss')['loss_cls'])

    before = full_loss()
    model.train()
    for _ in range(40):
        log_vars = model.train_step(batch, optim_wrapper)
        assert torch.isfinite(log_vars['loss'])
    after = full_loss()
    assert after < before - 0.05, (before, after)
