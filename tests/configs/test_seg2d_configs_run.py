"""Every 2D segmentation recipe trains, validates, keeps its best checkpoint and tests it.

Each config of ``configs/segmentation/{phantom2d,siim,rsna,image_folder}`` runs for 2
iterations in process (MMEngine ``Runner``), validates, keeps the best checkpoint on
the foreground Dice (``dice/mean``) and tests it as ``tools/train.py`` does
(``test_after_train``), writing
``metrics.json``. The configs keep their datasets, pipelines, mmseg model, metric,
schedule and hooks; only the sizes shrink (a 2-block 32-wide ViT, 16-channel heads,
batches of 2, no worker processes) and the data are the native-format fakes of
``fakes.segmentation``. ``tools/test.py`` is run on one best checkpoint as well. A
recipe's 1 / 10 / 100 % leaves differ only in ``data_fraction``: one of them trains
(tests/configs/test_configs.py builds every config).
"""
from __future__ import annotations

import copy
import json
import sys
import uuid
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from unimedi.registry import ENCODERS
from fakes.segmentation import (write_fake_phantom_seg2d, write_fake_rsna_seg,
                                write_fake_seg_image_folder, write_fake_siim)
from repo_scripts import load_script, one_per_label_fraction_family

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

REPO_ROOT = Path(__file__).resolve().parents[2]
SEG2D_FOLDERS = ('phantom2d', 'siim', 'rsna', 'image_folder')
SEG2D_CONFIGS = sorted(p.relative_to(REPO_ROOT).as_posix()
                       for folder in SEG2D_FOLDERS
                       for p in (REPO_ROOT / 'configs' / 'segmentation' / folder).glob('*.py'))
TINY_ARCH = dict(embed_dim=32, depth=2, num_heads=2)
LOADERS = {'train_dataloader': 'train', 'val_dataloader': 'val', 'test_dataloader': 'test'}


@pytest.fixture(scope='module')
def fakes(tmp_path_factory) -> dict:
    """Config folder -> per-split dataset arguments of a tiny fake dataset."""
    root = tmp_path_factory.mktemp('seg2d')
    return {
        'phantom2d': write_fake_phantom_seg2d(root / 'phantoms'),
        'siim': write_fake_siim(root / 'siim'),
        'rsna': write_fake_rsna_seg(root / 'rsna'),
        'image_folder': write_fake_seg_image_folder(root / 'image_folder'),
    }


@pytest.fixture(scope='module')
def pretrained_file(tmp_path_factory):
    """A tiny fake UniMedI checkpoint (``vision_encoder.*``) per 2D tokenizer layout."""
    folder = tmp_path_factory.mktemp('pretrained')
    cache: dict = {}

    def get(tokenizers: dict) -> tuple[str, dict]:
        key = repr(sorted((k, sorted(v.items())) for k, v in tokenizers.items()))
        if key not in cache:
            init_default_scope('unimedi')
            encoder = ENCODERS.build(dict(type='UnifiedViT', arch=TINY_ARCH,
                                          tokenizers=tokenizers))
            state = {f'vision_encoder.{k}': v for k, v in encoder.state_dict().items()}
            path = folder / f'unimedi_{len(cache)}.pth'
            torch.save({'state_dict': state, 'meta': {}}, path)
            cache[key] = (str(path), encoder.state_dict())
        return cache[key]

    return get


def tiny_model(cfg: Config) -> dict:
    """Overrides that shrink the encoder, the neck and the decode head of a config."""
    width = TINY_ARCH['embed_dim']
    model = dict(backbone=dict(encoder=dict(arch=dict(TINY_ARCH, _delete_=True))))
    neck = (cfg.model.get('neck') or {}).get('type')
    if neck == 'mmseg.Feature2Pyramid':
        model.update(neck=dict(embed_dim=width),
                     decode_head=dict(in_channels=[width] * 4, channels=16))
    elif neck == 'mmseg.MLANeck':
        model.update(neck=dict(in_channels=[width] * 4, out_channels=8),
                     decode_head=dict(in_channels=(8, ) * 4, mla_channels=8, channels=32))
    else:
        assert neck is None, f'no tiny override for the neck {neck}'
        model.update(decode_head=dict(in_channels=width, channels=16))
    return model


def _run_name(rel_path: str) -> str:
    # unique: MMEngine keys its logger and message hub instances by the experiment name
    return f'{Path(rel_path).stem}_{uuid.uuid4().hex[:8]}'


def tiny_options(rel_path: str, cfg: Config, fakes: dict, pretrained_file,
                 work_dir: Path) -> tuple[dict, dict | None]:
    """``merge_from_dict`` options of a 2-iteration run on fake data, and the state of
    the fake pre-trained encoder (``None`` for a random init)."""
    folder = Path(rel_path).parent.name
    options = {loader: dict(batch_size=2, num_workers=0, persistent_workers=False,
                            dataset=dict(fakes[folder][split]))
               for loader, split in LOADERS.items()}
    model = tiny_model(cfg)
    state = None
    if cfg.model.backbone.pretrained is not None:
        path, state = pretrained_file(cfg.model.backbone.encoder.tokenizers)
        model['backbone']['pretrained'] = dict(checkpoint=path)
    options.update(model=model, work_dir=str(work_dir), experiment_name=_run_name(rel_path),
                   launcher='none', load_from=None, resume=False,
                   train_cfg=dict(max_iters=2, val_interval=2),
                   default_hooks=dict(logger=dict(interval=1)))
    return copy.deepcopy(options), state


def test_the_2d_configs_are_found():
    folders = {Path(p).parent.name for p in SEG2D_CONFIGS}
    assert folders == set(SEG2D_FOLDERS)
    assert len(SEG2D_CONFIGS) >= 20


@pytest.mark.parametrize('rel_path', one_per_label_fraction_family(SEG2D_CONFIGS))
def test_seg2d_config_trains_and_tests_its_best_checkpoint(rel_path, fakes, pretrained_file,
                                                           tmp_path):
    cfg = Config.fromfile(str(REPO_ROOT / rel_path))
    assert cfg.default_scope == 'unimedi' and cfg.get('test_after_train')
    assert cfg.model.type == 'mmseg.EncoderDecoder'
    assert cfg.model.backbone.type == 'ViTSegBackbone'
    options, pretrained_state = tiny_options(rel_path, cfg, fakes, pretrained_file, tmp_path)
    cfg.merge_from_dict(options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = load_script('tools/train.py').test_best(runner)

    written = json.loads((tmp_path / 'metrics.json').read_text())
    assert Path(written['checkpoint']).name.startswith('best_dice_mean')
    assert 0.0 <= written['mDice'] <= 100.0 and 'mIoU' in written
    classes = runner.test_dataloader.dataset.metainfo['classes']
    assert {f'dice/{name}' for name in classes[1:]} <= set(written)  # foreground only
    assert 'dice/background' not in written
    assert metrics['mDice'] == written['mDice']
    assert metrics['dice/mean'] == written['dice/mean']
    dataset = runner.train_dataloader.dataset
    assert dataset.data_fraction == cfg.train_dataloader.dataset.get('data_fraction', 1.0)
    train_list = (tmp_path / 'sample_lists' / 'train.txt').read_text().splitlines()
    assert len(train_list) == len(dataset) + 1  # the header line
    assert runner.test_dataloader.dataset.metainfo['classes'][0] == 'background'
    encoder = runner.model.backbone.encoder.state_dict()
    if pretrained_state is not None and cfg.model.backbone.frozen:
        # the frozen encoder is the pre-trained one, untouched by training
        for key, value in pretrained_state.items():
            torch.testing.assert_close(encoder[key], value, msg=key)
    if pretrained_state is not None and not cfg.model.backbone.frozen:
        changed = [k for k, v in pretrained_state.items() if not torch.equal(encoder[k], v)]
        assert changed, 'fine-tuning left the encoder unchanged'


def test_test_tool_writes_metrics_for_a_seg2d_config(fakes, pretrained_file, tmp_path,
                                                     monkeypatch):
    """``tools/test.py CONFIG CKPT`` on the best checkpoint of a short run."""
    rel_path = 'configs/segmentation/phantom2d/vit_tiny_unimedi_frozen_phantom2d_100pct.py'
    cfg = Config.fromfile(str(REPO_ROOT / rel_path))
    options, _ = tiny_options(rel_path, cfg, fakes, pretrained_file, tmp_path / 'train')
    cfg.merge_from_dict(options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    best = load_script('tools/train.py').test_best(runner)
    checkpoint = json.loads((tmp_path / 'train' / 'metrics.json').read_text())['checkpoint']

    config_file = tmp_path / 'tiny_config.py'
    test_cfg = Config.fromfile(str(REPO_ROOT / rel_path))
    test_options, _ = tiny_options(rel_path, test_cfg, fakes, pretrained_file, tmp_path)
    test_cfg.merge_from_dict(test_options)
    test_cfg.dump(str(config_file))
    monkeypatch.setattr(sys, 'argv', ['test.py', str(config_file), checkpoint,
                                      '--work-dir', str(tmp_path / 'test'),
                                      '--show-dir', str(tmp_path / 'overlays')])
    load_script('tools/test.py').main()
    overlays = list((tmp_path / 'overlays').glob('*.png'))
    assert len(overlays) == len(runner.test_dataloader.dataset)  # one PNG per radiograph
    written = json.loads((tmp_path / 'test' / 'metrics.json').read_text())
    assert written['mDice'] == pytest.approx(best['mDice'])
    assert written['dice/mean'] == pytest.approx(best['dice/mean'], nan_ok=True)
