"""What the tools share: parsing ``--cfg-options`` (:class:`KeepSpacesDictAction`), merging
command-line options into a config (train.py, test.py) and the skeleton of the
tools/data/prepare_* converters."""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys
from typing import Callable, Mapping, Sequence

from mmengine.config import Config, DictAction

from unimedi.utils.config_checks import check_cfg_options, check_hook_arguments


def parse_option_value(text: str):
    """One ``--cfg-options`` value as MMEngine's ``DictAction`` reads it (ints, floats,
    ``true``/``false``, ``None``; ``a,b``, ``[a, b]`` and ``(a, b)`` are lists and tuples, at
    any depth; the quotes around a value are removed), but the spaces inside a value are
    kept: ``'a b'`` stays ``'a b'``, where MMEngine's gives ``'ab'``. A value that is not a
    list or tuple is kept as given; the items of a list are stripped.

    Raises:
        ValueError: the brackets are unbalanced.
    """
    text = text.strip('\'"')
    body = text.strip()
    if body[:1] + body[-1:] in ('()', '[]'):
        is_tuple, body = body[0] == '(', body[1:-1]
    elif ',' in body:
        is_tuple = False
    else:
        value = DictAction._parse_int_float_bool(body)
        return text if isinstance(value, str) else value
    items = _split_at_commas(body)
    if items and not items[-1].strip():  # a trailing comma, as MMEngine reads it
        items.pop()
    values = [parse_option_value(item.strip()) for item in items]
    return tuple(values) if is_tuple else values


def _split_at_commas(text: str) -> list[str]:
    """``text`` split at the commas outside brackets (``'(1, 2), 3'`` -> ``['(1, 2)', ' 3']``)."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in '([') - (char in ')]')
        if depth < 0:
            break
        if char == ',' and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise ValueError(f'unbalanced brackets in {text!r}')
    if text:
        items.append(text[start:])
    return items


class KeepSpacesDictAction(DictAction):
    """MMEngine's ``DictAction`` for ``--cfg-options KEY=VALUE ...`` that keeps the spaces
    inside a value (``work_dir="a b"`` writes to ``a b/``, not ``ab/``); values convert as in
    :func:`parse_option_value`. An item without ``=`` (an unquoted space split the value)
    or with unbalanced brackets is an argparse error naming it."""

    _parse_iterable = staticmethod(parse_option_value)

    def __call__(self, parser, namespace, values, option_string=None):
        for item in values or ():
            if '=' not in item:
                raise argparse.ArgumentError(
                    self, f'{item!r} is not KEY=VALUE (quote a value with spaces: '
                    '"work_dir=a b")')
        try:
            super().__call__(parser, namespace, values, option_string)
        except ValueError as exc:
            raise argparse.ArgumentError(self, str(exc)) from exc


def apply_cli_options(cfg: Config, config_path: str, work_dir: str | None = None,
                      cfg_options: dict | None = None, launcher: str = 'none') -> Config:
    """Set the launcher, merge ``--cfg-options`` and choose the work dir.

    The work dir is ``work_dir`` when given, else the config's ``work_dir``, else
    ``work_dirs/<config name>``. The options and the hooks' arguments are checked first
    (:mod:`unimedi.utils.config_checks`), so mistakes fail before the Runner is built.

    Raises:
        ValueError: an option cannot take effect (a variable of the config file) or has a
            value of the wrong type; a hook is given an argument it does not take.
    """
    cfg.launcher = launcher
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(config_path))[0])
    if cfg.get('tensorboard'):
        add_tensorboard(cfg)
    check_hook_arguments(cfg)
    return cfg


def add_tensorboard(cfg: Config) -> Config:
    """Log to TensorBoard too (``tensorboard = True`` in a config, or ``--cfg-options
    tensorboard=True``): MMEngine's ``TensorboardVisBackend`` beside the config's backends,
    writing under ``<work_dir>/<timestamp>/vis_data``.

    Raises:
        ImportError: TensorBoard is not installed (with the install command).
    """
    try:
        import tensorboard  # noqa: F401
    except ImportError as exc:
        raise ImportError('tensorboard = True needs TensorBoard: pip install -e ".[tensorboard]" '
                          '(or pip install tensorboard)') from exc
    visualizer = cfg.get('visualizer') or dict(type='Visualizer')
    backends = list(visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    visualizer['vis_backends'] = backends
    cfg.visualizer = visualizer
    return cfg


def add_overlay_hook(cfg: Config, show_dir: str) -> Config:
    """Append ``SaveSegOverlaysHook(out_dir=show_dir)`` to the config's custom hooks
    (``tools/test.py --show-dir``: overlays of segmentation predictions)."""
    hooks = [h for h in cfg.get('custom_hooks', []) if h.get('type') != 'SaveSegOverlaysHook']
    cfg.custom_hooks = hooks + [dict(type='SaveSegOverlaysHook', out_dir=osp.abspath(show_dir))]
    return cfg


def to_builtin(value):
    """Metrics as JSON-friendly Python values (numpy / torch scalars -> float)."""
    if isinstance(value, dict):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_builtin(v) for v in value]
    if hasattr(value, 'tolist'):
        return value.tolist()
    return value


def write_metrics(metrics: dict, work_dir: str, extra: dict | None = None) -> str:
    """Write ``<work_dir>/metrics.json`` (metrics plus ``extra`` info); return its path."""
    os.makedirs(work_dir, exist_ok=True)
    out = osp.join(work_dir, 'metrics.json')
    payload = to_builtin(metrics)
    if extra:
        payload = dict(payload, **to_builtin(extra))
    with open(out, 'w') as f:
        json.dump(payload, f, indent=2)
    return out


def best_checkpoint(runner) -> str | None:
    """The best checkpoint of a finished run (``CheckpointHook(save_best=...)``), else the
    last one, else ``None``."""
    from mmengine.hooks import CheckpointHook
    for hook in runner.hooks:
        if isinstance(hook, CheckpointHook):
            best = getattr(hook, 'best_ckpt_path', None)
            if best:
                return best
            paths = [p for p in (getattr(hook, 'best_ckpt_path_dict', None) or {}).values() if p]
            if paths:
                return paths[0]
    last = osp.join(runner.work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            return f.read().strip() or None
    return None


def prepare_parser(description: str, root_help: str = 'dataset folder (the data_root)',
                   out_help: str | None = None, out_default: str | None = None,
                   seed_help: str | None = 'seed of the split',
                   fractions: Sequence[float] | Mapping[str, float] | None = None,
                   fractions_of: str = 'the patients') -> argparse.ArgumentParser:
    """The arguments every ``tools/data/prepare_*`` tool has: ``--root``, ``--out`` (required
    unless ``out_default`` is given, e.g. a folder under the root) and ``--seed``
    (left out when ``seed_help`` is None); with ``fractions`` (train, val, test, or a
    split -> fraction mapping) also ``--fractions TRAIN VAL TEST`` with that default, check it
    with :func:`unimedi.datasets.splits.check_fractions`. The tool adds its own after these."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--root', required=True, help=root_help)
    if out_default is None:
        parser.add_argument('--out', required=True, help=out_help or 'where to write')
    else:
        parser.add_argument('--out', default=None,
                            help=out_help or f'where to write (default: {out_default})')
    if seed_help is not None:
        parser.add_argument('--seed', type=int, default=0, help=seed_help)
    if fractions is not None:
        default = [float(f) for f in (fractions.values() if isinstance(fractions, Mapping)
                                      else fractions)]
        parser.add_argument('--fractions', nargs=3, type=float, default=default,
                            metavar=('TRAIN', 'VAL', 'TEST'),
                            help=f'fractions of {fractions_of} per split (default: '
                            f'{" ".join(f"{f:g}" for f in default)})')
    return parser


def run_prepare(prepare: Callable[[], object],
                load_hint: str | Callable[[object], str] | None = None) -> int:
    """The body of a ``tools/data/prepare_*`` main: run ``prepare()``, print the summary it
    returns (anything with ``format()``) and how to load the result.

    Returns:
        the exit code: 0, or 2 when a file is missing or a value is wrong (the message, which
        names the file, goes to stderr).
    """
    try:
        report = prepare()
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    if hasattr(report, 'format'):
        print(report.format())
    if load_hint is not None:
        print(load_hint(report) if callable(load_hint) else load_hint)
    return 0
