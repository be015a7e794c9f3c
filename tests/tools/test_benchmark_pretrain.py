"""tools/analysis/benchmark_pretrain.py runs (tiny sizes, one step) and prints its table."""
import importlib.util
import math
import re
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / 'tools' / 'analysis' / 'benchmark_pretrain.py'
NUMBER = r'(\d+(?:\.\d+)?)'


@pytest.fixture(scope='module')
def bench_tool():
    spec = importlib.util.spec_from_file_location('unimedi_tool_benchmark_pretrain', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('device', [
    'cpu',
    pytest.param('cuda', marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                  reason='needs a CUDA GPU')),
])
def test_benchmark_prints_table_with_ratios(bench_tool, capsys, device):
    extra = ['--amp'] if device == 'cuda' else []
    rows = bench_tool.main(['--archs', 'tiny', '--device', device, '--iters', '2',
                            '--warmup', '0', '--batch-size', '2', '--size-2d', '32',
                            '--size-3d', '8', '32', '32', '--text-length', '16'] + extra)
    out = capsys.readouterr().out
    assert [(r['device'], r['arch'], r['mode']) for r in rows] == \
        [(device, 'tiny', m) for m in ('2d', '3d', 'mixed')]
    header = next(line for line in out.splitlines() if line.startswith('device'))
    for column in ('UniMedI samples/s', 'baseline samples/s', 'speed ratio',
                   'UniMedI peak MiB', 'baseline peak MiB', 'memory ratio'):
        assert column in header
    for mode in ('2d', '3d', 'mixed'):
        pattern = (rf'^{device}\s+tiny\s+{mode}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}x\s+{NUMBER}\s+'
                   rf'{NUMBER}\s+(\S+)x\s*$')
        match = re.search(pattern, out, flags=re.MULTILINE)
        assert match, f'no row for {mode} in:\n{out}'
        unimedi_sps, baseline_sps, speed = (float(match.group(i)) for i in (1, 2, 3))
        assert unimedi_sps > 0 and baseline_sps > 0
        assert speed == pytest.approx(unimedi_sps / baseline_sps, rel=0.02, abs=2e-3)
        assert float(match.group(4)) >= 0 and float(match.group(5)) >= 0
    for row in rows:
        for kind in ('unimedi', 'baseline'):
            assert math.isfinite(row[kind]['loss'])
            assert row[kind]['samples_per_s'] > 0
    assert 'ratios are UniMedI / baseline' in out


def test_benchmark_rejects_sizes_not_divisible_by_the_patches(bench_tool):
    with pytest.raises(SystemExit):
        bench_tool.parse_args(['--size-3d', '6', '32', '32'])
    with pytest.raises(SystemExit):
        bench_tool.parse_args(['--size-2d', '30'])
