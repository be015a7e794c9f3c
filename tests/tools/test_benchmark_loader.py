"""tools/analysis/benchmark_loader.py on tiny workloads: rows for every setting, cached
samples equal to uncached ones."""
import numpy as np
import pytest
import torch

from repo_scripts import load_script

pytestmark = pytest.mark.slow


def test_rows_for_each_workload_worker_count_and_kind(capsys):
    tool = load_script('tools/analysis/benchmark_loader.py')
    rows = tool.main(['--workloads', 'demo', 'bcv', '--workers', '0', '1', '--volumes', '2',
                      '--draws', '2', '--bcv-shape', '128', '128', '20', '--crops', '2',
                      '--no-train'])
    assert {(r['workload'], r['workers'], r['kind']) for r in rows} == {
        (w, n, k) for w in ('demo', 'bcv') for n in (0, 1) for k in ('uncached', 'cached')}
    bcv = [r for r in rows if r['workload'] == 'bcv']
    assert all(r['samples_per_s'] == pytest.approx(2 * r['volumes_per_s']) for r in bcv)
    assert 'x uncached' in capsys.readouterr().out


def test_cached_and_uncached_pipelines_give_the_same_volume(tmp_path):
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope

    from unimedi.registry import TRANSFORMS
    tool = load_script('tools/analysis/benchmark_loader.py')
    args = tool.parse_args(['--workloads', 'bcv', '--volumes', '1', '--bcv-shape', '64', '64',
                            '12', '--crops', '1'])
    files, uncached, cached = tool.workloads(tmp_path, args)['bcv']
    init_default_scope('unimedi')
    strip = [t for t in uncached[:-1]]  # the deterministic prefix only
    direct = Compose([TRANSFORMS.build(t) for t in strip])(dict(img_path=files[0]))
    cache = TRANSFORMS.build(cached[0])
    cache(dict(img_path=files[0]))
    again = cache(dict(img_path=files[0]))
    np.testing.assert_array_equal(again['img'], direct['img'])
    assert torch.is_tensor(torch.as_tensor(again['img']))
