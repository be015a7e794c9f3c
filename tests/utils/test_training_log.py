"""unimedi.utils.training_log: rows of the latest run, series, moving average."""
import json

import numpy as np
import pytest

from unimedi.utils.training_log import load_rows, moving_average, series


def _write(work_dir, timestamp, rows):
    run = work_dir / timestamp / 'vis_data'
    run.mkdir(parents=True)
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows) + '\n\n')


def test_load_rows_parses_every_line_of_the_latest_run(tmp_path):
    old = [dict(iter=1, loss=9.0)]
    new = [dict(iter=10, step=10, loss=2.5, lr=0.1), {'monitor/student_2d_rank': 3.0, 'step': 0}]
    _write(tmp_path, '20260101_000000', old)
    _write(tmp_path, '20260102_000000', new)
    assert load_rows(str(tmp_path)) == new


def test_load_rows_names_the_work_dir_without_scalars(tmp_path):
    with pytest.raises(SystemExit, match='empty_dir.*scalars.json'):
        load_rows(str(tmp_path / 'empty_dir'))


def test_series_takes_rows_with_the_key_iter_else_step():
    rows = [dict(iter=10, step=10, loss=2.0), dict(iter=20, lr=0.1),
            {'monitor/x': 0.5, 'step': 0}, dict(iter=30, loss=1.0), dict(loss=7.0),
            dict(iter=40, loss='n/a')]
    steps, values = series(rows, 'loss')
    assert steps.dtype == float and steps.tolist() == [10.0, 30.0]
    assert values.tolist() == [2.0, 1.0]
    steps, values = series(rows, 'monitor/x')
    assert steps.tolist() == [0.0] and values.tolist() == [0.5]
    steps, values = series(rows, 'absent')
    assert steps.shape == (0,) and values.shape == (0,)


def test_moving_average_is_trailing():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(moving_average(values, 3), [1.0, 1.5, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(moving_average(values, 1), values)
    np.testing.assert_allclose(moving_average(values, 10), [1.0, 1.5, 2.0, 2.5, 3.0])
    assert moving_average(np.array([]), 3).shape == (0,)
