"""tools/analysis/plot_label_efficiency.py: both figures from feature_probe JSON files."""
import json

import pytest

from repo_scripts import load_script


def _probe(path, sources):
    results = {m: {name: {'10': {'macro': values}, '100': {'macro': [values[0] + 0.05]},
                          'rank': 3.0}
                   for name, values in sources.items()} for m in ('2d', '3d')}
    path.write_text(json.dumps(dict(results=results)))
    return str(path)


def test_efficiency_figure(tmp_path):
    tool = load_script('tools/analysis/plot_label_efficiency.py')
    first = _probe(tmp_path / 'a.json', {'pretrained': [0.7, 0.72], 'random init': [0.6, 0.6]})
    second = _probe(tmp_path / 'b.json', {'raw pixels': [0.62, 0.64]})
    merged = tool.merge([first, second])
    assert set(merged['2d']) == {'pretrained', 'random init', 'raw pixels'}
    out = tmp_path / 'eff.png'
    tool.main(['efficiency', first, second, '--reference', 'supervised=2d:0.67,3d:0.6',
               '--out', str(out)])
    assert out.stat().st_size > 1000
    assert tool.parse_reference('a=b=2d:0.5') == ('a=b', {'2d': 0.5})
    with pytest.raises(SystemExit, match='expected'):
        tool.parse_reference('novalue')


def test_scaling_lifts_and_figure(tmp_path, capsys):
    tool = load_script('tools/analysis/plot_label_efficiency.py')
    baseline = _probe(tmp_path / 'r.json', {'random init': [0.5, 0.6]})  # mean 0.55
    early = _probe(tmp_path / 'e.json', {'pretrained': [0.6, 0.6]})
    late = _probe(tmp_path / 'l.json', {'pretrained': [0.7, 0.8]})
    lifts = tool.scaling_points([f'32000={late}', f'8000={early}'], tool.load(baseline),
                                'pretrained', '10')
    assert [row[0] for row in lifts['2d']] == [8000.0, 32000.0]
    assert lifts['3d'][0][1] == pytest.approx(0.05) and lifts['3d'][1][1] == pytest.approx(0.2)
    assert lifts['2d'][1][2] == pytest.approx(0.05)  # std over the seeds
    out = tmp_path / 'scaling.png'
    tool.main(['scaling', f'8000={early}', f'32000={late}', '--baseline', baseline,
               '--out', str(out)])
    assert out.stat().st_size > 1000 and '+0.200' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='no source'):
        tool.scaling_points([f'1={baseline}'], tool.load(baseline), 'pretrained', '10')
