"""Figures of the language-guided selection: which CT slices and which radiograph regions
the EMA teacher's [CLS] attention picks, against the known lesions.

    python tools/analysis/visualize_selection.py configs/unimedi/vit_tiny_pretrain_phantom.py \
        work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth --split test --out work_dirs/selection

Writes to ``--out``:

- ``ct/<case>.png``: the slice-score curve, chosen slices in red, lesion slices shaded
  green; below, the chosen slices with the attention over each (green frame: a lesion
  slice). Look for red points inside the green bands.
- ``xray/<case>.png``: the radiograph, the attention heatmap, and what the student sees
  (the hidden tokens darkened); the lesion outline in green. Look for heat inside the
  outline.
- ``index.png``: the best, median and worst case of each modality by selection
  precision (3D: the fraction of chosen slices with a lesion; 2D: the fraction of the
  student's visible tokens over a lesion), beside chance.
- ``summary.json``: every case's precision and chance, and the means.

Without a checkpoint the model keeps a random initialisation (seed ``--seed``): the
baseline that a trained selection must beat.
"""
import argparse
import json
import os
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from unimedi.apis import init_model
from unimedi.apis.explanation import explain_inputs, selection_hits
from unimedi.datasets.manifest_dataset import finding_names
from unimedi.io.readers import read_medical_image
from unimedi.utils.cli import KeepSpacesDictAction
from unimedi.visualization import ct_figure, index_figure, radiograph_figure, save


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Figures of the slice and region selection')
    parser.add_argument('config', help='a UniMedI config')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (omit for random init)')
    parser.add_argument('--split', default='test', help='manifest split to draw')
    parser.add_argument('--out', required=True, help='folder for the figures')
    parser.add_argument('--data-root', help="override the test dataset's data_root")
    parser.add_argument('--max-cases', type=int, default=8,
                        help='figures per modality besides the index cases (0: only those)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0, help='seed of the random init')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=KeepSpacesDictAction,
                        help='override config keys, e.g. model.selection_attention_layers=1')
    return parser.parse_args(argv)


def lesion_mask_on_input(info: dict, shape) -> np.ndarray | None:
    """The sample's lesion mask (any non-zero label), resized (nearest) to the model's
    ``(H, W)`` input; ``None`` without one. The pre-training test pipelines resize the
    whole radiograph, so the resized mask stays aligned with the input."""
    path = info.get('seg_map_path')
    if not path:
        return None
    mask = read_medical_image(path, modality='2d', as_mask=True).array[0] > 0
    resized = F.interpolate(torch.from_numpy(mask.astype(np.float32))[None, None],
                            size=tuple(shape), mode='nearest')[0, 0]
    return resized.numpy() > 0.5


def explain_split(model, dataset, batch_size: int) -> list[dict]:
    """Every sample of the dataset with its explanation and its selection precision.

    Returns:
        one dict per sample: ``name``, ``modality``, ``labels``, ``explanation``,
        ``lesion_slices`` (3D) / ``lesion_mask`` (2D), ``precision`` and ``chance``
        (``None`` without a known lesion).
    """
    by_modality: dict[str, list[int]] = {}
    for i in range(len(dataset)):
        by_modality.setdefault(dataset.get_data_info(i)['modality'], []).append(i)
    classes = dataset.metainfo.get('classes') or ()
    cases = []
    for modality, indices in by_modality.items():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start:start + batch_size]
            batch = pseudo_collate([dataset[i] for i in chunk])
            data = model.data_preprocessor(batch, False)
            explanations = explain_inputs(model, data['inputs'][modality], modality)
            for i, sample, explanation in zip(chunk, data['data_samples'], explanations):
                info = dataset.get_data_info(i)
                case = dict(name=str(info.get('case_id') or osp.basename(info['img_path'])),
                            modality=modality, labels=finding_names(info, classes),
                            explanation=explanation)
                if modality == '3d':
                    lesions = sample.get('lesion_slices')
                    case['lesion_slices'] = None if lesions is None else \
                        np.asarray(lesions.cpu() if torch.is_tensor(lesions) else lesions)
                    hits = selection_hits(explanation, lesion_slices=case['lesion_slices'])
                else:
                    case['lesion_mask'] = lesion_mask_on_input(info, explanation.image.shape)
                    hits = selection_hits(explanation, lesion_mask=case['lesion_mask'])
                case['precision'], case['chance'] = hits if hits else (None, None)
                cases.append(case)
    return cases


def ranked_cases(cases: list[dict]) -> list[dict]:
    """The best, median and worst of the cases with a precision, labelled."""
    scored = sorted((c for c in cases if c['precision'] is not None),
                    key=lambda c: (-c['precision'], c['name']))
    if not scored:
        return []
    picks = [('best', 0), ('median', len(scored) // 2), ('worst', len(scored) - 1)]
    seen, out = set(), []
    for label, position in picks:
        if position not in seen:
            seen.add(position)
            out.append(dict(scored[position], label=f"{label} {scored[position]['modality']}"))
    return out


def _title(case: dict) -> str:
    findings = ', '.join(case['labels']) or 'no finding'
    text = f"{case['name']} ({findings})"
    if case['precision'] is not None:
        text += f": precision {case['precision']:.2f}, chance {case['chance']:.2f}"
    return text


def draw_case(case: dict, out_dir: str) -> str:
    """Write one case's figure; returns its path."""
    explanation = case['explanation']
    if case['modality'] == '3d':
        figure = ct_figure(explanation, case.get('lesion_slices'), _title(case))
        path = osp.join(out_dir, 'ct', f"{case['name']}.png")
    else:
        figure = radiograph_figure(explanation, case.get('lesion_mask'), _title(case))
        path = osp.join(out_dir, 'xray', f"{case['name']}.png")
    return save(figure, path)


def summary(cases: list[dict], source: str) -> dict:
    """Per-case precision and chance, and the means per modality."""
    out = dict(source=source, modalities={})
    for modality in sorted({c['modality'] for c in cases}):
        rows = [c for c in cases if c['modality'] == modality]
        scored = [c for c in rows if c['precision'] is not None]
        out['modalities'][modality] = dict(
            samples=len(rows), with_lesion=len(scored),
            precision=float(np.mean([c['precision'] for c in scored])) if scored else None,
            chance=float(np.mean([c['chance'] for c in scored])) if scored else None,
            cases={c['name']: dict(precision=c['precision'], chance=c['chance'],
                                   labels=c['labels']) for c in rows})
    return out


def main(argv=None):
    args = parse_args(argv)
    if args.max_cases < 0:
        raise SystemExit(f'--max-cases must be >= 0, got {args.max_cases}')
    torch.manual_seed(args.seed)
    model = init_model(args.config, args.checkpoint, args.device, args.cfg_options)
    if model.slice_selector is None and model.token_masker is None:
        raise SystemExit(f'{args.config}: the model has neither a slice_selector nor a '
                         'token_masker; there is no selection to draw')
    cfg = model.cfg
    dataset_cfg = cfg.test_dataloader.dataset.copy()
    dataset_cfg.split = args.split
    if args.data_root:
        dataset_cfg.data_root = args.data_root
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'unimedi')):
        from unimedi.registry import DATASETS
        dataset = DATASETS.build(dataset_cfg)
    if len(dataset) == 0:
        raise SystemExit(f'split {args.split!r} of {dataset_cfg.data_root} has no samples')
    cases = explain_split(model, dataset, args.batch_size)
    os.makedirs(args.out, exist_ok=True)
    index_rows, written = [], []
    for modality in ('2d', '3d'):
        rows = [c for c in cases if c['modality'] == modality]
        if not rows:
            continue
        picks = ranked_cases(rows)
        index_rows.append(picks)
        chosen = {c['name'] for c in picks}
        chosen.update(c['name'] for c in rows[:args.max_cases])
        written += [draw_case(c, args.out) for c in rows if c['name'] in chosen]
    source = args.checkpoint or f'random init (seed {args.seed})'
    if any(index_rows):
        written.append(save(index_figure(index_rows), osp.join(args.out, 'index.png')))
    result = summary(cases, source)
    with open(osp.join(args.out, 'summary.json'), 'w') as f:
        json.dump(result, f, indent=1)
    for modality, row in result['modalities'].items():
        if row['precision'] is not None:
            print(f"{source}: {modality} selection precision {row['precision']:.3f} against "
                  f"chance {row['chance']:.3f} over {row['with_lesion']} cases with lesions")
    print(f'wrote {len(written)} figures to {args.out} (index: {osp.join(args.out, "index.png")})')
    return result


if __name__ == '__main__':
    main()
