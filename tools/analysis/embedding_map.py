"""The common embedding space, drawn: 2D images, 3D images and reports of a split, mapped
to the plane (t-SNE, or UMAP), for a pre-trained model and for a random initialisation
of the same config side by side.

    python tools/analysis/embedding_map.py configs/unimedi/vit_tiny_pretrain_phantom.py \
        work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth --split test \
        --out work_dirs/embedding_map.png

One row per model (pre-trained first, then random init with seed ``--seed``; without a
checkpoint only the random-init row), two columns: (a) the points by kind (2D image,
3D image, report: different markers and colours), (b) the same points coloured by the
sample's first finding (or ``normal``), markers still by kind.

What to look for: in the pre-trained row, findings clustering across modalities (a
nodule radiograph near a nodule CT) and each report close to its images; in the
random-init row, points separating by modality (2D apart from 3D, images apart from
reports) whatever the finding.

Printed, one line per model, and written beside the figure as ``<out stem>.json``
(scores on the embeddings themselves, cosine, not on the 2D map; see
:mod:`unimedi.evaluation.embedding_separation`): the silhouette of the findings over the
images, the mixing of 2D and 3D images, the mixing of images and reports (1: as mixed
as chance, 0: separated), and the image-report pair alignment.
"""
import argparse
import json
import os
import os.path as osp

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from unimedi.apis import init_model
from unimedi.datasets.manifest_dataset import finding_names
from unimedi.evaluation.embedding_separation import (finding_silhouette, modality_mixing,
                                                     pair_alignment)
from unimedi.utils.cli import KeepSpacesDictAction

#: figure width and height of one row, in inches, and the resolution
FIG_WIDTH, ROW_HEIGHT, DPI = 12.0, 5.0, 100
KINDS = ('2D image', '3D image', 'report')
KIND_STYLE = {'2D image': dict(marker='o', color='tab:blue'),
              '3D image': dict(marker='s', color='tab:orange'),
              'report': dict(marker='^', color='tab:green')}
MODALITY_KIND = {'2d': '2D image', '3d': '3D image'}
SCORE_NAMES = {'finding_silhouette': 'finding silhouette',
               'mixing_2d_vs_3d': 'mixing 2D-vs-3D',
               'mixing_images_vs_reports': 'mixing images-vs-reports',
               'pair_alignment': 'pair alignment'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Map of the common embedding space')
    parser.add_argument('config', help='a UniMedI config')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (omit: random init only)')
    parser.add_argument('--out', required=True, help='the PNG to write')
    parser.add_argument('--split', default='test', help='manifest split to draw')
    parser.add_argument('--data-root', help="override the test dataset's data_root")
    parser.add_argument('--max-per-modality', type=int, default=None,
                        help='at most this many samples per modality (the first ones)')
    parser.add_argument('--perplexity', type=float, default=30.0,
                        help='t-SNE perplexity (clipped below the number of points)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random init and map')
    parser.add_argument('--method', choices=('tsne', 'umap'), default='tsne')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--cfg-options', nargs='+', action=KeepSpacesDictAction,
                        help='override config keys, e.g. model.embed_dim=64')
    return parser.parse_args(argv)


def figure_pixels(rows: int) -> tuple[int, int]:
    """``(width, height)`` in pixels of the figure with ``rows`` model rows."""
    return round(FIG_WIDTH * DPI), round(ROW_HEIGHT * rows * DPI)


def build_dataset(cfg, split: str, data_root: str | None):
    dataset_cfg = cfg.test_dataloader.dataset.copy()
    dataset_cfg.split = split
    if data_root:
        dataset_cfg.data_root = data_root
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'unimedi')):
        from unimedi.registry import DATASETS
        return DATASETS.build(dataset_cfg)


def select_indices(dataset, max_per_modality: int | None) -> dict[str, list[int]]:
    """Dataset indices per modality (``'2d'`` before ``'3d'``), the first ``max`` each."""
    by_modality: dict[str, list[int]] = {}
    for i in range(len(dataset)):
        by_modality.setdefault(dataset.get_data_info(i)['modality'], []).append(i)
    out = {}
    for modality in sorted(by_modality):
        indices = by_modality[modality]
        out[modality] = indices if max_per_modality is None else indices[:max_per_modality]
    return out


def _unit(x: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(x.float(), dim=-1).cpu().numpy()


@torch.no_grad()
def embed(model, dataset, indices: dict[str, list[int]], batch_size: int) -> dict:
    """Unit image and report embeddings of the chosen samples.

    Returns:
        ``image`` ``(N, E)``, ``text`` ``(N, E)`` (``None`` when a batch has no reports),
        ``modality`` and ``finding`` (first finding or ``'normal'``), ``N`` each.
    """
    classes = dataset.metainfo.get('classes') or ()
    images, texts, modalities, findings = [], [], [], []
    for modality, chunk_all in indices.items():
        for start in range(0, len(chunk_all), batch_size):
            chunk = chunk_all[start:start + batch_size]
            data = model.data_preprocessor(pseudo_collate([dataset[i] for i in chunk]), False)
            images.append(_unit(model.encode_image(data['inputs'][modality], modality)))
            text = data['inputs'].get('text')
            texts.append(None if text is None else _unit(model.encode_text(text)))
            for i in chunk:
                names = finding_names(dataset.get_data_info(i), classes)
                findings.append(names[0] if names else 'normal')
                modalities.append(modality)
    have_text = bool(texts) and all(t is not None for t in texts)
    return dict(image=np.concatenate(images), text=np.concatenate(texts) if have_text else None,
                modality=modalities, finding=findings)


def scores(emb: dict, k: int = 10) -> dict:
    """The four scores of one model's embeddings (``nan`` where undefined)."""
    image, text = emb['image'], emb['text']
    out = dict(finding_silhouette=finding_silhouette(image, emb['finding']),
               mixing_2d_vs_3d=modality_mixing(image, emb['modality'], k=k),
               mixing_images_vs_reports=float('nan'), pair_alignment=float('nan'))
    if text is not None:
        kinds = ['image'] * len(image) + ['report'] * len(text)
        out['mixing_images_vs_reports'] = modality_mixing(np.concatenate([image, text]), kinds,
                                                          k=k)
        if len(image) >= 2:
            out['pair_alignment'] = pair_alignment(image, text)
    return out


def points(emb: dict) -> tuple[np.ndarray, list[str], list[str]]:
    """All points to map: images then reports, with their kind and finding."""
    kinds = [MODALITY_KIND.get(m, m) for m in emb['modality']]
    findings = list(emb['finding'])
    if emb['text'] is None:
        return emb['image'], kinds, findings
    return (np.concatenate([emb['image'], emb['text']]), kinds + ['report'] * len(emb['text']),
            findings + findings)


def project(x: np.ndarray, method: str, perplexity: float, seed: int) -> np.ndarray:
    """``(N, E)`` -> ``(N, 2)`` map coordinates (t-SNE with PCA init, or UMAP)."""
    n = x.shape[0]
    if n < 3:
        raise SystemExit(f'only {n} points to map; need at least 3')
    if method == 'umap':
        try:
            import umap
        except ImportError:
            raise SystemExit('--method umap needs the umap-learn package (not installed); '
                             'use --method tsne') from None
        return umap.UMAP(n_neighbors=min(15, n - 1), random_state=seed,
                         metric='cosine').fit_transform(x)
    from sklearn.manifold import TSNE

    # unit vectors: euclidean distance is monotone in cosine distance
    return TSNE(n_components=2, perplexity=min(float(perplexity), n - 1.0), init='pca',
                random_state=seed).fit_transform(x)


def score_line(name: str, values: dict) -> str:
    return f'{name}: ' + ', '.join(f'{SCORE_NAMES[key]} {values[key]:.3f}' for key in SCORE_NAMES)


def _pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def draw(rows: list[tuple[str, np.ndarray, list[str], list[str], dict]], method: str):
    """The figure: per row (title, coords, kinds, findings, scores) two panels."""
    plt = _pyplot()
    figure, axes = plt.subplots(len(rows), 2, figsize=(FIG_WIDTH, ROW_HEIGHT * len(rows)),
                                dpi=DPI, squeeze=False)
    all_findings = sorted({f for row in rows for f in row[3]}, key=lambda f: (f != 'normal', f))
    cmap = plt.get_cmap('tab10' if len(all_findings) <= 10 else 'tab20')
    colours = {f: cmap(i % cmap.N) for i, f in enumerate(all_findings)}
    for (title, coords, kinds, findings, values), (by_kind, by_finding) in zip(rows, axes):
        kinds, findings = np.asarray(kinds), np.asarray(findings)
        for kind in KINDS:
            mask = kinds == kind
            if mask.any():
                by_kind.scatter(coords[mask, 0], coords[mask, 1], s=28, label=kind, alpha=0.8,
                                **KIND_STYLE[kind])
            for finding in all_findings:
                both = mask & (findings == finding)
                if both.any():
                    by_finding.scatter(coords[both, 0], coords[both, 1], s=28, alpha=0.8,
                                       marker=KIND_STYLE[kind]['marker'],
                                       color=colours[finding])
        by_kind.set_title(f'{title} (a) by kind\nmixing 2D-vs-3D '
                          f"{values['mixing_2d_vs_3d']:.2f}, images-vs-reports "
                          f"{values['mixing_images_vs_reports']:.2f}", fontsize=10)
        by_finding.set_title(f'{title} (b) by finding\nsilhouette '
                             f"{values['finding_silhouette']:.2f}, pair alignment "
                             f"{values['pair_alignment']:.2f}", fontsize=10)
        by_kind.legend(fontsize=8, loc='best')
        handles = [plt.Line2D([], [], linestyle='', marker='o', color=colours[f], label=f)
                   for f in all_findings if f in set(findings.tolist())]
        by_finding.legend(handles=handles, fontsize=7, loc='best')
        for ax in (by_kind, by_finding):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f'{method} 1', fontsize=8)
            ax.set_ylabel(f'{method} 2', fontsize=8)
    figure.subplots_adjust(left=0.04, right=0.98, top=0.9, bottom=0.05, wspace=0.1, hspace=0.3)
    return figure


def _json_value(x):
    return None if isinstance(x, float) and not np.isfinite(x) else x


def main(argv=None):
    args = parse_args(argv)
    if args.max_per_modality is not None and args.max_per_modality < 1:
        raise SystemExit(f'--max-per-modality must be >= 1, got {args.max_per_modality}')
    if args.perplexity <= 0:
        raise SystemExit(f'--perplexity must be > 0, got {args.perplexity}')
    if args.method == 'umap':
        try:
            import umap  # noqa: F401
        except ImportError:
            raise SystemExit('--method umap needs the umap-learn package (not installed); '
                             'use --method tsne') from None
    models = []
    if args.checkpoint:
        torch.manual_seed(args.seed)
        models.append(('pre-trained', args.checkpoint,
                       init_model(args.config, args.checkpoint, 'cpu', args.cfg_options)))
    torch.manual_seed(args.seed)
    models.append((f'random init (seed {args.seed})', None,
                   init_model(args.config, None, 'cpu', args.cfg_options)))
    dataset = build_dataset(models[0][2].cfg, args.split, args.data_root)
    if len(dataset) == 0:
        raise SystemExit(f'split {args.split!r} of the dataset has no samples')
    indices = select_indices(dataset, args.max_per_modality)
    rows, result = [], dict(config=str(args.config), split=args.split, method=args.method,
                            seed=args.seed, samples={m: len(v) for m, v in indices.items()},
                            models={})
    for name, checkpoint, model in models:
        emb = embed(model, dataset, indices, args.batch_size)
        values = scores(emb)
        x, kinds, findings = points(emb)
        coords = project(x, args.method, args.perplexity, args.seed)
        rows.append((name, coords, kinds, findings, values))
        result['models'][name] = dict(checkpoint=checkpoint,
                                      **{k: _json_value(v) for k, v in values.items()})
        print(score_line(name, values))
    figure = draw(rows, args.method)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    figure.savefig(args.out, dpi=DPI)
    _pyplot().close(figure)
    json_path = osp.splitext(args.out)[0] + '.json'
    with open(json_path, 'w') as f:
        json.dump(result, f, indent=2)
    print(f'wrote {args.out} and {json_path}')
    return result


if __name__ == '__main__':
    main()
