"""mmsegmentation on mmcv-lite: the one place that makes ``mmseg.models`` importable.

mmcv-lite ships ``mmcv/ops/*.py`` but not the compiled ops (``mmcv._ext``), so its
``mmcv/ops/__init__.py`` fails at import, and with it every ``mmseg.models`` import:
``mmseg/utils/mask_classification.py`` imports ``mmcv.ops.point_sample`` unguarded, and
``losses/focal_loss.py`` and ``decode_heads/san_head.py`` import more ops at import time.

:func:`install_mmcv_ops_shim` (called by ``unimedi/__init__.py``) puts a finder in front of
``sys.meta_path`` that answers only for ``mmcv.ops`` and only when ``mmcv._ext`` is absent.
It then serves a replacement ``mmcv.ops`` package that

- exposes the real, pure-PyTorch ``point_sample`` (``mmcv/ops/point_sample.py``; an
  equivalent on ``torch.nn.functional.grid_sample`` if that file cannot be imported),
- makes every other name of mmcv's ``mmcv.ops.__all__`` importable as a placeholder that
  raises :class:`MissingCompiledOpError` (naming the op) when called or instantiated, and
- keeps mmcv's ``ops`` folder as its search path, so pure-Python submodules
  (``mmcv.ops.point_sample``) import as usual and the others fail as they would anyway.

With full mmcv (``mmcv._ext`` present) the finder steps aside and the real package loads.
Nothing is imported when the shim is installed (``import unimedi`` stays cheap); the
finder only runs when something imports ``mmcv.ops``. That covers MMEngine importing
mmseg's registry locations for a ``type='mmseg.X'`` under ``default_scope='unimedi'``,
since that scope imports ``unimedi`` first. With another default scope, import unimedi
first (``custom_imports=dict(imports=['unimedi'])``).

Verified with torch 2.14.1, mmcv-lite 2.1.0 and mmsegmentation 1.2.2: ``EncoderDecoder``
with ``UPerHead``, ``SETRUPHead``, ``SETRMLAHead``, ``Feature2Pyramid`` and ``MLANeck``
trains and predicts on the CPU. mmseg parts that need compiled ops raise the error above
when used: ``CCHead`` and ``PSAHead`` when built, ``FocalLoss`` on a GPU (on the CPU it
uses its pure-PyTorch path), deformable convolutions.
"""
from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import os.path as osp
import sys
import types

SHIM_FLAG = '__unimedi_mmcv_ops_shim__'
#: names of the real point_sample module that the shim re-exports when it imports
POINT_SAMPLE_NAMES = ('point_sample', 'bilinear_grid_sample', 'rel_roi_point_to_rel_img_point',
                      'SimpleRoIAlign')
#: version queries that describe the build rather than run an op: answered, not refused
INFO_FUNCTIONS = ('get_compiler_version', 'get_compiling_cuda_version')


class MissingCompiledOpError(ImportError):
    """An ``mmcv.ops`` op was used that needs mmcv's compiled ops (absent in mmcv-lite)."""


def _missing_op(name: str) -> type:
    """A placeholder class for ``mmcv.ops.<name>``: importable, subclassable and usable in
    ``isinstance`` checks; calling it (function) or instantiating it (class) raises."""

    def refuse(cls, *args, **kwargs):
        raise MissingCompiledOpError(
            f'mmcv.ops.{name} needs mmcv\'s compiled ops (mmcv._ext), which mmcv-lite does not '
            'ship; install the full mmcv package (built with its ops), or use a head / loss '
            'that does not need it (unimedi.utils.mmseg_compat)')

    return type(name, (), {'__new__': refuse, '__module__': 'mmcv.ops',
                           '__doc__': f'Placeholder for mmcv.ops.{name} (needs full mmcv).'})


def _build_info(*args, **kwargs) -> str:
    return 'n/a (mmcv-lite: no compiled ops)'


def point_sample_fallback(input, points, align_corners: bool = False, **kwargs):
    """mmcv's ``point_sample`` on ``F.grid_sample`` (used only if mmcv's own file fails).

    Args:
        input: ``(N, C, H, W)`` feature maps.
        points: ``(N, P, 2)`` or ``(N, Hp, Wp, 2)`` ``(x, y)`` in ``[0, 1] x [0, 1]``.
        align_corners: as ``F.grid_sample``.

    Returns:
        ``(N, C, P)`` or ``(N, C, Hp, Wp)`` sampled features.
    """
    import torch.nn.functional as F  # here: installing the shim must not import torch

    add_dim = points.dim() == 3
    if add_dim:
        points = points.unsqueeze(2)
    output = F.grid_sample(input, 2.0 * points - 1.0, align_corners=align_corners, **kwargs)
    return output.squeeze(3) if add_dim else output


def _ops_all(ops_dir: str) -> list[str]:
    """``__all__`` of mmcv's ``mmcv/ops/__init__.py``, read without running it."""
    try:
        with open(osp.join(ops_dir, '__init__.py'), encoding='utf-8') as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError):
        return list(POINT_SAMPLE_NAMES)
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '__all__' for t in node.targets):
            names += [ast.literal_eval(e) for e in getattr(node.value, 'elts', [])
                      if isinstance(e, ast.Constant)]
    return names


def has_compiled_ops(mmcv_paths) -> bool:
    """Whether an ``mmcv._ext`` extension module lies in one of the ``mmcv`` package folders."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return any(osp.isfile(osp.join(folder, '_ext' + suffix))
               for folder in mmcv_paths for suffix in suffixes)


class _OpsShimLoader(importlib.abc.Loader):
    """Creates the replacement ``mmcv.ops`` package (see the module docstring)."""

    def __init__(self, ops_dir: str):
        self.ops_dir = ops_dir

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        names = _ops_all(self.ops_dir)
        setattr(module, SHIM_FLAG, True)
        module.__doc__ = ('mmcv.ops without compiled ops (mmcv-lite): point_sample is real, '
                          'the other ops raise when used. See unimedi.utils.mmseg_compat.')
        try:  # the pure-PyTorch file (no _ext); importing it binds module.point_sample
            real = importlib.import_module('mmcv.ops.point_sample')
        except ImportError:
            real = None
        for name in names:
            setattr(module, name, _build_info if name in INFO_FUNCTIONS else _missing_op(name))
        if real is None:
            module.point_sample = point_sample_fallback
        else:
            for name in POINT_SAMPLE_NAMES:
                if hasattr(real, name):
                    setattr(module, name, getattr(real, name))
        module.__all__ = sorted(set(names) | {'point_sample'})


class _OpsShimFinder(importlib.abc.MetaPathFinder):
    """Serves :class:`_OpsShimLoader` for ``mmcv.ops`` when mmcv has no compiled ops."""

    def find_spec(self, fullname, path, target=None):
        if fullname != 'mmcv.ops' or not path or has_compiled_ops(path):
            return None
        ops_dir = next((osp.join(p, 'ops') for p in path if osp.isdir(osp.join(p, 'ops'))),
                       None)
        if ops_dir is None:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, _OpsShimLoader(ops_dir),
                                              is_package=True)
        spec.submodule_search_locations = [ops_dir]
        return spec


def install_mmcv_ops_shim() -> bool:
    """Install the ``mmcv.ops`` finder once (idempotent, imports nothing).

    Returns:
        ``True`` when the finder is (now or already) in ``sys.meta_path``, ``False`` when
        ``mmcv.ops`` was already imported (the real package or an earlier shim stays).
    """
    if any(isinstance(finder, _OpsShimFinder) for finder in sys.meta_path):
        return True
    if 'mmcv.ops' in sys.modules:
        return False
    sys.meta_path.insert(0, _OpsShimFinder())
    return True


def is_shimmed() -> bool:
    """Whether the imported ``mmcv.ops`` is this module's replacement (imports it)."""
    import mmcv.ops
    return bool(getattr(mmcv.ops, SHIM_FLAG, False))
