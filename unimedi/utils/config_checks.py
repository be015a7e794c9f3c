"""Checks of ``--cfg-options`` and of a config's hooks, run when the tools merge the options
(:func:`unimedi.utils.cli.apply_cli_options`), before the Runner is built: a typo or a value
of the wrong type fails at start-up with a message naming the key, not deep in torch or at
the first checkpoint after hours of training."""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Iterator

from mmengine.config import Config
from mmengine.hooks import CheckpointHook, EMAHook
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

#: top-level keys the tools read themselves (``tools/train.py``, :mod:`unimedi.utils.cli`)
TOOL_KEYS = ('tensorboard', 'test_after_train')
#: hook config keys the Runner consumes itself (``Runner.register_hook`` pops ``priority``)
RUNNER_HOOK_KEYS = ('type', 'priority', '_scope_')
#: what ``CheckpointHook`` passes to ``runner.save_checkpoint`` itself (its ``**kwargs`` may
#: name any other parameter of ``save_checkpoint``)
CHECKPOINT_HOOK_PASSES = ('self', 'out_dir', 'filename', 'file_client_args', 'save_optimizer',
                          'save_param_scheduler', 'meta', 'by_epoch', 'backend_args')
_MISSING = object()


def runner_keys() -> set[str]:
    """The top-level keys ``Runner.from_cfg`` reads: the parameters of ``Runner.__init__``."""
    return set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}


def check_cfg_options(cfg: Config, cfg_options: dict,
                      read_keys: tuple[str, ...] = TOOL_KEYS) -> None:
    """Refuse ``--cfg-options`` that cannot take effect or hold a value of the wrong type.

    Call before ``cfg.merge_from_dict(cfg_options)``: the config's values are the reference.

    Raises:
        ValueError: ``KEY`` without a dot names a plain value (number, str, tuple) at the top
            level that neither the Runner nor the tools (``read_keys``) read: a variable of
            the config file, already copied where it is used (the message names the keys
            that hold its value); or a value replaces an int / float / bool by one that
            cannot stand for it (e.g. ``'abc'`` for an int; an int for a float is fine).
    """
    for key, value in cfg_options.items():
        old = lookup(cfg, key)
        if old is _MISSING:
            continue
        if '.' not in key and _is_plain(old) and key not in runner_keys() | set(read_keys):
            raise ValueError(_variable_message(cfg, key, value, old))
        expected = _expected_type(old, value)
        if expected is not None:
            raise ValueError(f'--cfg-options {key}={value!r}: expected {expected} (the config '
                             f'has {old!r}), got a {type(value).__name__}')


def check_hook_arguments(cfg: Config) -> None:
    """Compare the arguments of every hook in ``default_hooks`` and ``custom_hooks`` with
    what its class accepts. Hooks that are disabled (``None``), already built or not in the
    registry are left to the Runner.

    Raises:
        ValueError: a hook is given an argument it does not take (the message names the
            hook, the argument and the closest valid one).
    """
    from unimedi.registry import HOOKS
    hooks = [(f'default_hooks.{name}', hook)
             for name, hook in (cfg.get('default_hooks') or {}).items()]
    hooks += [(f'custom_hooks.{i}', hook) for i, hook in enumerate(cfg.get('custom_hooks') or [])]
    # resolved as the Runner builds them: in the config's default scope
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope') or 'mmengine'):
        for where, hook in hooks:
            if not isinstance(hook, dict) or 'type' not in hook:
                continue
            hook_cls = hook['type']
            if isinstance(hook_cls, str):
                with HOOKS.switch_scope_and_registry(None) as registry:
                    hook_cls = registry.get(hook_cls)
            if not inspect.isclass(hook_cls):
                continue
            accepted = hook_arguments(hook_cls, hook)
            if accepted is None:
                continue
            name = hook['type'] if isinstance(hook['type'], str) else hook_cls.__name__
            if name.split('.')[-1] != hook_cls.__name__:  # registered under another name
                name += f', class {hook_cls.__name__}'
            for key in hook:
                if key not in accepted and key not in RUNNER_HOOK_KEYS:
                    raise ValueError(_argument_message(where, name, key, accepted))


def hook_arguments(hook_cls: type, hook_cfg: dict | None = None) -> set[str] | None:
    """The keyword arguments ``hook_cls`` accepts, following ``**kwargs`` to where they go:
    a parent's ``__init__``, ``Runner.save_checkpoint`` (``CheckpointHook``) or the averaged
    model (``EMAHook``, whose type ``hook_cfg`` names); ``None`` when they go elsewhere."""
    names: set[str] = set()
    for klass in hook_cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        if klass is object:  # no __init__ of its own anywhere: the hook takes nothing
            return names
        params = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in params
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {'self'}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names
        if klass is CheckpointHook:
            forwarded = inspect.signature(Runner.save_checkpoint).parameters
            return names | (set(forwarded) - set(CHECKPOINT_HOOK_PASSES))
        if klass is EMAHook:
            averaged = _ema_model_arguments((hook_cfg or {}).get('ema_type',
                                                                 'ExponentialMovingAverage'))
            return None if averaged is None else names | averaged
        parents = [k for k in klass.__mro__[1:] if '__init__' in vars(k)]
        if parents[0] is object:  # **kwargs not passed on to a parent: we cannot follow them
            return None
    return names


def lookup(cfg: Config | dict, key: str) -> Any:
    """The value at a dotted ``--cfg-options`` key (digits index lists, as
    ``Config.merge_from_dict`` does); a private sentinel when there is none."""
    node: Any = cfg
    for part in key.split('.'):
        if isinstance(node, (dict, Config)) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _is_plain(value: Any) -> bool:
    return isinstance(value, (int, float, str, tuple))


def _expected_type(old: Any, value: Any) -> str | None:
    """What ``value`` should have been to replace ``old``; ``None`` when it may."""
    if value is None or old is None:
        return None
    if isinstance(old, bool):
        if isinstance(value, bool) or (type(value) is int and value in (0, 1)):
            return None
        return 'a bool (True or False)'
    if isinstance(old, (int, float)):
        # int and float stand for each other (configs write eta_min=0 for a float); a
        # list / tuple may stand for a size (img_size=112 or (112, 112))
        if isinstance(value, (int, float, list, tuple)) and not isinstance(value, bool):
            return None
        return f'an {type(old).__name__}' if type(old) is int else 'a float'
    return None


def _leaves(node: Any, prefix: str = '') -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every value under ``node``; lists are indexed, tuples are
    values."""
    items = (node.items() if isinstance(node, (dict, Config))
             else enumerate(node) if isinstance(node, list) else None)
    if items is None:
        yield prefix, node
        return
    for key, value in items:
        yield from _leaves(value, f'{prefix}.{key}' if prefix else str(key))


def _format(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _variable_message(cfg: Config, key: str, value: Any, old: Any, shown: int = 8) -> str:
    uses = [path for path, leaf in _leaves(cfg)
            if path != key and type(leaf) is type(old) and leaf == old]
    head = (f'--cfg-options {key}={_format(value)}: {key} is a variable of the config file; '
            'its value was copied where it is used when the file was read, so overriding it '
            'changes nothing. ')
    if not uses:
        return head + (f'Override the keys that use it instead (no key holds {old!r} any '
                       'more).')
    more = f' (and {len(uses) - shown} more)' if len(uses) > shown else ''
    return head + (f'Override where it is used (the keys that hold its value {old!r} now): '
                   + ' '.join(f'{path}={_format(value)}' for path in uses[:shown]) + more)


def _argument_message(where: str, hook_name: str, key: str, accepted: set[str]) -> str:
    if not accepted:
        return f'{where} ({hook_name}): {key!r} is not an argument; the hook takes no arguments'
    close = difflib.get_close_matches(key, sorted(accepted), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ''
    return (f'{where} ({hook_name}): {key!r} is not an argument{hint} '
            f'(its arguments: {", ".join(sorted(accepted))})')


def _ema_model_arguments(ema_type: Any) -> set[str] | None:
    from unimedi.registry import MODELS
    if isinstance(ema_type, str):
        with MODELS.switch_scope_and_registry(None) as registry:
            ema_type = registry.get(ema_type)
    if not inspect.isclass(ema_type):
        return None
    accepted = hook_arguments(ema_type)  # the same walk serves any class
    return None if accepted is None else accepted - {'model'}
