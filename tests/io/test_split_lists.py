"""Split lists: one sample a line, optionally with its stratification label."""
import pytest

from unimedi.io.split_lists import read_split_list, write_split_list


def test_split_lists_round_trip_and_report_bad_lines(tmp_path):
    path = tmp_path / 'split.txt'
    write_split_list(str(path), [('a/b c', 1), ('d', None)])
    assert read_split_list(str(path)) == [('a/b c', 1), ('d', None)]
    path.write_text('# comment\nx\tyes\n')
    with pytest.raises(ValueError, match=r'split.txt:2: the label after the tab'):
        read_split_list(str(path))
    path.write_text('x\ny\nx\n')
    with pytest.raises(ValueError, match=r"split.txt:3: 'x' is listed twice"):
        read_split_list(str(path))
    path.write_text('\n')
    with pytest.raises(ValueError, match='empty'):
        read_split_list(str(path))
