"""Inference with a trained UniMedI: image and report embeddings, retrieval, zero-shot.

>>> inferencer = UniMedIInferencer('configs/unimedi/vit_tiny_pretrain_phantom.py',
...                                'work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth')
>>> images = inferencer.embed_images(list_image_files('scans/'))       # (N, E)
>>> inferencer.rank_reports('scans/ct_001.nii.gz', reports, top_k=3)   # [(i, report, score)]
>>> inferencer.zero_shot(images)                                        # {class: (N,)}
"""
from __future__ import annotations

import copy
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmengine.registry import TRANSFORMS, DefaultScope
from torch import nn

from unimedi.io.readers import MedicalImageError
from unimedi.structures import check_modality
from .explanation import Explanation, explain_inputs
from .model_loading import init_model

# Transforms of a test pipeline that need annotations; inference on bare images drops them.
ANNOTATION_TRANSFORMS = ('ParseReport', 'LoadMedicalMask')
ON_ERROR = ('raise', 'skip')


class SkippedImage(NamedTuple):
    """An input left out by ``on_error='skip'``: its position, path and the reason."""

    index: int
    path: str
    reason: str


@dataclass
class ImageEmbeddings:
    """What :meth:`UniMedIInferencer.encode_images` returns.

    Attributes:
        embeddings (Tensor): ``(M, E)`` unit vectors of the images that were read, in
            input order (``M`` = inputs minus skipped).
        paths (list[str]): the ``M`` paths of the rows.
        modalities (list[str]): ``'2d'``/``'3d'`` per row, as the loader found it.
        indices (list[int]): the position of each row in the input list.
        skipped (list[SkippedImage]): inputs that could not be read.
    """

    embeddings: torch.Tensor
    paths: list = field(default_factory=list)
    modalities: list = field(default_factory=list)
    indices: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)


def _type_name(transform) -> str:
    return str(transform.get('type', '')).split('.')[-1] if isinstance(transform, dict) else ''


def inference_pipeline(pipeline: Sequence) -> list:
    """A copy of a test pipeline config without its annotation transforms
    (:data:`ANNOTATION_TRANSFORMS`), also inside ``PerModality`` sub-pipelines."""
    kept = []
    for transform in pipeline:
        if _type_name(transform) in ANNOTATION_TRANSFORMS:
            continue
        transform = copy.deepcopy(transform)
        if _type_name(transform) == 'PerModality':
            transform['pipelines'] = {m: inference_pipeline(p)
                                      for m, p in transform['pipelines'].items()}
        kept.append(transform)
    return kept


def rank_by_similarity(queries: torch.Tensor, candidates: torch.Tensor, items: Sequence,
                       top_k: int | None = 5) -> list[list[tuple[int, Any, float]]]:
    """Rank ``items`` for each query by cosine similarity (the dot product of unit vectors).

    Args:
        queries: ``(N, E)`` unit vectors.
        candidates: ``(M, E)`` unit vectors, one per item.
        items: the ``M`` items (paths, reports...).
        top_k: how many to keep per query; ``None`` keeps all.

    Returns:
        per query, ``[(index, item, score), ...]`` best first.
    """
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                              or top_k < 1):
        raise ValueError(f'top_k must be a positive int or None, got {top_k!r}')
    if candidates.ndim != 2 or candidates.shape[0] != len(items):
        raise ValueError(f'candidates must be ({len(items)}, E) for {len(items)} items, '
                         f'got {tuple(candidates.shape)}')
    scores = queries.float() @ candidates.float().t()
    k = len(items) if top_k is None else min(top_k, len(items))
    values, order = scores.topk(k, dim=1)
    return [[(int(i), items[int(i)], float(v)) for v, i in zip(row_values, row_order)]
            for row_values, row_order in zip(values, order)]


def _as_paths(paths) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        raise TypeError('pass a list of paths, e.g. [path] or list_image_files(folder), '
                        'not a single path')
    return [os.fspath(p) for p in paths]


def _check_positive(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be a positive int, got {value!r}')


def _progress(iterable: Iterable, total: int, desc: str, enabled: bool) -> Iterable:
    """A progress bar on stderr when ``enabled`` and there is more than one step."""
    if not enabled or total < 2:
        return iterable
    from tqdm import tqdm
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, dynamic_ncols=True)


def _warn(message: str) -> None:
    print_log(message, logger='current', level=logging.WARNING)


class UniMedIInferencer:
    """Embed images and reports with a UniMedI model; rank and classify with them.

    Images go through the config's test pipeline (``test_dataloader.dataset.pipeline``,
    without report parsing and mask loading) and the model's data preprocessor, so
    reading, windowing, resizing and normalisation are those of training and testing.
    Reports are cleaned by the pipeline's ``ParseReport`` when it has one.

    Args:
        model: a config file / ``Config`` (the model is built with :func:`init_model`) or
            a built model with ``encode_image``, ``encode_text`` and a data preprocessor.
        checkpoint: weights for a model built from a config; ``None`` keeps random weights.
        device: device of a model built from a config (default ``'cpu'``); a built model
            is moved only when ``device`` is given.
        cfg: the config of a built model (default ``model.cfg``); only its pipeline is used.
        pipeline: transform configs or callables replacing the config's test pipeline;
            they get ``{'img_path', 'sample_idx'[, 'modality']}`` and must end with
            ``PackMedInputs``.
        cfg_options: overrides merged into a config.
        strict: missing model weights in ``checkpoint`` raise (see :func:`init_model`).
    """

    def __init__(self, model: str | os.PathLike | Config | nn.Module,
                 checkpoint: str | os.PathLike | None = None,
                 device: str | torch.device | None = None, cfg: Config | None = None,
                 pipeline: Sequence[dict | Callable] | None = None,
                 cfg_options: dict | None = None, strict: bool = True):
        if isinstance(model, nn.Module):
            if checkpoint is not None or cfg_options:
                raise ValueError('checkpoint and cfg_options apply to a model built from a '
                                 'config; load weights into a built model before passing it')
            if device is not None:
                model.to(torch.device(device))
            cfg = cfg if cfg is not None else getattr(model, 'cfg', None)
        else:
            model = init_model(model, checkpoint, device or 'cpu', cfg_options, strict)
            cfg = model.cfg
        for attribute in ('encode_image', 'encode_text', 'data_preprocessor'):
            if not hasattr(model, attribute):
                raise TypeError(f'{type(model).__name__} has no {attribute}; the inferencer '
                                'needs an image-report model such as UniMedI')
        self.model = model.eval()
        self.cfg = cfg
        pipeline_cfg = self._test_pipeline_cfg(cfg) if pipeline is None else None
        transforms = inference_pipeline(pipeline_cfg) if pipeline is None else list(pipeline)
        scope = cfg.get('default_scope', 'unimedi') if cfg is not None else 'unimedi'
        with DefaultScope.overwrite_default_scope(scope):
            self.pipeline = Compose(transforms)
            parsers = [t for t in pipeline_cfg or [] if _type_name(t) == 'ParseReport']
            self.report_parser = TRANSFORMS.build(parsers[0]) if parsers else None

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, device: str | torch.device = 'cpu',
                        **kwargs) -> 'UniMedIInferencer':
        """An inferencer on the whole UniMedI model of a local model folder
        (``tools/misc/export_encoder.py --whole-model``): its config, weights, text tower and
        test pipeline. ``kwargs`` go to the constructor (e.g. ``pipeline``)."""
        from .model_export import load_model_folder

        model = load_model_folder(os.fspath(folder), device)
        return cls(model, cfg=model.cfg, **kwargs)

    @staticmethod
    def _test_pipeline_cfg(cfg: Config | None) -> list:
        pipeline = None
        if cfg is not None:
            dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
            pipeline = dataset.get('pipeline') or cfg.get('test_pipeline')
        if not pipeline:
            raise ValueError('no test pipeline: give pipeline=[...] or a config with '
                             'test_dataloader.dataset.pipeline')
        return list(pipeline)

    # ------------------------------------------------------------------ properties
    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def embed_dim(self) -> int:
        """Width ``E`` of the image-report space (0 when it cannot be told)."""
        head = getattr(self.model, 'image_projection', None)
        linears = [m for m in head.modules() if isinstance(m, nn.Linear)] if head else []
        return linears[-1].out_features if linears else 0

    @property
    def zero_shot_classes(self) -> list[str]:
        """The classes of the model's zero-shot prompts (empty when it has none)."""
        return list(getattr(self.model, 'zero_shot_prompts', None) or {})

    # ------------------------------------------------------------------ images
    def _load(self, index: int, path: str, modality: str | None) -> dict:
        results = dict(img_path=path, sample_idx=index)
        if modality is not None:
            results['modality'] = modality
        try:
            packed = self.pipeline(results)
        except MedicalImageError:
            raise
        except Exception as exc:  # any failure of a transform is this file's failure
            raise MedicalImageError(path, f'the test pipeline failed ({type(exc).__name__}: '
                                    f'{exc})') from exc
        if packed is None:
            raise MedicalImageError(path, 'the test pipeline dropped the image')
        return packed

    def _preprocess(self, group: list) -> tuple[str, torch.Tensor]:
        """One batch of one modality and shape -> its modality and the model's input."""
        data = dict(inputs=[p['inputs'] for _, p in group],
                    data_samples=[p['data_samples'] for _, p in group])
        modality = data['data_samples'][0].modality
        return modality, self.model.data_preprocessor(data, training=False)['inputs'][modality]

    @torch.no_grad()
    def _embed_group(self, group: list) -> dict[int, torch.Tensor]:
        """One batch of one modality and shape -> ``{input index: (E,) embedding}``."""
        indices = [index for index, _ in group]
        modality, inputs = self._preprocess(group)
        embeds = self.model.encode_image(inputs, modality)
        embeds = F.normalize(embeds.float(), dim=-1).cpu()
        return dict(zip(indices, embeds))

    def _loaded_groups(self, paths, modality, batch_size, on_error, progress,
                       skipped: list) -> Iterable[list]:
        """Load ``paths`` through the test pipeline and yield batches of one modality and
        shape, ``[(input index, packed sample), ...]`` of at most ``batch_size``; unreadable
        inputs raise or (``on_error='skip'``) are logged and appended to ``skipped``."""
        paths = _as_paths(paths)
        _check_positive(batch_size, 'batch_size')
        if on_error not in ON_ERROR:
            raise ValueError(f'on_error must be one of {ON_ERROR}, got {on_error!r}')
        check_modality(modality, optional=True)
        in_hu: list[str] = []
        groups: dict[tuple, list] = {}
        for index, path in _progress(enumerate(paths), len(paths), 'images', progress):
            try:
                packed = self._load(index, path, modality)
            except MedicalImageError as exc:
                if on_error == 'raise':
                    raise
                skipped.append(SkippedImage(index, path, exc.problem))
                _warn(f'skipped {exc}')
                continue
            sample = packed['data_samples']
            if sample.metainfo.get('img_unit') == 'HU':
                in_hu.append(path)
            key = (sample.modality, tuple(packed['inputs'].shape))
            groups.setdefault(key, []).append((index, packed))
            if len(groups[key]) == batch_size:
                yield groups.pop(key)
        yield from groups.values()
        if in_hu:
            _warn(f'{len(in_hu)} image(s) reach the model in Hounsfield units, not windowed by '
                  f'the test pipeline (e.g. {in_hu[0]}); a single-file CT DICOM is read as a 2D '
                  'image, and this pipeline has no HUWindow for its modality')

    def encode_images(self, paths: Sequence[str | os.PathLike], *, modality: str | None = None,
                      batch_size: int = 8, on_error: str = 'raise',
                      progress: bool = True) -> ImageEmbeddings:
        """Embed images of any supported format, keeping track of what could not be read.

        Images are loaded one by one and batched by modality (and shape) through the
        model's data preprocessor; the rows come back in input order.

        Args:
            paths: PNG/JPEG, DICOM files, NIfTI files and DICOM series folders, mixed.
            modality: ``'2d'``/``'3d'`` to require one modality; ``None`` takes what the
                loader finds (a single-file CT DICOM is a 2D image).
            batch_size: images per forward pass.
            on_error: ``'raise'``: an unreadable image raises :class:`MedicalImageError`
                naming it; ``'skip'``: it is logged, left out and listed in ``skipped``.
            progress: show a progress bar over the images.

        Returns:
            :class:`ImageEmbeddings`.
        """
        paths = _as_paths(paths)
        rows: dict[int, torch.Tensor] = {}
        modalities: dict[int, str] = {}
        skipped: list[SkippedImage] = []
        for group in self._loaded_groups(paths, modality, batch_size, on_error, progress,
                                         skipped):
            modalities.update((i, p['data_samples'].modality) for i, p in group)
            rows.update(self._embed_group(group))
        order = sorted(rows)
        embeddings = torch.stack([rows[i] for i in order]) if order else \
            torch.empty(0, self.embed_dim)
        return ImageEmbeddings(embeddings, [paths[i] for i in order],
                               [modalities[i] for i in order], order, skipped)

    def embed_images(self, paths: Sequence[str | os.PathLike], *, modality: str | None = None,
                     batch_size: int = 8, progress: bool = True) -> torch.Tensor:
        """``(N, E)`` unit-vector embeddings of ``N`` images, in input order.

        Raises :class:`~unimedi.io.readers.MedicalImageError` naming the first
        unreadable image; :meth:`encode_images` with ``on_error='skip'`` leaves such
        images out instead and lists them. Arguments as in :meth:`encode_images`.
        """
        return self.encode_images(paths, modality=modality, batch_size=batch_size,
                                  on_error='raise', progress=progress).embeddings

    # ------------------------------------------------------------------ explanations
    @torch.no_grad()
    def explain(self, paths: Sequence[str | os.PathLike], *, modality: str | None = None,
                batch_size: int = 8, on_error: str = 'raise',
                progress: bool = True) -> list[Explanation]:
        """Where the model looks in each image: the EMA teacher's [CLS] attention, the
        student's token mask and, for CTs, the slice scores and the chosen slices.

        Args:
            paths: PNG/JPEG, DICOM files, NIfTI files and DICOM series folders, mixed.
            modality, batch_size, on_error, progress: as in :meth:`encode_images`
                (skipped inputs are logged and left out).

        Returns:
            one :class:`~unimedi.apis.explanation.Explanation` per image read, in input
            order, with its ``path``: 2D ``attention_map`` ``(H, W)``; 3D
            ``attention_map`` ``(D, H, W)``, ``slice_scores`` ``(D,)`` and
            ``selected_slices`` ``(k,)`` on the model's input grid.

        Raises:
            TypeError: the model has no EMA teacher (``teacher_pass``), e.g. an encoder.
        """
        if not hasattr(self.model, 'teacher_pass'):
            raise TypeError(f'{type(self.model).__name__} has no teacher_pass: explanations '
                            'need the whole UniMedI model with its EMA teacher')
        paths = _as_paths(paths)
        rows: dict[int, Explanation] = {}
        for group in self._loaded_groups(paths, modality, batch_size, on_error, progress, []):
            group_modality, inputs = self._preprocess(group)
            for (index, _), explanation in zip(
                    group, explain_inputs(self.model, inputs, group_modality)):
                explanation.path = paths[index]
                rows[index] = explanation
        return [rows[i] for i in sorted(rows)]

    # ------------------------------------------------------------------ reports
    def _clean_reports(self, texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str):
            raise TypeError('pass a list of reports, e.g. [report], not a single string')
        cleaned = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f'report {i} must be a str, got {type(text).__name__}')
            if not text.strip():
                raise ValueError(f'report {i} is empty')
            if self.report_parser is not None:
                try:
                    text = self.report_parser(dict(report=text, sample_idx=i))['report']
                except ValueError as exc:
                    raise ValueError(f'report {i} is empty once parsed as in training '
                                     f'({exc}): {text[:80]!r}') from exc
            cleaned.append(text)
        return cleaned

    @torch.no_grad()
    def embed_reports(self, texts: Sequence[str], batch_size: int = 32,
                      progress: bool = True) -> torch.Tensor:
        """``(N, E)`` unit-vector embeddings of ``N`` reports, in input order.

        Raises:
            ValueError: a report is empty (the message gives its index), or the model's
                data preprocessor has no text tokenizer.
        """
        texts = self._clean_reports(texts)
        _check_positive(batch_size, 'batch_size')
        tokenizer = getattr(self.model.data_preprocessor, 'text_tokenizer', None)
        if tokenizer is None:
            raise ValueError('the model has no text tokenizer: set '
                             'model.data_preprocessor.text_tokenizer in the config')
        starts = range(0, len(texts), batch_size)
        out = []
        for start in _progress(starts, len(starts), 'reports', progress):
            tokens = tokenizer(texts[start:start + batch_size])
            tokens = {k: v.to(self.device) for k, v in tokens.items()}
            out.append(F.normalize(self.model.encode_text(tokens).float(), dim=-1).cpu())
        return torch.cat(out) if out else torch.empty(0, self.embed_dim)

    # ------------------------------------------------------------------ retrieval
    def _image_query(self, image, modality: str | None) -> torch.Tensor:
        if isinstance(image, torch.Tensor):
            if image.ndim != 1:
                raise ValueError(f'an image embedding must be (E,), got {tuple(image.shape)}')
            return image.detach().float().cpu()[None]
        return self.embed_images([image], modality=modality, progress=False)

    def rank_reports(self, image: str | os.PathLike | torch.Tensor, reports: Sequence[str],
                     top_k: int | None = 5, *, modality: str | None = None,
                     batch_size: int = 32, progress: bool = True) -> list[tuple[int, str, float]]:
        """The reports closest to one image: ``[(index, report, cosine score), ...]``.

        Args:
            image: an image path or its ``(E,)`` embedding.
            reports: the candidate reports.
            top_k: how many to return, best first; ``None`` for all.
        """
        query = self._image_query(image, modality)
        candidates = self.embed_reports(reports, batch_size=batch_size, progress=progress)
        return rank_by_similarity(query, candidates, list(reports), top_k)[0]

    def rank_images(self, report: str, images: Sequence[str | os.PathLike], top_k: int | None = 5,
                    *, modality: str | None = None, batch_size: int = 8,
                    progress: bool = True) -> list[tuple[int, str, float]]:
        """The images closest to one report: ``[(index, path, cosine score), ...]``.

        Args:
            report: the query report.
            images: candidate image paths (every one must be readable).
            top_k: how many to return, best first; ``None`` for all.
        """
        if not isinstance(report, str):
            raise TypeError(f'report must be a str, got {type(report).__name__}')
        query = self.embed_reports([report], progress=False)
        paths = _as_paths(images)
        candidates = self.embed_images(paths, modality=modality, batch_size=batch_size,
                                       progress=progress)
        return rank_by_similarity(query, candidates, paths, top_k)[0]

    # ------------------------------------------------------------------ zero-shot
    def _zero_shot_prompts(self, prompts: dict | None) -> dict:
        prompts = prompts if prompts is not None else getattr(self.model, 'zero_shot_prompts',
                                                              None)
        if not prompts:
            raise ValueError("no zero-shot prompts: the config sets no model.zero_shot_prompts; "
                             "pass prompts={class: {'positive': [...], 'negative': [...]}}")
        checked = {}
        for name, polarities in prompts.items():
            if not isinstance(polarities, dict):
                raise TypeError(f"zero-shot class {name!r}: expected {{'positive': [...], "
                                f"'negative': [...]}}, got {type(polarities).__name__}")
            entry = {}
            for polarity in ('positive', 'negative'):
                texts = polarities.get(polarity)
                texts = [texts] if isinstance(texts, str) else list(texts or [])
                if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                    raise ValueError(f'zero-shot class {name!r} needs non-empty {polarity} '
                                     f'prompts, got {polarities.get(polarity)!r}')
                entry[polarity] = texts
            checked[name] = entry
        return checked

    def zero_shot(self, images: Sequence[str | os.PathLike] | torch.Tensor,
                  prompts: dict | None = None, *, modality: str | None = None,
                  batch_size: int = 8, progress: bool = True) -> dict[str, torch.Tensor]:
        """Zero-shot probability of each class for each image (model's ``zero_shot_scores``).

        Args:
            images: image paths, or their ``(N, E)`` embeddings.
            prompts: ``{class: {'positive': [...], 'negative': [...]}}``; default the
                config's ``model.zero_shot_prompts``.

        Returns:
            ``{class: (N,) probabilities in [0, 1]}``, classes in prompt order.
        """
        prompts = self._zero_shot_prompts(prompts)
        if not hasattr(self.model, 'zero_shot_scores'):
            raise TypeError(f'{type(self.model).__name__} has no zero_shot_scores')
        if isinstance(images, torch.Tensor):
            embeds = images.detach().float()
            if embeds.ndim != 2:
                raise ValueError(f'image embeddings must be (N, E), got {tuple(embeds.shape)}')
        else:
            embeds = self.embed_images(images, modality=modality, batch_size=batch_size,
                                       progress=progress)
        saved = getattr(self.model, 'zero_shot_prompts', None)
        self.model.zero_shot_prompts = prompts  # the model scores its own prompts
        try:
            scores = self.model.zero_shot_scores(embeds.to(self.device)).float().cpu()
        finally:
            self.model.zero_shot_prompts = saved
        return {name: scores[:, i] for i, name in enumerate(prompts)}
