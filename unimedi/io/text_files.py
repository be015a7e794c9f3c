"""UTF-8 text files (optionally gzipped) whose decoding errors name the file, the line and
the column, instead of surfacing as a bare ``UnicodeDecodeError`` with a buffer offset.

Every reader of text tables (manifests, CSV tables, report lists) opens its file with
:func:`open_text`.
"""
from __future__ import annotations

import gzip
import re
from contextlib import contextmanager
from typing import Iterator, TextIO

# A carriage return not followed by a line feed ends a line in text mode too (old Mac files):
# split there so that line numbers agree with those the readers report.
_LONE_CR = re.compile(rb'(?<=\r)(?!\n)')


def _open(path: str, mode: str, **kwargs):
    opener = gzip.open if path.endswith('.gz') else open
    return opener(path, mode, **kwargs)


@contextmanager
def open_text(path: str, newline: str | None = None,
              error: type[Exception] = ValueError) -> Iterator[TextIO]:
    """Open ``path`` as UTF-8 text (gzipped when it ends with ``.gz``).

    Args:
        path: the file.
        newline: as :func:`open` (``''`` for the ``csv`` module).
        error: the exception type raised for invalid UTF-8 (e.g. a module's own error).

    Yields:
        the text file object.

    Raises:
        ``error``: the file is not valid UTF-8; the message names the file, the line, the
            byte and its column (see :func:`invalid_utf8_message`).
    """
    with _open(path, 'rt', encoding='utf-8', newline=newline) as f:
        try:
            yield f
        except UnicodeDecodeError as exc:
            message = invalid_utf8_message(path)
            if message is None:  # the error came from elsewhere, not from this file
                raise
            raise error(message) from exc


def invalid_utf8_message(path: str) -> str | None:
    """Where ``path`` first stops being valid UTF-8, or ``None`` when it is valid.

    Returns:
        e.g. ``"<path>, line 7: not valid UTF-8 (byte 0xff at column 12); ..."``: lines
        and columns count from 1, columns in characters.
    """
    number = 0
    with _open(path, 'rb') as f:
        for raw in f:
            for line in _LONE_CR.split(raw):
                if not line:
                    continue
                number += 1
                try:
                    line.decode('utf-8')
                except UnicodeDecodeError as exc:
                    column = len(line[:exc.start].decode('utf-8')) + 1
                    return (f'{path}, line {number}: not valid UTF-8 (byte '
                            f'0x{line[exc.start]:02x} at column {column}); re-encode the file as '
                            'UTF-8 (a Latin-1 or Windows-1252 export is not)')
    return None
