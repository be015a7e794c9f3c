"""unimedi.utils.config_checks: hook arguments, value types and top-level overrides are
checked when the config is merged, before the Runner is built (no training here)."""
from __future__ import annotations

from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.utils import import_modules_from_strings

from unimedi.utils.cli import apply_cli_options
from unimedi.utils.config_checks import check_cfg_options, check_hook_arguments, hook_arguments

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = 'configs/unimedi/vit_tiny_pretrain_phantom.py'
CLASSIFICATION = 'configs/classification/phantom2d/vit_tiny_unimedi_finetune_phantom2d_100pct.py'


def _config(path: str = DEMO) -> Config:
    return Config.fromfile(str(REPO_ROOT / path), import_custom_modules=False)


def _apply(options: dict, path: str = DEMO) -> Config:
    return apply_cli_options(_config(path), path, work_dir='w', cfg_options=options)


# hook arguments --------------------------------------------------------------------------


def _all_configs() -> list[str]:
    files = list((REPO_ROOT / 'configs').rglob('*.py'))
    files += list((REPO_ROOT / 'projects').glob('*/configs/**/*.py'))
    return sorted(str(f.relative_to(REPO_ROOT)) for f in files if '_base_' not in f.parts)


@pytest.mark.parametrize('path', _all_configs())
def test_the_hooks_of_every_config_pass(path):
    cfg = Config.fromfile(str(REPO_ROOT / path))  # also imports custom_imports
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    check_hook_arguments(cfg)


@pytest.mark.parametrize('path', [DEMO, CLASSIFICATION])
def test_the_configs_hooks_pass(path):
    check_hook_arguments(_config(path))
    _apply({'default_hooks.checkpoint.interval': 5, 'default_hooks.logger.interval': 1}, path)


def test_a_typo_in_a_checkpoint_argument_fails_at_start_up():
    # CheckpointHook(**kwargs) would hand it to runner.save_checkpoint at the first save
    with pytest.raises(ValueError, match=r"default_hooks.checkpoint \(\w*CheckpointHook.*\).*"
                       r"'intervall'.*did you mean 'interval'"):
        _apply({'default_hooks.checkpoint.intervall': 5})


def test_checkpoint_kwargs_are_checked_against_save_checkpoint():
    from mmengine.hooks import CheckpointHook
    own = {'interval', 'by_epoch', 'save_optimizer', 'save_param_scheduler', 'out_dir',
           'max_keep_ckpts', 'save_last', 'save_best', 'rule', 'greater_keys', 'less_keys',
           'file_client_args', 'filename_tmpl', 'backend_args', 'published_keys', 'save_begin'}
    # save_checkpoint's other parameters (filename, meta) are passed by the hook itself
    assert hook_arguments(CheckpointHook) == own
    cfg = _config()
    cfg.default_hooks.checkpoint.type = 'mmengine.CheckpointHook'
    cfg.default_hooks.checkpoint.meta = dict(a=1)
    with pytest.raises(ValueError, match=r"\(mmengine.CheckpointHook\): 'meta' is not"):
        check_hook_arguments(cfg)


@pytest.mark.parametrize('path', [DEMO, CLASSIFICATION])
def test_a_typo_in_a_hook_without_kwargs_names_the_closest_argument(path):
    cfg = _config(path)
    cfg.default_hooks.logger.intervl = 3
    with pytest.raises(ValueError, match=r"default_hooks.logger \(LoggerHook\).*'intervl'.*"
                       r"did you mean 'interval'"):
        check_hook_arguments(cfg)


def test_custom_hooks_are_checked_and_named_by_index():
    with pytest.raises(ValueError, match=r"custom_hooks.0 \(TeacherEMAHook\).*'momentun'.*"
                       r"did you mean 'momentum'"):
        _apply({'custom_hooks.0.momentun': 0.99})
    cfg = _config(CLASSIFICATION)
    cfg.custom_hooks[0].patiense = 3
    with pytest.raises(ValueError, match=r"custom_hooks.0 \(EarlyStoppingHook\).*'patiense'.*"
                       r"did you mean 'patience'"):
        check_hook_arguments(cfg)


def test_hooks_that_take_no_arguments_refuse_any():
    cfg = _config()
    cfg.default_hooks.safe_checkpoint.interval = 1  # SafeCheckpointHook takes nothing
    with pytest.raises(ValueError, match=r"default_hooks.safe_checkpoint "
                       r"\(SafeCheckpointHook\).*'interval'.*takes no arguments"):
        check_hook_arguments(cfg)


def test_ema_hook_arguments_go_to_the_averaged_model():
    cfg = _config()
    cfg.custom_hooks = [dict(type='EMAHook', momentum=0.001, priority='ABOVE_NORMAL')]
    check_hook_arguments(cfg)  # momentum: of ExponentialMovingAverage; priority: the Runner's
    cfg.custom_hooks = [dict(type='EMAHook', momentm=0.001)]
    with pytest.raises(ValueError, match=r"'momentm'.*did you mean 'momentum'"):
        check_hook_arguments(cfg)


def test_disabled_unknown_and_built_hooks_are_left_to_the_runner():
    from mmengine.hooks import IterTimerHook
    cfg = _config()
    cfg.default_hooks.timer = None  # disabled
    cfg.custom_hooks = [dict(type='NotARegisteredHook', whatever=1), IterTimerHook()]
    check_hook_arguments(cfg)


# value types ------------------------------------------------------------------------------


@pytest.mark.parametrize('key, value, expected', [
    ('model.embed_dim', 'abc', 'int'),
    ('default_hooks.checkpoint.interval', 'five', 'int'),
    ('optim_wrapper.optimizer.lr', 'fast', 'float'),
    ('model.vision_encoder.drop_path_rate', True, 'float'),
    ('randomness.seed', 'x', 'int'),
    ('tensorboard', 'yes', 'bool'),
    ('default_hooks.checkpoint.by_epoch', 'off', 'bool'),
])
def test_a_value_of_the_wrong_type_names_the_key_value_and_type(key, value, expected):
    with pytest.raises(ValueError, match=rf'{key}={value!r}.*expected an? {expected}'):
        _apply({key: value})


def test_an_arch_depth_that_is_not_a_number_fails(tmp_path):
    leaf = tmp_path / 'tiny_arch.py'
    leaf.write_text(f'_base_ = [{str(REPO_ROOT / DEMO)!r}]\n'
                    'model = dict(vision_encoder=dict(arch=dict(_delete_=True, embed_dim=32, '
                    'depth=2, num_heads=2)))\n')
    cfg = Config.fromfile(str(leaf), import_custom_modules=False)
    with pytest.raises(ValueError, match=r"model.vision_encoder.arch.depth='abc'.*expected an "
                       r"int.*the config has 2"):
        check_cfg_options(cfg, {'model.vision_encoder.arch.depth': 'abc'})


@pytest.mark.parametrize('key, value', [
    ('optim_wrapper.optimizer.lr', 1),  # an int for a float
    ('model.embed_dim', 64.0),  # a float for an int (configs write eta_min=0 for floats)
    ('model.embed_dim', None),
    ('train_cfg.max_iters', 4),
    ('tensorboard', False),
    ('default_hooks.checkpoint.by_epoch', 1),
    ('model.vision_encoder.tokenizers.2d.patch_size', [16, 16]),  # a size as a sequence
    ('load_from', 'work_dirs/x/iter_4.pth'),  # None before: anything goes
    ('model.new_key', 'abc'),  # not in the config: nothing to compare with
    ('custom_hooks.1.interval', 5),  # a list index
])
def test_values_that_can_stand_for_the_old_one_pass(key, value):
    check_cfg_options(_config(), {key: value})
    _apply({key: value})


def test_a_list_index_is_checked_too():
    with pytest.raises(ValueError, match=r"custom_hooks.1.interval='often'.*expected an int"):
        _apply({'custom_hooks.1.interval': 'often'})


# top-level variables ----------------------------------------------------------------------


def test_a_top_level_variable_is_refused_with_where_it_went():
    with pytest.raises(ValueError) as error:
        _apply({'max_iters': 30})
    message = str(error.value)
    assert 'max_iters is a variable of the config file' in message
    for derived in ('train_cfg.max_iters=30', 'train_cfg.val_interval=30',
                    'param_scheduler.1.end=30', 'default_hooks.checkpoint.interval=30'):
        assert derived in message


def test_top_level_variables_of_a_classification_config():
    with pytest.raises(ValueError, match=r'max_epochs is a variable.*train_cfg.max_epochs=5'):
        _apply({'max_epochs': 5}, CLASSIFICATION)
    with pytest.raises(ValueError, match=r"val_metric is a variable.*"
                       r"default_hooks.checkpoint.save_best=cls/acc"):
        _apply({'val_metric': 'cls/acc'}, CLASSIFICATION)
    with pytest.raises(ValueError, match=r'data_root is a variable.*'
                       r'train_dataloader.dataset.data_root=other'):
        _apply({'data_root': 'other'}, CLASSIFICATION)


def test_a_variable_nothing_holds_any_more_says_so():
    cfg = _config()
    cfg.unused_size = 7
    with pytest.raises(ValueError, match=r'unused_size is a variable.*no key holds 7'):
        check_cfg_options(cfg, {'unused_size': 8})


@pytest.mark.parametrize('key, value', [
    ('work_dir', 'elsewhere'), ('log_level', 'DEBUG'), ('default_scope', 'unimedi'),
    ('resume', True), ('experiment_name', 'run1'), ('launcher', 'none'),
    ('tensorboard', False), ('test_after_train', False),
    ('model', dict(type='X')),  # a dict: merged as a whole, the Runner reads it
    ('brand_new', 3),  # not in the config
])
def test_top_level_keys_that_take_effect_pass(key, value):
    check_cfg_options(_config(CLASSIFICATION), {key: value})
