"""The mmcv.ops shim that lets mmseg.models import on mmcv-lite (unimedi.utils.mmseg_compat).

The import-order behaviour is checked in fresh interpreters: whether ``mmcv.ops`` works
depends on what was imported first, which a shared pytest process cannot show.
"""
from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from unimedi.utils import mmseg_compat

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_fresh(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def _lite_only() -> None:
    import mmcv
    if mmseg_compat.has_compiled_ops(mmcv.__path__):
        pytest.skip('full mmcv (compiled ops) is installed: the shim stands aside')


def test_import_unimedi_then_mmseg_models_in_a_fresh_process():
    _lite_only()
    result = _run_fresh("""
        import sys
        import unimedi
        # installing the shim is cheap: it imports neither torch nor mmcv
        assert 'torch' not in sys.modules and 'mmcv' not in sys.modules
        import mmseg.models  # imports mmcv.ops.point_sample at import time
        import mmcv.ops
        from mmcv.ops import point_sample, sigmoid_focal_loss
        from unimedi.utils.mmseg_compat import MissingCompiledOpError, is_shimmed
        assert is_shimmed()
        assert point_sample.__module__ == 'mmcv.ops.point_sample', point_sample.__module__
        try:
            sigmoid_focal_loss(None, None)
        except MissingCompiledOpError as exc:
            assert 'mmcv.ops.sigmoid_focal_loss' in str(exc) and 'mmcv-lite' in str(exc)
        else:
            raise AssertionError('a compiled op ran without mmcv._ext')
        try:
            mmcv.ops.no_such_op
        except AttributeError:
            pass
        else:
            raise AssertionError('only the names of mmcv.ops.__all__ are provided')
        print('SHIM-OK')
    """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'SHIM-OK' in result.stdout


def test_default_scope_builds_an_mmseg_encoder_decoder_in_a_fresh_process():
    """What a Runner does: unimedi is imported through the default scope, then the
    `mmseg.` prefix imports mmseg's registry locations (mmseg.models)."""
    result = _run_fresh("""
        import sys
        import torch
        from mmengine.config import ConfigDict
        from mmengine.registry import MODELS, DefaultScope
        assert 'unimedi' not in sys.modules and 'mmseg.models' not in sys.modules
        encoder = dict(type='UnifiedViT', arch=dict(embed_dim=32, depth=2, num_heads=2),
                       tokenizers={'2d': dict(type='PatchEmbed2D', img_size=32)})
        cfg = ConfigDict(
            type='mmseg.EncoderDecoder',
            backbone=dict(type='ViTSegBackbone', encoder=encoder),
            decode_head=dict(type='mmseg.FCNHead', in_channels=32, channels=8, num_convs=1,
                             num_classes=2, in_index=-1, norm_cfg=dict(type='BN'),
                             loss_decode=dict(type='mmseg.CrossEntropyLoss')),
            test_cfg=dict(mode='whole'))
        with DefaultScope.overwrite_default_scope('unimedi'):
            model = MODELS.build(cfg)
        assert type(model).__module__.startswith('mmseg.models'), type(model).__module__
        assert type(model.backbone).__module__.startswith('unimedi.'), type(model.backbone)
        logits = model(torch.rand(1, 1, 32, 32), mode='tensor')
        assert tuple(logits.shape) == (1, 2, 2, 2), logits.shape
        print('BUILD-OK')
    """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'BUILD-OK' in result.stdout


def test_without_the_shim_mmseg_models_fails_on_mmcv_lite():
    """The trap the shim exists for (STACK.md trap 2); if it ever imports, drop the shim."""
    _lite_only()
    result = _run_fresh('import mmseg.models')
    assert result.returncode != 0
    assert 'mmcv._ext' in result.stderr


def test_install_is_idempotent():
    assert mmseg_compat.install_mmcv_ops_shim()
    assert mmseg_compat.install_mmcv_ops_shim()
    finders = [f for f in sys.meta_path if isinstance(f, mmseg_compat._OpsShimFinder)]
    assert len(finders) <= 1


def test_finder_stands_aside_when_compiled_ops_exist(tmp_path):
    finder = mmseg_compat._OpsShimFinder()
    package = tmp_path / 'mmcv'
    (package / 'ops').mkdir(parents=True)
    spec = finder.find_spec('mmcv.ops', [str(package)])
    assert spec is not None and spec.submodule_search_locations == [str(package / 'ops')]
    (package / ('_ext' + importlib.machinery.EXTENSION_SUFFIXES[0])).write_bytes(b'')
    assert mmseg_compat.has_compiled_ops([str(package)])
    assert finder.find_spec('mmcv.ops', [str(package)]) is None  # full mmcv: the real one
    assert finder.find_spec('mmcv.cnn', [str(package)]) is None  # only mmcv.ops is served


def test_point_sample_fallback_matches_mmcv_point_sample():
    from mmcv.ops import point_sample

    features = torch.rand(2, 3, 8, 10)
    points = torch.rand(2, 5, 2)
    expected = point_sample(features, points, align_corners=False)
    actual = mmseg_compat.point_sample_fallback(features, points, align_corners=False)
    assert actual.shape == (2, 3, 5)
    torch.testing.assert_close(actual, expected)
    grid = torch.rand(2, 4, 6, 2)
    assert mmseg_compat.point_sample_fallback(features, grid).shape == (2, 3, 4, 6)
    # a corner point samples the corner pixel (align_corners=True)
    corner = mmseg_compat.point_sample_fallback(features, torch.zeros(2, 1, 2),
                                                align_corners=True)
    torch.testing.assert_close(corner[..., 0], features[:, :, 0, 0])


def test_placeholder_ops_are_classes_that_refuse_to_run():
    op = mmseg_compat._missing_op('DeformConv2d')
    assert isinstance(op, type) and op.__name__ == 'DeformConv2d'
    assert not isinstance(object(), op)  # isinstance checks (mmengine optimisers) work
    with pytest.raises(mmseg_compat.MissingCompiledOpError, match='mmcv.ops.DeformConv2d'):
        op(3, 3, 1)
