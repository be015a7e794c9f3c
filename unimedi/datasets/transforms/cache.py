"""``CachedTransforms``: run deterministic transforms once per sample, keep the result on disk
(or in memory)."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import os.path as osp
import uuid
import zipfile
from collections import OrderedDict

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose
from mmengine.logging import print_log

from unimedi.registry import TRANSFORMS

#: sample fields besides ``img_path`` that the cached transforms read, so part of the key
KEY_FIELDS = ('modality', 'seg_map_path', 'override_spacing', 'override_rescale')
_ARRAY = '__array__'
_TUPLE = '__tuple__'


def _encode(value, key: str, arrays: dict):
    """A JSON-able form of ``value``; arrays go to ``arrays`` and are referenced by name."""
    if isinstance(value, np.ndarray):
        name = f'a{len(arrays)}'
        arrays[name] = value
        return {_ARRAY: name}
    if hasattr(value, 'numpy') and hasattr(value, 'detach'):  # torch / MONAI tensors
        return _encode(value.detach().cpu().numpy(), key, arrays)
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v, key, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, key, arrays) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _encode(v, f'{key}.{k}', arrays) for k, v in value.items()}
    raise TypeError(f'CachedTransforms cannot store {key!r} of type {type(value).__name__}; '
                    'cache only transforms whose outputs are arrays, numbers, strings, lists, '
                    'tuples and dicts')


def _decode(value, arrays):
    if isinstance(value, dict):
        if _ARRAY in value:
            return arrays[value[_ARRAY]]
        if _TUPLE in value:
            return tuple(_decode(v, arrays) for v in value[_TUPLE])
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


@TRANSFORMS.register_module()
class CachedTransforms(BaseTransform):
    """Apply ``transforms`` once per sample and store what they produce in ``cache_dir``;
    later epochs, runs and worker processes read it back instead.

    For expensive deterministic preprocessing (reading a compressed CT, resampling, HU
    windowing, resizing): put those transforms inside, and the random ones (crops, flips)
    after it. A sample's entry is keyed by its ``img_path`` (with the file's size and
    modification time, so an edited file is recomputed) and by the transforms' ``repr``
    (another preprocessing gets other entries; the sample's ``modality``, ``seg_map_path``
    and ``override_*`` values count too). Entries are ``.npz`` files (arrays, read
    with ``allow_pickle=False``) holding the keys the transforms added or changed; they
    are written atomically, so concurrent workers never read a partial file. An entry that
    cannot be read (a truncated or foreign file) is recomputed and rewritten, with a warning
    naming it.

    Without ``cache_dir`` the entries stay in the process's memory instead (MONAI's
    ``CacheDataset`` idea): nothing is written, each data-loader worker keeps its own, and
    ``max_items`` bounds them (the least recently used goes first).

    Required keys: ``img_path`` (the cache key).

    Args:
        transforms: the transforms to cache (deterministic ones only: a random transform
            inside would be frozen to its first draw).
        cache_dir: the folder of the entries (created when missing); ``None`` keeps them in
            memory.
        max_items: in memory, the most entries kept (``None``: all).

    Example:
        >>> dict(type='CachedTransforms', cache_dir='data/cache/phantoms', transforms=[
        ...     dict(type='LoadMedicalImage'),
        ...     dict(type='PerModality', pipelines={'3d': [dict(type='HUWindow')]})])
    """

    def __init__(self, transforms: list, cache_dir: str | None = None,
                 max_items: int | None = None):
        self.transforms = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                                   for t in transforms])
        self.cache_dir = cache_dir
        if max_items is not None and max_items < 1:
            raise ValueError(f'max_items must be >= 1 or None, got {max_items}')
        self.max_items = max_items
        self._memory: OrderedDict = OrderedDict()
        self._signature = hashlib.sha1(repr(self.transforms).encode()).hexdigest()[:16]

    def entry_path(self, results: dict) -> str:
        """The cache file of a sample."""
        path = results.get('img_path')
        if not path:
            raise KeyError(f'CachedTransforms needs "img_path" as the cache key; the sample '
                           f'has {sorted(results)}')
        stamp = ''
        if osp.exists(str(path)):
            stat = os.stat(str(path))
            stamp = f'{stat.st_size}:{stat.st_mtime_ns}'
        fields = json.dumps({k: results[k] for k in KEY_FIELDS if results.get(k) is not None},
                            sort_keys=True, default=str)
        digest = hashlib.sha1(f'{path}|{stamp}|{fields}|{self._signature}'.encode()).hexdigest()
        return osp.join(self.cache_dir or '<memory>', digest[:2], f'{digest}.npz')

    def _write(self, path: str, changed: dict, removed: list) -> None:
        arrays: dict = {}
        meta = json.dumps(dict(changed={k: _encode(v, k, arrays) for k, v in changed.items()},
                               removed=removed))
        os.makedirs(osp.dirname(path), exist_ok=True)
        partial = f'{path}.{uuid.uuid4().hex}.tmp'
        with open(partial, 'wb') as f:
            np.savez(f, __meta__=np.array(meta), **arrays)
        os.replace(partial, path)

    @staticmethod
    def _read(path: str) -> tuple[dict, list]:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != '__meta__'}
            meta = json.loads(str(data['__meta__']))
        return _decode(meta['changed'], arrays), meta['removed']

    def _compute(self, results: dict) -> tuple[dict, list] | None:
        before = dict(results)
        out = self.transforms(dict(results))
        if out is None:  # a transform dropped the sample: nothing to cache
            return None
        changed = {k: v for k, v in out.items() if k not in before or v is not before[k]}
        return changed, sorted(set(before) - set(out))

    def _lookup(self, path: str, results: dict) -> tuple[dict, list] | None:
        if self.cache_dir is None:
            entry = self._memory.get(path)
            if entry is None:
                entry = self._compute(results)
                if entry is None:
                    return None
                self._memory[path] = entry
                if self.max_items is not None and len(self._memory) > self.max_items:
                    self._memory.popitem(last=False)
            self._memory.move_to_end(path)
            return entry
        if osp.isfile(path):
            try:
                return self._read(path)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
                print_log(f'{path}: unreadable cache entry of {results["img_path"]} ({error}); '
                          'recomputing it', logger='current', level=logging.WARNING)
        entry = self._compute(results)
        if entry is not None:
            self._write(path, *entry)
        return entry

    def transform(self, results: dict) -> dict | None:
        entry = self._lookup(self.entry_path(results), results)
        if entry is None:
            return None
        changed, removed = entry
        merged = {**results, **changed}
        for key in removed:
            merged.pop(key, None)
        return merged

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cache_dir={self.cache_dir!r}, '
                f'transforms={self.transforms})')
