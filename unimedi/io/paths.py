"""The one path rule of unimedi's datasets and converters, and the file checks that name
what is missing."""
from __future__ import annotations

import os.path as osp


def resolve_path(data_root: str | None, path: str) -> str:
    """``path`` itself when absolute (or without ``data_root``), else under ``data_root``."""
    return path if osp.isabs(path) or not data_root else osp.join(data_root, path)


def require_file(path: str, where: str) -> None:
    """Raise ``FileNotFoundError`` naming ``where`` (file:line) when ``path`` is missing."""
    if not osp.exists(path):
        raise FileNotFoundError(f'{where}: image file not found: {path}')


def require_annotation(path: str) -> None:
    """Raise ``FileNotFoundError`` when the annotation file ``path`` is missing."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: annotation file not found')
