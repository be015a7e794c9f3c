"""FeatureQualityHook: monitor values of both encoders and modalities, logged by step."""
from __future__ import annotations

import json
import math

import pytest
import torch

from unimedi.engine.hooks import FeatureQualityHook
from unimedi.registry import HOOKS, MODELS

TINY_BERT = dict(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                 intermediate_size=64)
PIPELINE = [
    dict(type='PerModality', pipelines={
        '2d': [dict(type='MedResize', size=(32, 32), image_mode='area')],
        '3d': [dict(type='HUWindow'), dict(type='MedResize', size=(8, 32, 32), image_mode='area')],
    }),
    dict(type='PackMedInputs'),
]
PHANTOMS = dict(type='PhantomDataset', num_3d=12, num_2d=14, seed=3, pipeline=PIPELINE,
                phantom_cfg=dict(ct_shape=(16, 32, 32), ct_spacing=(20.0, 11.2, 11.2),
                                 xray_volume_shape=(24, 12, 24),
                                 xray_volume_spacing=(14.0, 24.0, 14.0), xray_size=(32, 32)))


def _model(distill: bool = True, **overrides):
    torch.manual_seed(0)
    config = dict(
        type='UniMedI',
        vision_encoder=dict(type='UnifiedViT', arch=dict(embed_dim=32, depth=1, num_heads=2),
                            tokenizers={'2d': dict(type='PatchEmbed2D', patch_size=8,
                                                   img_size=32),
                                        '3d': dict(type='PatchEmbed3D', patch_size=(2, 8, 8),
                                                   img_size=(8, 32, 32))}),
        text_encoder=dict(type='HFTextEncoder', config=TINY_BERT),
        embed_dim=16,
        dino_head=dict(type='DINOHead', out_dim=24, hidden_dim=16, bottleneck_dim=8),
        loss_weights=dict(icl=1.0 if distill else 0.0, pcl=0.0),
        data_preprocessor=dict(type='MedDataPreprocessor', mean=0.5, std=0.25))
    return MODELS.build(dict(config, **overrides))


def test_measure_gives_every_value_for_both_encoders_and_modalities():
    hook = HOOKS.build(dict(type='FeatureQualityHook', dataset=PHANTOMS, folds=2,
                            max_per_modality=10, batch_size=4))
    assert isinstance(hook, FeatureQualityHook)
    model = _model()
    model.train()
    values = hook.measure(model)
    assert model.training  # restored
    names = ('probe_auc', 'rank', 'dino_entropy', 'dino_spread')
    expected = {f'monitor/{e}_{m}_{n}' for e in ('student', 'teacher') for m in ('2d', '3d')
                for n in names} | {'monitor/center_norm'}
    assert set(values) == expected
    # the data is loaded once and kept: 10 samples of each modality
    assert {m: len(v[0]) for m, v in hook._cache.items()} == {'2d': 10, '3d': 10}
    assert hook._cache['3d'][0].shape == (10, 1, 8, 32, 32)
    for key, value in values.items():
        if key.endswith('_rank'):
            assert 1.0 <= value <= 10.0  # at most min(N, C)
        elif key.endswith(('_dino_entropy', '_dino_spread')):
            assert 0.0 <= value <= math.log(24) + 1e-6
        elif key.endswith('_probe_auc') and not math.isnan(value):
            assert 0.0 <= value <= 1.0
    assert values['monitor/center_norm'] == 0.0  # no training step yet
    # teacher == student at initialisation: the same features, the same rank
    assert values['monitor/teacher_2d_rank'] == pytest.approx(values['monitor/student_2d_rank'])


def test_one_centre_norm_per_modality_with_modality_centres():
    hook = FeatureQualityHook(dataset=PHANTOMS, folds=2, max_per_modality=6)
    model = _model(distill_centers='modality')
    with torch.no_grad():
        model.cls_distill_loss.center[1].fill_(0.5)
    values = hook.measure(model)
    assert 'monitor/center_norm' not in values
    assert values['monitor/center_norm_2d'] == 0.0
    assert values['monitor/center_norm_3d'] == pytest.approx(0.5 * math.sqrt(24))
    assert 'monitor/teacher_3d_dino_entropy' in values


def test_no_distillation_values_without_a_distillation_loss():
    hook = FeatureQualityHook(dataset=PHANTOMS, probe='knn', max_per_modality=6)
    values = hook.measure(_model(distill=False))
    assert not any('dino' in k for k in values) and 'monitor/center_norm' not in values
    assert {k.rsplit('_', 2)[0] for k in values} >= {'monitor/student_2d', 'monitor/teacher_3d'}


class _WithoutLabels:
    """A built dataset whose samples have no ``gt_label``."""

    def __init__(self, cfg):
        from unimedi.registry import DATASETS
        self.dataset = DATASETS.build(cfg)

    def __len__(self):
        return len(self.dataset)

    def get_data_info(self, index):
        return self.dataset.get_data_info(index)

    def __getitem__(self, index):
        item = self.dataset[index]
        del item['data_samples'].gt_label
        return item


def test_a_dataset_without_labels_is_an_error():
    hook = FeatureQualityHook(dataset=_WithoutLabels(PHANTOMS), max_per_modality=2)
    with pytest.raises(ValueError, match='needs samples with gt_label'):
        hook.measure(_model())


def test_logs_to_scalars_json_before_and_during_training(tmp_path):
    from mmengine.runner import Runner
    work_dir = tmp_path / 'work'
    train = dict(PHANTOMS, pipeline=PIPELINE[:1] + [dict(type='ParseReport'),
                                                    dict(type='PackMedInputs')])
    model = _model()
    model.data_preprocessor.text_tokenizer = MODELS.build(dict(
        type='MedDataPreprocessor', text_tokenizer=dict(type='HFTextTokenizer',
                                                        max_length=32))).text_tokenizer
    runner = Runner(
        model=model, work_dir=str(work_dir), experiment_name='fq_hook_test',
        train_dataloader=dict(batch_size=4, num_workers=0, dataset=train,
                              sampler=dict(type='InfiniteSampler', shuffle=True),
                              collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=3),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
        custom_hooks=[dict(type='FeatureQualityHook', dataset=PHANTOMS, interval=2, folds=2,
                           max_per_modality=8)],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook', interval=100)),
        default_scope='unimedi')
    runner.train()
    scalars = next(work_dir.glob('*/vis_data/scalars.json'))
    rows = [json.loads(line) for line in scalars.read_text().splitlines()]
    monitored = [r for r in rows if 'monitor/student_2d_rank' in r]
    assert [r['step'] for r in monitored] == [0, 2, 3]  # init, every 2, and the last
    assert all(r['monitor/center_norm'] >= 0 for r in monitored)
    assert monitored[-1]['monitor/center_norm'] > 0  # the centre moved during training
