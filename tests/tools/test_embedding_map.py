"""tools/analysis/embedding_map.py on tiny phantoms: from a 2-iteration checkpoint and from
random init; the PNG decodes at the announced size, the JSON holds every model's scores."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from repo_scripts import load_script

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out

SCORES = ('finding_silhouette', 'mixing_2d_vs_3d', 'mixing_images_vs_reports', 'pair_alignment')


@pytest.mark.parametrize('source', ['checkpoint', 'random'])
def test_map_and_scores(two_iteration_run, source, capsys):
    tool = load_script('tools/analysis/embedding_map.py')
    out = two_iteration_run['root'] / f'map_{source}.png'
    checkpoint = [two_iteration_run['checkpoint']] if source == 'checkpoint' else []
    result = tool.main([two_iteration_run['config'], *checkpoint, '--out', str(out),
                        '--data-root', two_iteration_run['phantoms'], '--perplexity', '5',
                        *(['--split', 'train'] if checkpoint else [])])
    printed = capsys.readouterr().out
    rows = 2 if checkpoint else 1
    assert Image.open(out).size == tool.figure_pixels(rows)
    saved = json.loads(out.with_suffix('.json').read_text())
    assert saved == json.loads(json.dumps(result))
    names = list(saved['models'])
    assert names == (['pre-trained'] if checkpoint else []) + ['random init (seed 0)']
    for name in names:
        assert all(key in saved['models'][name] for key in SCORES)
        assert saved['models'][name]['pair_alignment'] is not None
        assert f'{name}: finding silhouette' in printed
    assert 'mixing 2D-vs-3D' in printed and 'pair alignment' in printed
    assert saved['samples']['2d'] > 0 and saved['samples']['3d'] > 0
    if checkpoint:
        # different weights, different scores
        assert saved['models']['pre-trained'] != saved['models']['random init (seed 0)']


def test_umap_without_package_exits(two_iteration_run, tmp_path):
    pytest.importorskip('sklearn')
    try:
        import umap  # noqa: F401
        pytest.skip('umap is installed')
    except ImportError:
        pass
    tool = load_script('tools/analysis/embedding_map.py')
    with pytest.raises(SystemExit, match='umap'):
        tool.main([two_iteration_run['config'], '--out', str(tmp_path / 'm.png'),
                   '--method', 'umap'])
