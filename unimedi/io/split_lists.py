"""Split lists: the text files that name the samples of a split, one a line, optionally
with the integer label that stratifies label fractions (``<stem>`` or ``<stem>\\t<label>``)."""
from __future__ import annotations

import os
import os.path as osp
from typing import Iterable


def read_split_list(path: str) -> list[tuple[str, int | None]]:
    """Read a split list: one sample a line, ``<stem>`` or ``<stem>\\t<label>``.

    ``stem`` is the image path relative to the image folder without its suffix; ``label``
    an integer used to stratify label fractions (e.g. 1 when the mask has foreground).
    Blank lines and lines starting with ``#`` are skipped.

    Raises:
        FileNotFoundError: ``path`` is missing.
        ValueError: a label is not an integer, or a stem repeats (names file and line).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: split list not found')
    entries: list[tuple[str, int | None]] = []
    seen: dict[str, int] = {}
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip('\r\n')
            if not line.strip() or line.startswith('#'):
                continue
            stem, _, label_text = line.partition('\t')
            stem = stem.strip()
            label = None
            if label_text.strip():
                try:
                    label = int(label_text.strip())
                except ValueError as exc:
                    raise ValueError(f'{path}:{number}: the label after the tab must be an '
                                     f'integer, got {label_text.strip()!r}') from exc
            if stem in seen:
                raise ValueError(f'{path}:{number}: {stem!r} is listed twice (first on line '
                                 f'{seen[stem]})')
            seen[stem] = number
            entries.append((stem, label))
    if not entries:
        raise ValueError(f'{path}: the split list is empty')
    return entries


def write_split_list(path: str, entries: Iterable[tuple[str, int | None]]) -> int:
    """Write ``<stem>\\t<label>`` lines (see :func:`read_split_list`); return the count."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    count = 0
    with open(path, 'w', encoding='utf-8') as f:
        for stem, label in entries:
            f.write(stem if label is None else f'{stem}\t{int(label)}')
            f.write('\n')
            count += 1
    return count
