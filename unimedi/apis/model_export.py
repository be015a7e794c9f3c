"""Shareable model folders: a pre-trained encoder, or a whole UniMedI model, with what rebuilds
it and a model card.

A folder holds ``config.json`` (``format: 'unimedi'``, ``kind: 'encoder' | 'model'``, the
config of the ``UnifiedViT`` or of the whole model, the test pipeline, where it came from),
``model.safetensors`` (tensors only: nothing is unpickled when it is read), ``README.md``
(the model card: how to load it, the training config, the data, the metrics) and, when
known, ``metrics.json``. A whole model also keeps its text tower (weights, config and
tokenizer) in ``text_encoder/``, so the folder rebuilds without the original files.

Read back with ``UnifiedViT.from_pretrained(folder)`` (either kind),
``UniMedIInferencer.from_pretrained(folder)`` (a whole model), and wherever a model takes
``pretrained`` (``dict(checkpoint=folder)``).
"""
from __future__ import annotations

import copy
import json
import os
import os.path as osp
import shutil

import torch
from mmengine.config import Config

from unimedi.engine.checkpoint import (MODEL_FOLDER_FORMAT, TEXT_FOLDER, load_state_dict_file,
                                       read_model_folder)

ENCODER_PREFIXES = {False: 'vision_encoder.', True: 'teacher.encoder.'}


def _checkpoint_config(checkpoint: str, config: str | None) -> tuple[Config, dict]:
    """The training config (``config`` or the text a runner checkpoint keeps in its meta)
    and the checkpoint's meta."""
    meta = {}
    if not checkpoint.endswith('.safetensors'):
        raw = torch.load(checkpoint, map_location='cpu', weights_only=True)
        meta = raw.get('meta', {}) if isinstance(raw, dict) else {}
    if config is not None:
        return Config.fromfile(config), meta
    if not meta.get('cfg'):
        raise ValueError(f'{checkpoint}: the checkpoint keeps no config (meta.cfg); give the '
                         'training config with --config')
    return Config.fromstring(meta['cfg'], '.py'), meta


def _jsonable(value):
    return json.loads(json.dumps(value, default=lambda v: list(v) if isinstance(v, tuple)
                                 else str(v)))


def _test_pipeline(cfg: Config) -> list:
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    return _jsonable(dataset.get('pipeline') or cfg.get('test_pipeline') or [])


def _find_metrics(checkpoint: str, metrics: str | None) -> dict | None:
    path = metrics or osp.join(osp.dirname(osp.abspath(checkpoint)), 'metrics.json')
    if not osp.isfile(path):
        if metrics:
            raise FileNotFoundError(f'{metrics}: metrics file not found')
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def _save_tensors(state: dict, path: str) -> None:
    from safetensors.torch import save_file
    save_file({k: v.detach().contiguous() for k, v in state.items()}, path)


def _data_lines(cfg: Config) -> list[str]:
    lines = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        if dataset:
            parts = [f'{k}={dataset[k]!r}' for k in ('type', 'data_root', 'ann_file', 'split')
                     if dataset.get(k) is not None]
            lines.append(f'- {loader}: ' + ', '.join(parts))
    return lines


def model_card(info: dict, cfg: Config, metrics: dict | None) -> str:
    """The ``README.md`` of a model folder."""
    kind = info['kind']
    what = ('the pre-trained UniMedI vision encoder (UnifiedViT: one ViT for 2D radiographs '
            'and 3D CTs)' if kind == 'encoder' else
            'a whole UniMedI model: vision and text towers, projections, temperature and '
            'zero-shot prompts, for retrieval and zero-shot classification')
    load = ("from unimedi.models.encoders import UnifiedViT\n"
            "encoder = UnifiedViT.from_pretrained('FOLDER')\n"
            "# or, in a config: pretrained=dict(checkpoint='FOLDER')" if kind == 'encoder' else
            "from unimedi.apis import UniMedIInferencer\n"
            "inferencer = UniMedIInferencer.from_pretrained('FOLDER')\n"
            "inferencer.zero_shot(['image.png'])")
    encoder = info.get('encoder') or {}
    lines = [f'# {info["name"]}', '', f'This folder holds {what}, exported by unimedi from '
             f'`{info["source"]}` (iteration {info.get("iteration", "?")}).', '',
             '## Load it', '', '```python', load.replace('FOLDER', info['name']), '```', '',
             'Nothing is downloaded; the weights are `model.safetensors` (tensors only).', '',
             '## Model', '',
             f'- encoder: UnifiedViT, arch `{encoder.get("arch")}`, tokenizers '
             f'{sorted((encoder.get("tokenizers") or {}))}']
    for modality, tokenizer in sorted((encoder.get('tokenizers') or {}).items()):
        lines.append(f'  - {modality}: {tokenizer.get("type")}, patch '
                     f'{tokenizer.get("patch_size")}, input {tokenizer.get("img_size")}')
    lines += ['', '## Training data', ''] + (_data_lines(cfg) or ['- (not in the config)'])
    lines += ['', '## Metrics', '']
    if metrics:
        lines += ['| metric | value |', '|---|---|']
        lines += [f'| {k} | {v:.4f} |' if isinstance(v, float) else f'| {k} | {v} |'
                  for k, v in metrics.items() if not isinstance(v, (dict, list))]
    else:
        lines.append('No metrics.json was found beside the checkpoint (`--metrics FILE`).')
    lines += ['', '## Training config', '', '```python', cfg.pretty_text.rstrip(), '```', '']
    return '\n'.join(lines)


def _write_folder(out_dir: str, info: dict, state: dict, cfg: Config,
                  metrics: dict | None) -> str:
    os.makedirs(out_dir, exist_ok=True)
    info = dict(info, format=MODEL_FOLDER_FORMAT, name=osp.basename(osp.normpath(out_dir)))
    _save_tensors(state, osp.join(out_dir, 'model.safetensors'))
    with open(osp.join(out_dir, 'config.json'), 'w', encoding='utf-8') as f:
        json.dump(_jsonable(info), f, indent=2)
    if metrics is not None:
        with open(osp.join(out_dir, 'metrics.json'), 'w', encoding='utf-8') as f:
            json.dump(metrics, f, indent=2)
    with open(osp.join(out_dir, 'README.md'), 'w', encoding='utf-8') as f:
        f.write(model_card(info, cfg, metrics))
    return out_dir


def export_encoder(checkpoint: str, out_dir: str, config: str | None = None,
                   teacher: bool = False, metrics: str | None = None) -> str:
    """Write the vision encoder of a UniMedI checkpoint (student, or the EMA ``teacher``) as a
    model folder; return the folder.

    Raises:
        ValueError: no encoder weights in the checkpoint, or no config to rebuild it.
    """
    cfg, meta = _checkpoint_config(checkpoint, config)
    prefix = ENCODER_PREFIXES[teacher]
    state = load_state_dict_file(checkpoint)
    encoder = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not encoder:
        raise ValueError(f'{checkpoint}: no weights under the prefix {prefix!r}; is it a '
                         'UniMedI checkpoint?')
    encoder_cfg = copy.deepcopy(cfg.model.get('vision_encoder') or {})
    if encoder_cfg.get('type') != 'UnifiedViT':
        raise ValueError(f'{checkpoint}: the config has no UnifiedViT model.vision_encoder')
    encoder_cfg.pop('pretrained', None)
    info = dict(kind='encoder', encoder=encoder_cfg, source=osp.abspath(checkpoint),
                prefix=prefix, iteration=meta.get('iter'),
                test_pipeline=_test_pipeline(cfg))
    return _write_folder(out_dir, info, encoder, cfg, _find_metrics(checkpoint, metrics))


def export_model(checkpoint: str, out_dir: str, config: str | None = None,
                 metrics: str | None = None) -> str:
    """Write a whole UniMedI model (for retrieval and zero-shot) as a model folder.

    The EMA teacher is left out (it is rebuilt as a copy of the student); the text tower's
    Hugging Face weights, config and tokenizer go to ``text_encoder/``.
    """
    from unimedi.apis.model_loading import init_model

    cfg, meta = _checkpoint_config(checkpoint, config)
    if cfg.model.get('type') != 'UniMedI':
        raise ValueError(f'{checkpoint}: a whole-model export needs a UniMedI config, got '
                         f'{cfg.model.get("type")!r} (export the encoder instead)')
    model = init_model(cfg, checkpoint)
    os.makedirs(out_dir, exist_ok=True)
    text_dir = osp.join(out_dir, TEXT_FOLDER)
    if osp.isdir(text_dir):
        shutil.rmtree(text_dir)
    model.text_encoder.model.save_pretrained(text_dir)
    model.data_preprocessor.text_tokenizer.tokenizer.save_pretrained(text_dir)
    state = {k: v for k, v in model.state_dict().items()
             if not k.startswith(('teacher.', 'text_encoder.model.'))}
    model_cfg = copy.deepcopy(cfg.model.to_dict() if hasattr(cfg.model, 'to_dict')
                              else cfg.model)
    model_cfg['vision_encoder'].pop('pretrained', None)
    text = dict(model_cfg['text_encoder'], pretrained=TEXT_FOLDER)
    text.pop('config', None)
    model_cfg['text_encoder'] = text
    model_cfg['data_preprocessor'] = dict(
        model_cfg['data_preprocessor'],
        text_tokenizer=dict(model_cfg['data_preprocessor']['text_tokenizer'],
                            pretrained=TEXT_FOLDER))
    info = dict(kind='model', model=model_cfg, encoder=model_cfg['vision_encoder'],
                source=osp.abspath(checkpoint), prefix='vision_encoder.',
                iteration=meta.get('iter'), test_pipeline=_test_pipeline(cfg))
    return _write_folder(out_dir, info, state, cfg, _find_metrics(checkpoint, metrics))


def load_model_folder(folder: str, device: str | torch.device = 'cpu'):
    """Build the UniMedI model of a ``kind: 'model'`` folder with its weights, in eval mode
    on ``device``; ``model.cfg`` holds the rebuilt config (with the test pipeline)."""
    from mmengine.registry import MODELS, DefaultScope

    info, state = read_model_folder(folder)
    if info['kind'] != 'model':
        raise ValueError(f'{folder}: an encoder folder; a whole UniMedI model folder is needed '
                         '(tools/misc/export_encoder.py --whole-model)')
    model_cfg = copy.deepcopy(info['model'])
    text_dir = osp.join(osp.abspath(folder), TEXT_FOLDER)
    model_cfg['text_encoder']['pretrained'] = text_dir
    model_cfg['data_preprocessor']['text_tokenizer']['pretrained'] = text_dir
    cfg = Config(dict(model=model_cfg, default_scope='unimedi',
                      test_dataloader=dict(dataset=dict(pipeline=info['test_pipeline']))))
    with DefaultScope.overwrite_default_scope('unimedi'):
        model = MODELS.build(copy.deepcopy(model_cfg))
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys
               if not k.startswith(('teacher.', 'text_encoder.model.'))]
    if missing or result.unexpected_keys:
        raise ValueError(f'{folder}: model.safetensors does not fit its config.json (missing '
                         f'{missing[:8]}, unexpected {result.unexpected_keys[:8]})')
    with torch.no_grad():
        model.teacher['encoder'].load_state_dict(model.vision_encoder.state_dict())
        model.teacher['head'].load_state_dict(model.dino_head.state_dict())
    model.cfg = cfg
    return model.to(torch.device(device)).eval()
