"""The one path rule of unimedi's datasets and converters."""
from __future__ import annotations

import os.path as osp


def resolve_path(data_root: str | None, path: str) -> str:
    """``path`` itself when absolute (or without ``data_root``), else under ``data_root``."""
    return path if osp.isabs(path) or not data_root else osp.join(data_root, path)
