"""tools/analysis/visualize_selection.py from a 2-iteration checkpoint and from random init:
the figures decode at their sizes, the index holds the ranked cases, the summary agrees
with tools/analysis/selection_precision.py."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from unimedi.visualization.selection_figures import CT_SIZE, DPI, RADIOGRAPH_SIZE
from repo_scripts import load_script

pytestmark = pytest.mark.slow  # pytest -m "not slow" leaves these out


def _pixels(size):
    return round(size[0] * DPI), round(size[1] * DPI)


@pytest.mark.parametrize('source', ['checkpoint', 'random'])
def test_figures_and_summary(two_iteration_run, source, capsys):
    tool = load_script('tools/analysis/visualize_selection.py')
    out = two_iteration_run['root'] / f'figures_{source}'
    checkpoint = [two_iteration_run['checkpoint']] if source == 'checkpoint' else []
    result = tool.main([two_iteration_run['config'], *checkpoint,
                        '--data-root', two_iteration_run['phantoms'],
                        '--out', str(out), '--max-cases', '1'])
    printed = capsys.readouterr().out
    assert Image.open(out / 'index.png').size[0] > 0
    cts, xrays = sorted((out / 'ct').glob('*.png')), sorted((out / 'xray').glob('*.png'))
    assert cts and xrays
    assert all(Image.open(p).size == _pixels(CT_SIZE) for p in cts)
    assert all(Image.open(p).size == _pixels(RADIOGRAPH_SIZE) for p in xrays)
    saved = json.loads((out / 'summary.json').read_text())
    assert saved == json.loads(json.dumps(result))
    ct = saved['modalities']['3d']
    scored = [c for c in ct['cases'].values() if c['precision'] is not None]
    assert len(scored) == ct['with_lesion'] > 0
    assert ct['precision'] == pytest.approx(sum(c['precision'] for c in scored) / len(scored))
    assert '3d selection precision' in printed and 'index.png' in printed
    if source == 'random':
        assert saved['source'] == 'random init (seed 0)'


def test_summary_matches_selection_precision_tool(two_iteration_run):
    """Per-CT precision here and the batch tool's mean agree (same teacher, same selector)."""
    from mmengine.registry import init_default_scope

    from unimedi.apis import init_model
    from unimedi.registry import DATASETS

    precision_tool = load_script('tools/analysis/selection_precision.py')
    tool = load_script('tools/analysis/visualize_selection.py')
    model = init_model(two_iteration_run['config'], two_iteration_run['checkpoint'])
    init_default_scope('unimedi')
    dataset_cfg = model.cfg.test_dataloader.dataset.copy()
    dataset_cfg.update(split='test', data_root=two_iteration_run['phantoms'])
    dataset = DATASETS.build(dataset_cfg)
    expected = precision_tool.selection_precision(model, dataset, batch_size=8)
    cases = [c for c in tool.explain_split(model, dataset, batch_size=8)
             if c['modality'] == '3d' and c['precision'] is not None]
    assert len(cases) == expected['samples']
    assert sum(c['precision'] for c in cases) / len(cases) == pytest.approx(expected['sel_prec'])
    ranked = tool.ranked_cases(cases)
    assert [c['label'].split()[0] for c in ranked][0] == 'best'
    assert ranked[0]['precision'] == max(c['precision'] for c in cases)
    assert ranked[-1]['precision'] == min(c['precision'] for c in cases)


def test_errors(two_iteration_run, tmp_path):
    tool = load_script('tools/analysis/visualize_selection.py')
    with pytest.raises(SystemExit, match='max-cases'):
        tool.main([two_iteration_run['config'], '--out', str(tmp_path), '--max-cases', '-1'])


def test_docs_figures_copy_the_ranked_cases(two_iteration_run, tmp_path):
    from PIL import Image as PILImage

    figures = tmp_path / 'work' / 'figures'
    selection = load_script('tools/analysis/visualize_selection.py')
    run = two_iteration_run
    selection.main([run['config'], run['checkpoint'], '--data-root', run['phantoms'],
                    '--out', str(figures / 'selection'), '--max-cases', '0'])
    for name in ('embedding_map.png', 'curves.png'):
        PILImage.new('RGB', (64, 48), 'white').save(figures / name)
    docs = load_script('tools/misc/update_docs_figures.py')
    written = docs.main([str(tmp_path / 'work'), '--docs', str(tmp_path / 'docs')])
    assert sorted(written) == ['curves.png', 'embedding_map.png', 'selection_ct.png',
                               'selection_index.png', 'selection_xray.png']
    source = PILImage.open(figures / 'selection' / 'index.png')
    copied = PILImage.open(written['selection_index.png'])
    assert copied.size == source.size and copied.mode == 'P'
    with pytest.raises(SystemExit, match='summary.json not found'):
        docs.main([str(tmp_path / 'missing')])
