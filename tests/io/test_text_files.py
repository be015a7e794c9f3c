"""``open_text``: UTF-8 text files whose decoding errors name the file, line and column."""
from __future__ import annotations

import gzip

import pytest

from unimedi.io.text_files import invalid_utf8_message, open_text


class _CustomError(ValueError):
    pass


@pytest.mark.parametrize('suffix', ['.txt', '.txt.gz'])
def test_invalid_byte_names_file_line_and_column(tmp_path, suffix):
    data = b'first\nsecond\nthird \xc3\xa9t\xff here\n'  # column counts the 2-byte e-acute once
    path = tmp_path / f'notes{suffix}'
    path.write_bytes(gzip.compress(data) if suffix.endswith('.gz') else data)
    with pytest.raises(ValueError) as info:
        with open_text(str(path)) as f:
            list(f)
    assert str(info.value).startswith(
        f'{path}, line 3: not valid UTF-8 (byte 0xff at column 9)')
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_error_type_and_lone_carriage_returns_count_as_lines(tmp_path):
    path = tmp_path / 'old_mac.csv'
    path.write_bytes(b'a,b\r1,2\r\n3,\xe9\n')  # Latin-1 e-acute on the third line
    with pytest.raises(_CustomError, match=r'old_mac\.csv, line 3: not valid UTF-8 '
                                           r'\(byte 0xe9 at column 3\)'):
        with open_text(str(path), newline='', error=_CustomError) as f:
            f.read()


def test_truncated_sequence_at_end_of_file(tmp_path):
    path = tmp_path / 'cut.txt'
    path.write_bytes(b'ok\nab\xe2\x82')
    assert invalid_utf8_message(str(path)).startswith(
        f'{path}, line 2: not valid UTF-8 (byte 0xe2 at column 3)')


def test_valid_file_reads_and_other_decode_errors_pass_through(tmp_path):
    path = tmp_path / 'fine.txt'
    path.write_text('caf\u00e9\nline two\n', encoding='utf-8')
    with open_text(str(path)) as f:
        assert f.read().splitlines() == ['caf\u00e9', 'line two']
    assert invalid_utf8_message(str(path)) is None
    # a decoding error that is not this file's is not blamed on it
    with pytest.raises(UnicodeDecodeError):
        with open_text(str(path)):
            b'\xff'.decode('utf-8')
