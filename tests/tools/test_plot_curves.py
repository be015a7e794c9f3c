"""tools/analysis/plot_curves.py on synthetic work dirs."""
import json

import pytest
from PIL import Image

from repo_scripts import load_script


def _write(work_dir, rows, timestamp='20260101_000000'):
    run = work_dir / timestamp / 'vis_data'
    run.mkdir(parents=True)
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows))
    return work_dir


def _with_monitors(tmp_path):
    rows = [{'monitor/student_2d_probe_auc': 0.5, 'monitor/teacher_2d_probe_auc': 0.52,
             'monitor/student_3d_rank': 4.0, 'monitor/center_norm': 0.0, 'iter': 0, 'step': 0}]
    for i in range(1, 11):
        rows.append(dict(iter=i, step=i, lr=0.01, base_lr=0.01, loss=3.0 - 0.1 * i,
                         loss_vl=2.0 - 0.1 * i, i2t_acc=0.1 * i, sel_prec=0.5, sel_chance=0.2))
    rows.append({'monitor/student_2d_probe_auc': 0.7, 'monitor/teacher_2d_probe_auc': 0.72,
                 'monitor/student_3d_rank': 6.0, 'monitor/center_norm': 1.0,
                 'iter': 10, 'step': 10})
    rows.append({'zero_shot/auc': 0.6, 'step': 10})
    return _write(tmp_path / 'run_a', rows)


def _without_monitors(tmp_path):
    rows = [dict(iter=i, step=i, lr=0.02, loss=2.0, loss_vl=1.5, loss_koleo=0.3)
            for i in range(1, 6)]
    return _write(tmp_path / 'run_b', rows)


def test_panels_of_two_runs(tmp_path):
    tool = load_script('tools/analysis/plot_curves.py')
    runs = [tool.load_rows(str(_with_monitors(tmp_path))),
            tool.load_rows(str(_without_monitors(tmp_path)))]
    panels = tool.plan_panels(runs)
    assert [p['id'] for p in panels] == [
        'loss', 'loss_vl', 'loss_koleo', 'i2t_acc', 'sel_prec', 'lr',
        'monitor/probe_auc', 'monitor/rank', 'monitor/center_norm']
    sel = panels[4]['lines']
    assert [k for k, _, _ in sel] == ['sel_prec', 'sel_chance']
    assert sel[1][2]['linestyle'] == '--'
    auc = panels[6]['lines']
    assert [label for _, label, _ in auc] == ['student 2d', 'teacher 2d']
    only = tool.plan_panels(runs, ['probe_auc', 'zero_shot/auc', 'loss_vl'])
    assert [p['id'] for p in only] == ['monitor/probe_auc', 'zero_shot/auc', 'loss_vl']


def test_main_writes_a_png_of_the_expected_size(tmp_path, capsys):
    tool = load_script('tools/analysis/plot_curves.py')
    out = tmp_path / 'curves.png'
    assert tool.main([str(_with_monitors(tmp_path)), str(_without_monitors(tmp_path)),
                      '--out', str(out), '--smooth', '3']) == 0
    with Image.open(out) as image:
        image.load()
        assert image.size == tool.expected_size(9) == (1200, 900)
    assert '9 panels' in capsys.readouterr().out
    out2 = tmp_path / 'two.png'
    tool.main([str(tmp_path / 'run_b'), '--out', str(out2), '--keys', 'loss', 'lr',
               '--labels', 'B'])
    with Image.open(out2) as image:
        assert image.size == tool.expected_size(2) == (1200, 300)


def test_errors_name_the_work_dir_and_the_keys(tmp_path):
    tool = load_script('tools/analysis/plot_curves.py')
    good = _without_monitors(tmp_path)
    with pytest.raises(SystemExit, match='no_such_run'):
        tool.main([str(good), str(tmp_path / 'no_such_run'), '--out', str(tmp_path / 'x.png')])
    odd = _write(tmp_path / 'odd', [dict(iter=1, step=1, grad_norm=0.5)])
    with pytest.raises(SystemExit, match='keys found: grad_norm'):
        tool.main([str(odd), '--out', str(tmp_path / 'x.png')])
    with pytest.raises(SystemExit, match='--keys nope'):
        tool.main([str(good), '--out', str(tmp_path / 'x.png'), '--keys', 'nope'])
    assert not (tmp_path / 'x.png').exists()


@pytest.mark.slow  # trains the tiny model for 2 iterations (shared fixture in tests/conftest.py)
def test_curves_of_a_real_two_iteration_run(two_iteration_run, tmp_path):
    tool = load_script('tools/analysis/plot_curves.py')
    out = tmp_path / 'curves.png'
    tool.main([two_iteration_run['work_dir'], '--out', str(out)])
    panels = tool.plan_panels([tool.load_rows(two_iteration_run['work_dir'])])
    titles = [p['title'] for p in panels]
    assert 'loss_vl' in titles and 'i2t_acc' in titles and len(panels) >= 6
    assert Image.open(out).size == tool.expected_size(len(panels))
