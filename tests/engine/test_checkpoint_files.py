"""Atomic writes, truncated-file detection and the newest complete checkpoint."""
from __future__ import annotations

import pytest
import torch

from unimedi.engine.checkpoint_files import (PARTIAL_SUFFIX, atomic_write, is_complete_checkpoint,
                                             latest_complete_checkpoint, numbered_checkpoints,
                                             write_text_atomically)


def _save(path, value=1.0):
    torch.save(dict(state_dict=dict(w=torch.full((64,), value))), path)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def test_atomic_write_replaces_the_file_only_when_complete(tmp_path):
    target = tmp_path / 'iter_1.pth'
    _save(target, 1.0)
    with pytest.raises(OSError, match='disk full'):
        with atomic_write(str(target)) as tmp:
            (tmp_path / 'iter_1.pth.partial').write_bytes(b'half a file')
            raise OSError(28, 'disk full')
    # the old file is untouched and no partial file is left
    assert torch.load(target, weights_only=True)['state_dict']['w'][0] == 1.0
    assert not (tmp_path / f'iter_1.pth{PARTIAL_SUFFIX}').exists()
    with atomic_write(str(target)) as tmp:
        _save(tmp, 2.0)
        assert torch.load(target, weights_only=True)['state_dict']['w'][0] == 1.0
    assert torch.load(target, weights_only=True)['state_dict']['w'][0] == 2.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_1.pth']


def test_write_text_atomically(tmp_path):
    marker = tmp_path / 'last_checkpoint'
    write_text_atomically(str(marker), 'a')
    write_text_atomically(str(marker), 'b/iter_2.pth')
    assert marker.read_text() == 'b/iter_2.pth'


def test_complete_and_truncated_files(tmp_path):
    good, cut, empty = tmp_path / 'good.pth', tmp_path / 'cut.pth', tmp_path / 'empty.pth'
    _save(good)
    _save(cut)
    _truncate(cut)
    empty.write_bytes(b'')
    assert is_complete_checkpoint(str(good))
    assert not is_complete_checkpoint(str(cut))
    assert not is_complete_checkpoint(str(empty))
    assert not is_complete_checkpoint(str(tmp_path / 'missing.pth'))


def test_numbered_checkpoints_newest_first(tmp_path):
    for name in ('iter_2.pth', 'iter_10.pth', 'iter_9.pth', 'best_auc_iter_9.pth', 'x.pth'):
        _save(tmp_path / name)
    assert [p.split('/')[-1] for p in numbered_checkpoints(str(tmp_path))] == [
        'iter_10.pth', 'iter_9.pth', 'iter_2.pth']


def test_latest_complete_prefers_last_checkpoint(tmp_path):
    for step in (1, 2, 3):
        _save(tmp_path / f'iter_{step}.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert latest_complete_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')


def test_latest_complete_skips_truncated_and_missing_files_with_warnings(tmp_path, monkeypatch):
    import unimedi.engine.checkpoint_files as checkpoint_files
    warnings = []
    monkeypatch.setattr(checkpoint_files, 'print_log',
                        lambda message, logger=None, level=None: warnings.append((level, message)))
    _save(tmp_path / 'iter_1.pth')
    _save(tmp_path / 'iter_3.pth')
    _truncate(tmp_path / 'iter_3.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))  # deleted
    found = latest_complete_checkpoint(str(tmp_path))
    assert found == str(tmp_path / 'iter_1.pth')
    assert [level for level, _ in warnings] == [30, 30]  # logging.WARNING
    assert 'iter_4.pth: it is missing' in warnings[0][1]
    assert 'iter_3.pth: it is truncated or corrupt' in warnings[1][1]


def test_latest_complete_none_when_nothing_is_whole(tmp_path):
    assert latest_complete_checkpoint(str(tmp_path)) is None
    (tmp_path / 'iter_1.pth').write_bytes(b'')
    assert latest_complete_checkpoint(str(tmp_path)) is None
