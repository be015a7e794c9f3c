"""Every 3D segmentation recipe trains 2 iterations, validates, keeps its best checkpoint
and tests it (``tools/train.py``'s ``test_after_train``), writing ``metrics.json`` with Dice.

The configs keep their datasets, pipelines, decoder, loss, metric, schedules and hooks;
only the sizes shrink (a 2-block 32-wide ViT, decoder feature size 4, batches of 2, no
worker processes; BCV's 96^3 crops and windows become 16 x 32 x 32) and the data are tiny:
phantoms written by the generator, fake NIfTI volumes with a BCV-style datalist, and the
real CT of ``data/ct`` (tools/data/link_real_data.sh) for ``ct_organs`` (skipped when that
folder is absent). A recipe's 1 / 10 / 100 % leaves differ only in ``data_fraction``: one
of them trains (tests/configs/test_configs.py builds every config).
"""
from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from unimedi.datasets.phantom.generator import PhantomConfig, write_phantom_dataset
from unimedi.io.writers import strip_image_suffix
from unimedi.registry import ENCODERS
from fakes.seg3d import write_fake_seg_volumes
from repo_scripts import load_script, one_per_label_fraction_family, redirect_caches

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

REPO_ROOT = Path(__file__).resolve().parents[2]
SEG3D_CONFIGS = sorted(p.relative_to(REPO_ROOT).as_posix()
                       for folder in ('phantom3d', 'bcv', 'ct_organs')
                       for p in (REPO_ROOT / 'configs' / 'segmentation' / folder).glob('*.py'))
TRAINED_CONFIGS = one_per_label_fraction_family(SEG3D_CONFIGS)
TINY_ARCH = dict(embed_dim=32, depth=2, num_heads=2)
TINY_ROI = (16, 32, 32)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.fixture(scope='module')
def data_roots(tmp_path_factory) -> dict:
    """Dataset type -> the data_root of its tiny data."""
    root = tmp_path_factory.mktemp('seg3d_configs')
    write_phantom_dataset(str(root / 'phantoms'), 8, 0, seed=0,
                          config=PhantomConfig(ct_shape=(32, 64, 64),
                                               ct_spacing=(10.0, 5.6, 5.6),
                                               split_fractions=(0.5, 0.25, 0.25)),
                          workers=1, progress=False)
    return dict(PhantomSeg3DDataset=str(root / 'phantoms'),
                NiftiSegDataset=str(write_fake_seg_volumes(root / 'bcv', count=4)))


@pytest.fixture(scope='module')
def pretrained_files(tmp_path_factory):
    """Tiny fake UniMedI checkpoints (``vision_encoder.*``), one per tokenizer layout."""
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


def _transforms(pipeline: list):
    """Every transform config of a pipeline, those inside wrappers included."""
    for transform in pipeline:
        yield transform
        yield from _transforms(transform.get('transforms', []))


def _tiny_options(cfg: Config, data_roots: dict, tmp_path: Path, rel_path: str) -> dict:
    real_ct = 'data_list' in cfg.train_dataloader.dataset
    loaders = {}
    for loader in LOADERS:
        dataset = cfg[loader]['dataset']
        args = {} if real_ct else dict(data_root=data_roots[dataset['type']])
        loaders[loader] = dict(batch_size=2 if loader == 'train_dataloader' else 1,
                               num_workers=0, persistent_workers=False, dataset=args)
    model = dict(backbone=dict(arch=dict(_delete_=True, **TINY_ARCH)),
                 decode_head=dict(feature_size=4))
    if 'bcv' in rel_path:  # paper-scale 96^3 crops and windows -> 16 x 32 x 32
        model['infer_cfg'] = dict(roi_size=TINY_ROI)
        pipeline = copy.deepcopy(cfg.train_dataloader.dataset.pipeline)
        crops = [t for t in _transforms(pipeline) if t['type'] == 'RandomCropByLabel']
        assert crops, f'{rel_path}: no RandomCropByLabel in the train pipeline'
        for transform in crops:
            transform['size'] = TINY_ROI
        loaders['train_dataloader']['dataset']['pipeline'] = pipeline
    return dict(loaders, model=model, work_dir=str(tmp_path),
                experiment_name=f'{Path(rel_path).stem}_{uuid.uuid4().hex[:8]}',
                launcher='none', load_from=None, resume=False,
                train_cfg=dict(max_iters=2, val_interval=2),
                test_evaluator=dict(output_dir=str(tmp_path / 'predictions')),
                default_hooks=dict(logger=dict(interval=1), checkpoint=dict(interval=2)))


@pytest.mark.parametrize('rel_path', TRAINED_CONFIGS)
def test_seg3d_config_trains_and_tests_its_best_checkpoint(rel_path, data_roots,
                                                           pretrained_files, tmp_path):
    cfg = Config.fromfile(str(REPO_ROOT / rel_path))
    assert cfg.model.type == 'VolumeSegmentor' and cfg.get('test_after_train')
    real_ct = 'data_list' in cfg.train_dataloader.dataset
    if real_ct:
        data_root = (REPO_ROOT / cfg.train_dataloader.dataset.data_root).resolve()
        if not data_root.is_dir():
            pytest.skip(f'real CT folder {data_root} not present')
    options = _tiny_options(cfg, data_roots, tmp_path, rel_path)
    if real_ct:
        for loader in LOADERS:
            options[loader]['dataset']['data_root'] = str(data_root)
    pretrained_state = None
    if cfg.model.pretrained is not None:
        path, pretrained_state = pretrained_files(cfg.model.backbone.tokenizers)
        options['model']['pretrained'] = dict(checkpoint=path)
    cfg.merge_from_dict(options)
    redirect_caches(cfg._cfg_dict, tmp_path / 'cache')  # never into the repository's data/
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = load_script('tools/train.py').test_best(runner)

    written = json.loads((tmp_path / 'metrics.json').read_text())
    assert 0.0 <= written['dice/mean'] <= 1.0 and 0.0 <= metrics['dice/mean'] <= 1.0
    assert 'best_dice_mean_iter_2' in written['checkpoint']
    classes = runner.test_dataloader.dataset.metainfo['classes']
    assert {f'dice/{name}' for name in classes[1:]} <= set(written)
    dataset = runner.train_dataloader.dataset
    assert dataset.data_fraction == cfg.train_dataloader.dataset.get('data_fraction', 1.0)
    train_list = (tmp_path / 'sample_lists' / 'train.txt').read_text().splitlines()
    assert len(train_list) == len(dataset) + 1  # the header line
    backbone = runner.model.backbone.state_dict()
    if pretrained_state is not None and cfg.model.frozen:
        for key, value in pretrained_state.items():
            torch.testing.assert_close(backbone[key], value, msg=key)
    if pretrained_state is not None and not cfg.model.frozen:
        assert any(not torch.equal(backbone[k], v) for k, v in pretrained_state.items()), \
            'fine-tuning left the encoder unchanged'
    # every test volume has its NIfTI prediction, on the grid of its input file
    test_set = runner.test_dataloader.dataset
    assert len(list((tmp_path / 'predictions').glob('*_pred.nii.gz'))) == len(test_set)
    img_path = test_set.get_data_info(0)['img_path']
    saved = nib.load(str(tmp_path / 'predictions' / f'{strip_image_suffix(img_path)}_pred.nii.gz'))
    source = nib.load(img_path)
    assert saved.shape == source.shape
    np.testing.assert_allclose(saved.affine, source.affine)


def test_test_tool_writes_metrics_and_overlays_for_a_seg3d_config(
        data_roots, pretrained_files, tmp_path, monkeypatch):
    """``tools/test.py CONFIG CKPT --show-dir DIR``: metrics.json and slice overlays."""
    import sys

    rel_path = 'configs/segmentation/phantom3d/vit_tiny_unimedi_finetune_phantom3d_100pct.py'
    cfg = Config.fromfile(str(REPO_ROOT / rel_path))
    options = _tiny_options(cfg, data_roots, tmp_path / 'train', rel_path)
    options['model']['pretrained'] = dict(
        checkpoint=pretrained_files(cfg.model.backbone.tokenizers)[0])
    cfg.merge_from_dict(options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    best = load_script('tools/train.py').test_best(runner)
    checkpoint = json.loads((tmp_path / 'train' / 'metrics.json').read_text())['checkpoint']

    config_file = tmp_path / 'tiny_config.py'
    cfg.dump(str(config_file))
    monkeypatch.setattr(sys, 'argv', ['test.py', str(config_file), checkpoint, '--work-dir',
                                      str(tmp_path / 'test'), '--show-dir',
                                      str(tmp_path / 'overlays')])
    load_script('tools/test.py').main()
    written = json.loads((tmp_path / 'test' / 'metrics.json').read_text())
    assert written['dice/mean'] == pytest.approx(best['dice/mean'], nan_ok=True)
    overlays = {p.stem for p in (tmp_path / 'overlays').glob('*.png')}
    test_set = runner.test_dataloader.dataset
    assert overlays == {strip_image_suffix(test_set.get_data_info(i)['img_path'])
                        for i in range(len(test_set))}  # one mosaic of slices per volume
