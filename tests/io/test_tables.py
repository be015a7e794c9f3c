"""CSV / TSV tables: header, rows with line numbers, and errors that name the file."""
from __future__ import annotations

import gzip

import pytest

from unimedi.io.tables import read_table, table_header


def test_rows_with_line_numbers_and_missing_column(tmp_path):
    path = tmp_path / 't.tsv'
    path.write_text('a\tb\n1\t2\n3\t4\n')
    assert table_header(str(path)) == ['a', 'b']
    assert list(read_table(str(path), ['a'])) == [(2, {'a': '1', 'b': '2'}),
                                                  (3, {'a': '3', 'b': '4'})]
    with pytest.raises(ValueError, match=r"t\.tsv: missing column\(s\) \['c'\]"):
        list(read_table(str(path), ['c']))


@pytest.mark.parametrize('suffix', ['.csv', '.csv.gz'])
def test_invalid_utf8_names_file_line_and_byte(tmp_path, suffix):
    data = 'id,finding\n1,clear\n2,'.encode() + 'épanchement'.encode('latin-1') + b'\n'
    path = tmp_path / f'labels{suffix}'
    path.write_bytes(gzip.compress(data) if suffix.endswith('.gz') else data)
    message = r'labels\.csv(\.gz)?, line 3: not valid UTF-8 \(byte 0xe9 at column 3\)'
    with pytest.raises(ValueError, match=message):
        list(read_table(str(path), ['id']))
    # the header read decodes the same buffer: it names the bad line too
    with pytest.raises(ValueError, match=message):
        table_header(str(path))
