"""Linear probe of frozen [CLS] features at 1 / 10 / 100 % labels, 2D and 3D, beside a
random initialisation and raw pixels: the label-efficiency table of a pre-training run.

    python tools/analysis/feature_probe.py configs/unimedi/vit_tiny_pretrain_phantom.py \
        --checkpoint work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth \
        --random-init --raw-pixels --seeds 0 1 2 --out work_dirs/probe.json

Images come from ``--data-root``'s manifest (default: the phantoms) through the config's
``test_pipeline``, one modality at a time: the ``train`` split (a stratified label fraction
of it, the same draw as ``data_fraction`` in the classification configs) fits one logistic
regression per class, ``val`` chooses its regularisation and ``test`` scores it (macro AUC).
The effective rank (RankMe of the centred features) of the test split is printed beside.
Features are the encoder's final [CLS] token (``--encoders student``: the exported
``vision_encoder``; ``teacher``: the EMA teacher; a random init is probed as a student);
``--features cls+mean`` appends the mean of the final patch tokens (DINO's linear
evaluation also pools the patch tokens), a check of what the patches hold that [CLS] drops.
``--raw-pixels`` probes the images themselves, box-averaged to ``--pixel-size`` (2D) /
``--voxel-size`` (3D).

``--dataset-config`` probes the data of a classification config instead (its train / val /
test datasets and pipelines, e.g. the real pneumonia radiographs); where its val and test
sets are the same, the regularisation is chosen by cross-validation on the training labels.
"""
import argparse
import json
import os
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from unimedi.utils.cli import KeepSpacesDictAction
from unimedi.utils.config_checks import check_cfg_options

FEATURES = ('cls', 'cls+mean')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='a UniMedI pre-training config')
    parser.add_argument('--checkpoint', nargs='*', default=[],
                        help='checkpoints to probe (name=path or path)')
    parser.add_argument('--encoders', nargs='+', choices=['student', 'teacher'],
                        default=['student'], help='the encoders of each checkpoint to probe')
    parser.add_argument('--random-init', action='store_true', help='also probe a random init')
    parser.add_argument('--init-seed', type=int, default=0, help='seed of the random init')
    parser.add_argument('--raw-pixels', action='store_true', help='also probe raw pixels')
    parser.add_argument('--features', choices=FEATURES, default='cls',
                        help='cls: the final [CLS] token (default); cls+mean: [CLS] and the '
                        'mean patch token, concatenated')
    parser.add_argument('--pixel-size', type=int, nargs=2, default=(28, 28))
    parser.add_argument('--voxel-size', type=int, nargs=3, default=(8, 16, 16))
    parser.add_argument('--modalities', nargs='+', default=['2d', '3d'])
    parser.add_argument('--fractions', type=float, nargs='+', default=[1, 10, 100],
                        help='label fractions in percent')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='fraction seeds (the draw of the labelled subset)')
    parser.add_argument('--dataset-config',
                        help='take the datasets of this classification config instead')
    parser.add_argument('--data-root', default='data/phantoms')
    parser.add_argument('--ann-file', default='manifest.jsonl')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--out', help='write the table as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=KeepSpacesDictAction,
                        help='override config keys')
    return parser.parse_args(argv)


def phantom_split(cfg, args, split: str, modality: str) -> dict:
    """The dataset config of one split and modality of a manifest (the phantoms)."""
    classes = cfg.get('classes') or cfg.test_dataloader.dataset.get('metainfo', {}).get(
        'classes')
    return dict(type='ImageReportDataset', data_root=args.data_root, ann_file=args.ann_file,
                split=split, modalities=(modality, ), require_report=False,
                metainfo=dict(classes=classes), pipeline=cfg.test_pipeline)


def load_split(dataset_cfg: dict) -> tuple[list, np.ndarray]:
    """The packed samples and ``(N, K)`` labels (a class index becomes one-hot)."""
    from unimedi.registry import DATASETS
    dataset = DATASETS.build(dataset_cfg)
    items = [dataset[i] for i in range(len(dataset))]
    labels = [item['data_samples'].gt_label.numpy().reshape(-1) for item in items]
    if all(label.size == 1 for label in labels):  # multi-class: one column per class
        count = len(dataset.metainfo.get('classes') or ()) or int(max(labels)) + 1
        labels = [np.eye(count)[int(label[0])] for label in labels]
    return items, np.stack(labels)


def dataset_splits(cfg, args) -> dict:
    """``{name: {split: dataset config or None}}`` to probe (one entry per modality)."""
    if not args.dataset_config:
        return {m: {s: phantom_split(cfg, args, s, m) for s in ('train', 'val', 'test')}
                for m in args.modalities}
    data_cfg = Config.fromfile(args.dataset_config)
    splits = {s: data_cfg[f'{s}_dataloader']['dataset'] for s in ('train', 'val', 'test')}
    if splits['val'] == splits['test']:
        splits['val'] = None  # no third split: choose C on the training labels
    return {osp.splitext(osp.basename(args.dataset_config))[0]: splits}


@torch.no_grad()
def images_of(model, items, modality, batch_size):
    """``(N, C, ...)`` model inputs (after the data preprocessor)."""
    chunks = []
    for start in range(0, len(items), batch_size):
        data = model.data_preprocessor(pseudo_collate(items[start:start + batch_size]), False)
        chunks.append(data['inputs'][modality])
    return torch.cat(chunks)


@torch.no_grad()
def cls_features(encoder, images, modality, batch_size, features: str = 'cls') -> np.ndarray:
    """``(N, C)`` final [CLS] tokens, or ``(N, 2C)`` [CLS] and mean patch token
    (``features='cls+mean'``)."""
    encoder.eval()
    chunks = []
    for i in range(0, len(images), batch_size):
        out = encoder(images[i:i + batch_size], modality)
        parts = [out['cls']] + ([out['patch'].mean(dim=1)] if features == 'cls+mean' else [])
        chunks.append(torch.cat(parts, dim=1).float())
    return torch.cat(chunks).numpy()


def raw_pixels(images, size) -> np.ndarray:
    """Images box-averaged to ``size`` and flattened."""
    return F.adaptive_avg_pool2d(images, size).flatten(1).numpy() if images.ndim == 4 else \
        F.adaptive_avg_pool3d(images, size).flatten(1).numpy()


def probe_table(features: dict, labels: dict, fractions, seeds) -> dict:
    """``{fraction: {'macro': [per seed], 'per_class': [[...] per seed], 'C': [...]}}``."""
    from unimedi.datasets.splits import stratified_fraction
    from unimedi.evaluation.feature_quality import linear_probe_auc
    table = {}
    for percent in fractions:
        rows = dict(macro=[], per_class=[], C=[])
        for seed in (seeds if percent < 100 else seeds[:1]):
            subset = stratified_fraction(labels['train'], percent / 100.0, seed)
            val = (features['val'], labels['val']) if 'val' in features else None
            result = linear_probe_auc((features['train'][subset], labels['train'][subset]),
                                      val, (features['test'], labels['test']))
            rows['macro'].append(result['macro'])
            rows['per_class'].append(result['per_class'])
            rows['C'].append(result['C'])
        table[f'{percent:g}'] = rows
    return table


def build_model(cfg, checkpoint, seed):
    from unimedi.engine.checkpoint import load_state_dict_file
    from unimedi.registry import MODELS
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    if checkpoint:
        model.load_state_dict(load_state_dict_file(checkpoint))
    return model.eval()


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        check_cfg_options(cfg, args.cfg_options)  # a typo or a wrong type fails here
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'unimedi'))
    sources = {}
    for entry in args.checkpoint:
        name, _, path = entry.rpartition('=')
        sources[name or osp.splitext(osp.basename(path))[0]] = path
    if args.random_init:
        sources['random init'] = None
    if not sources and not args.raw_pixels:
        raise SystemExit('nothing to probe: give --checkpoint, --random-init or --raw-pixels')
    models = {name: build_model(cfg, path, args.init_seed) for name, path in sources.items()}
    reference = next(iter(models.values())) if models else build_model(cfg, None, 0)
    results = {}
    for split_cfgs in dataset_splits(cfg, args).values():
        splits = {s: load_split(c) for s, c in split_cfgs.items() if c is not None}
        labels = {s: splits[s][1] for s in splits}
        modality = splits['train'][0][0]['data_samples'].modality
        images = {s: images_of(reference, splits[s][0], modality, args.batch_size)
                  for s in splits}
        feature_sets = {}
        for name, model in models.items():
            kinds = ['student'] if sources[name] is None else args.encoders
            for kind in kinds:
                encoder = model.vision_encoder if kind == 'student' else model.teacher['encoder']
                label = name if len(kinds) == 1 else f'{name} ({kind})'
                feature_sets[label] = {s: cls_features(encoder, images[s], modality,
                                                       args.batch_size, args.features)
                                       for s in splits}
        if args.raw_pixels:
            size = tuple(args.pixel_size if modality == '2d' else args.voxel_size)
            feature_sets['raw pixels'] = {s: raw_pixels(images[s], size) for s in splits}
        from unimedi.evaluation.feature_quality import effective_rank
        results[modality] = {name: probe_table(feats, labels, args.fractions, args.seeds)
                             for name, feats in feature_sets.items()}
        for name, feats in feature_sets.items():
            results[modality][name]['rank'] = effective_rank(feats['test'])
        print_table(modality, results[modality], {s: len(v) for s, v in labels.items()})
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(config=args.config, sources=sources, encoders=args.encoders,
                           features=args.features,
                           seeds=args.seeds, results=results), f, indent=2)
        print(f'written to {args.out}')


def print_table(modality, rows, sizes):
    fractions = [k for k in next(iter(rows.values())) if k != 'rank']
    sizes = ' / '.join(f'{s} {n}' for s, n in sizes.items())
    print(f'\n{modality}: linear-probe macro AUC on the test split (mean +- std over fraction '
          f'seeds; {sizes})')
    print(f'{"features":>24}  ' + '  '.join(f'{p + "%":>15}' for p in fractions)
          + f'  {"test rank":>9}')
    for name, table in rows.items():
        cells = [f'{np.mean(table[p]["macro"]):.3f} +- {np.std(table[p]["macro"]):.3f}'
                 for p in fractions]
        print(f'{name:>24}  ' + '  '.join(f'{c:>15}' for c in cells)
              + f'  {table["rank"]:>9.1f}')


if __name__ == '__main__':
    main()
