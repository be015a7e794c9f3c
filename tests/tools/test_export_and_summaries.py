"""tools/misc/export_encoder.py and tools/analysis/summarize_pretrain_log.py."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

from unimedi.models.encoders import UnifiedViT

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load_tool(relative: str):
    spec = importlib.util.spec_from_file_location(Path(relative).stem, REPO_ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('teacher', [False, True])
@pytest.mark.parametrize('suffix', ['.safetensors', '.pth'])
def test_export_encoder_round_trip(tmp_path, monkeypatch, teacher, suffix):
    student, ema = UnifiedViT(arch='tiny'), UnifiedViT(arch='tiny')
    state = {f'vision_encoder.{k}': v for k, v in student.state_dict().items()}
    state.update({f'teacher.encoder.{k}': v for k, v in ema.state_dict().items()})
    state['text_projection.layers.weight'] = torch.zeros(2, 2)
    checkpoint = tmp_path / 'iter_2.pth'
    torch.save(dict(state_dict=state, meta=dict(iter=2)), checkpoint)
    out = tmp_path / f'encoder{suffix}'
    argv = ['export_encoder.py', str(checkpoint), str(out)] + (['--teacher'] if teacher else [])
    monkeypatch.setattr(sys, 'argv', argv)
    assert _load_tool('tools/misc/export_encoder.py').main() == 0
    if suffix == '.safetensors':
        from safetensors.torch import load_file
        exported = load_file(str(out))
    else:
        exported = torch.load(out, weights_only=True)
    fresh = UnifiedViT(arch='tiny')
    fresh.load_state_dict(exported, strict=True)
    source = ema if teacher else student
    for key, value in source.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key


def test_export_encoder_refuses_a_checkpoint_without_the_prefix(tmp_path, capsys):
    checkpoint = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'backbone.weight': torch.zeros(1)}), checkpoint)
    tool = _load_tool('tools/misc/export_encoder.py')
    assert tool.main([str(checkpoint), str(tmp_path / 'e.pth')]) == 2
    assert 'vision_encoder' in capsys.readouterr().err


def test_summarize_pretrain_log_phase_means(tmp_path):
    run = tmp_path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    rows = [dict(iter=10 * (i + 1), loss_vl=float(4 - i), sel_prec=0.1 * i, sel_chance=0.2)
            for i in range(4)]
    rows.insert(2, dict(iter=25, lr=0.1))  # rows without losses (e.g. validation) are ignored
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows))
    tool = _load_tool('tools/analysis/summarize_pretrain_log.py')
    table = tool.summarise(tool.load_scalars(str(tmp_path)), phases=2)
    assert [row['iters'] for row in table] == ['10-20', '30-40']
    assert table[0]['loss_vl'] == pytest.approx(3.5) and table[1]['loss_vl'] == pytest.approx(1.5)
    assert table[1]['sel_prec'] == pytest.approx(0.25)
    assert table[0]['i2t_acc'] is None
    assert 'loss_mim' not in table[0]  # optional losses only when logged
    rows[-1]['loss_mim'] = 0.5
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows))
    table = tool.summarise(tool.load_scalars(str(tmp_path)), phases=2)
    assert table[0]['loss_mim'] is None and table[1]['loss_mim'] == pytest.approx(0.5)
    with pytest.raises(SystemExit, match='scalars.json'):
        tool.load_scalars(str(tmp_path / 'missing'))


def test_summarize_pretrain_log_monitor_table(tmp_path, capsys, monkeypatch):
    run = tmp_path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    rows = [{'monitor/student_2d_probe_auc': 0.55, 'monitor/center_norm': 0.0, 'step': 0},
            dict(iter=10, loss_vl=2.0),
            {'monitor/student_2d_probe_auc': 0.71, 'monitor/center_norm': 1.5, 'step': 10}]
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows))
    tool = _load_tool('tools/analysis/summarize_pretrain_log.py')
    names, table = tool.monitor_table(tool.load_rows(str(tmp_path)))
    assert names == ['student_2d_probe_auc', 'center_norm']
    assert [r['step'] for r in table] == [0, 10]
    assert table[1]['student_2d_probe_auc'] == 0.71
    monkeypatch.setattr(sys, 'argv', ['x', str(tmp_path), '--phases', '1'])
    tool.main()
    out = capsys.readouterr().out
    assert 'quality monitors' in out and '0.710' in out and '1.500' in out
