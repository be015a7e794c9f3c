"""Checkpoint files that survive a crash: atomic writes and the newest complete file.

- :func:`atomic_write` writes next to the target under a ``.partial`` name, flushes it to
  disk (``fsync``) and renames it over the target in one step, so a reader, ``--resume``
  included, sees either the old complete file or the new complete file, never half of one.
  A failed write (a full disk, a size limit) leaves no partial file behind; a process
  killed mid-write leaves one ``.partial`` file, which no one reads and the next save of
  the same name replaces.
- :func:`is_complete_checkpoint` tells a whole torch file from a truncated one without
  unpickling it (the zip archive torch writes ends with its central directory).
- :func:`latest_complete_checkpoint` is what ``--resume`` resumes from: the file that the
  work dir's ``last_checkpoint`` names if it is complete, else the newest complete
  ``iter_*.pth`` / ``epoch_*.pth``, with a warning naming every file it passes over.
"""
from __future__ import annotations

import contextlib
import glob
import os
import os.path as osp
import re
import zipfile
from typing import Callable, Iterator

from mmengine.logging import print_log

PARTIAL_SUFFIX = '.partial'
_NUMBERED = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def fsync_directory(folder: str) -> None:
    """Flush a folder's entries (a rename) to disk; a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str) -> Iterator[str]:
    """Yield a temporary path to write ``path`` to; on success it replaces ``path`` at once.

    Example:
        >>> with atomic_write('work/iter_10.pth') as tmp:
        ...     torch.save(checkpoint, tmp)
    """
    tmp = path + PARTIAL_SUFFIX
    try:
        yield tmp
        with open(tmp, 'rb') as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_directory(osp.dirname(osp.abspath(path)))


def write_text_atomically(path: str, text: str) -> None:
    """Replace a small text file (``last_checkpoint``) in one step."""
    with atomic_write(path) as tmp, open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole torch (zip) file: present, non-empty and ending with the
    archive's directory. Nothing is unpickled."""
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def numbered_checkpoints(work_dir: str) -> list[str]:
    """The work dir's ``iter_N.pth`` / ``epoch_N.pth``, newest (largest N) first."""
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = _NUMBERED.match(osp.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found, reverse=True)]


def _last_checkpoint_entry(work_dir: str) -> str | None:
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker, encoding='utf-8') as f:
        return f.read().strip() or None


def latest_complete_checkpoint(work_dir: str,
                               is_complete: Callable[[str], bool] = is_complete_checkpoint,
                               logger: str = 'current') -> str | None:
    """The checkpoint to resume from: ``last_checkpoint``'s file if complete, else the
    newest complete numbered checkpoint; ``None`` if there is none.

    Each file passed over (missing or truncated) is named in a warning.
    """
    named = _last_checkpoint_entry(work_dir)
    candidates = ([named] if named else []) + [
        path for path in numbered_checkpoints(work_dir)
        if not named or osp.abspath(path) != osp.abspath(named)]
    for path in candidates:
        if is_complete(path):
            return path
        problem = 'is missing' if not osp.exists(path) else 'is truncated or corrupt'
        print_log(f'resume: skipping {path}: it {problem}; trying an older checkpoint',
                  logger=logger, level=30)
    return None
