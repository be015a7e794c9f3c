"""tools/analysis/label_efficiency.py: config discovery and the table from metrics files."""
import json
from pathlib import Path

import pytest

from repo_scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_finds_the_repository_configs_of_a_protocol():
    tool = load_script('tools/analysis/label_efficiency.py')
    found = tool.find_configs(str(REPO_ROOT / 'configs' / 'classification' / 'phantom2d'),
                              'linear')
    assert {(init, pct) for init, pct, _ in found} == {
        (init, pct) for init in ('unimedi', 'random') for pct in (1, 10, 100)}
    assert all('_linear_' in path for _, _, path in found)


def test_table_from_existing_metrics(tmp_path, capsys):
    tool = load_script('tools/analysis/label_efficiency.py')
    configs = tmp_path / 'configs'
    configs.mkdir()
    values = {('unimedi', 10): [0.8, 0.7], ('random', 10): [0.6, 0.5],
              ('unimedi', 100): [0.9, 0.9]}
    work = tmp_path / 'work'
    for (init, pct), per_seed in values.items():
        name = f'vit_tiny_{init}_linear_toy_{pct}pct'
        (configs / f'{name}.py').write_text('')
        for seed, value in enumerate(per_seed):
            run_dir = work / f'{name}_seed{seed}'
            run_dir.mkdir(parents=True)
            (run_dir / 'metrics.json').write_text(json.dumps({'cls/auc': value}))
    tool.main([str(configs), '--seeds', '0', '1', '--work-dir', str(work)])
    out = capsys.readouterr().out
    assert '0.750 +- 0.050' in out and '0.550 +- 0.050' in out and '+0.200' in out
    saved = json.loads((work / 'label_efficiency.json').read_text())
    assert saved['table']['10']['unimedi'] == [0.8, 0.7]
    assert saved['table']['100'] == {'unimedi': [0.9, 0.9]}


def test_missing_metric_and_empty_folder_fail_clearly(tmp_path):
    tool = load_script('tools/analysis/label_efficiency.py')
    with pytest.raises(SystemExit, match='no \\*_'):
        tool.find_configs(str(tmp_path), 'linear')
    (tmp_path / 'vit_tiny_unimedi_linear_toy_1pct.py').write_text('')
    run_dir = tmp_path / 'work' / 'vit_tiny_unimedi_linear_toy_1pct_seed0'
    run_dir.mkdir(parents=True)
    (run_dir / 'metrics.json').write_text(json.dumps({'cls/acc': 0.5}))
    with pytest.raises(SystemExit, match="no 'cls/auc'"):
        tool.main([str(tmp_path), '--work-dir', str(tmp_path / 'work')])
