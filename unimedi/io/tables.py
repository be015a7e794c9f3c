"""CSV / TSV tables, optionally gzipped: find one, read its header, iterate its rows with
line numbers, check the columns (errors name the file), write one."""
from __future__ import annotations

import csv
import os
import os.path as osp
from typing import Iterable, Iterator, Mapping, Sequence

from .paths import resolve_path
from .text_files import open_text


def find_table(root: str, stem: str, path: str | None = None) -> str:
    """Locate a CSV table given explicitly or as ``{stem}.csv.gz`` / ``{stem}.csv`` in ``root``.

    Args:
        root: the dataset root.
        stem: the file name without ``.csv`` / ``.csv.gz``.
        path: an explicit file (absolute or relative to ``root``); wins when given.

    Raises:
        FileNotFoundError: naming the file(s) looked for.
    """
    if path is not None:
        full = resolve_path(root, path)
        if not osp.isfile(full):
            raise FileNotFoundError(f'{full}: file not found')
        return full
    candidates = [osp.join(root, f'{stem}.csv.gz'), osp.join(root, f'{stem}.csv')]
    for candidate in candidates:
        if osp.isfile(candidate):
            return candidate
    raise FileNotFoundError(f'{candidates[0]} (or {osp.basename(candidates[1])}): file not found')


def _delimiter(path: str) -> str:
    return '\t' if path.endswith(('.tsv', '.tsv.gz')) else ','


def table_header(path: str, delimiter: str | None = None) -> list[str]:
    """The column names of a CSV/TSV (optionally gzipped) table; ``[]`` when empty.

    Raises:
        ValueError: the file is not valid UTF-8 (names the file, the line and the byte).
    """
    with open_text(path, newline='') as f:
        return next(csv.reader(f, delimiter=delimiter or _delimiter(path)), [])


def read_table(path: str, required: Sequence[str], delimiter: str | None = None
               ) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, row)`` from a CSV/TSV (optionally gzipped) with a header row.

    Args:
        path: the table; ``.tsv`` (or ``.tsv.gz``) is tab separated, anything else comma.
        required: columns that must be in the header.
        delimiter: override the delimiter guessed from the name.

    Raises:
        ValueError: the header lacks a required column (names the file, the missing
            columns and the columns found), or the file is not valid UTF-8 (names the file,
            the line and the byte).
    """
    with open_text(path, newline='') as f:
        reader = csv.DictReader(f, delimiter=delimiter or _delimiter(path))
        header = reader.fieldnames or []
        check_columns(path, header, required)
        for number, row in enumerate(reader, start=2):
            yield number, row


def check_columns(path: str, header: Iterable[str], required: Iterable[str]) -> None:
    """Raise ``ValueError`` naming ``path`` when ``header`` lacks one of ``required``."""
    header = list(header)
    missing = [c for c in required if c not in header]
    if missing:
        raise ValueError(f'{path}: missing column(s) {missing}; columns are {header}')


def write_csv(path: str, fieldnames: Sequence[str], rows: Iterable[Mapping]) -> int:
    """Write rows under a header (parent folder created); return the number written."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    count = 0
    with open(path, 'w', encoding='utf-8', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(fieldnames), lineterminator='\n',
                                extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
