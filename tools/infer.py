"""Embed images with a trained UniMedI; write zero-shot scores and the closest reports to a CSV.

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] --out results.csv \\
        [--reports reports.txt] [--top-k 3] [--zero-shot | --no-zero-shot] [--device cpu] \\
        [--batch-size 8] [--on-error skip|error] [--save-embeddings emb.npz] [--save-maps DIR]

INPUT: image files (PNG/JPEG, DICOM, NIfTI), DICOM series folders, or folders searched for
them. The CSV has one row per image read: ``path, modality``, ``zs_<class>`` zero-shot
probabilities (by default when the config has ``model.zero_shot_prompts``) and, with
``--reports``, ``top<k>_index, top<k>_report, top<k>_score`` for the k closest reports.
``--save-maps DIR`` writes one figure per image of where the model looks (the EMA teacher's
[CLS] attention; for CTs the slice scores and the slices the selector keeps) to
``DIR/<row>_<name>.png`` and adds a ``map`` column with its path.
"""
import argparse
import csv
import os.path as osp
import sys

import numpy as np

from unimedi.apis import UniMedIInferencer, list_image_files, rank_by_similarity
from unimedi.io.readers import MedicalImageError
from unimedi.io.text_files import open_text
from unimedi.utils.cli import KeepSpacesDictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Image embeddings, zero-shot scores and '
                                     'report retrieval with a trained UniMedI')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file (.pth or .safetensors)')
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='image files, DICOM series folders or folders to search')
    parser.add_argument('--out', required=True, help='the CSV to write')
    parser.add_argument('--reports', help='candidate reports: a text file with one report '
                        "per line, or a CSV with a 'report' column")
    parser.add_argument('--top-k', type=int, default=3, help='reports kept per image')
    parser.add_argument('--zero-shot', action=argparse.BooleanOptionalAction, default=None,
                        help='zero-shot probability columns (default: when the config has '
                        'model.zero_shot_prompts)')
    parser.add_argument('--device', default='cpu', help="e.g. 'cpu', 'cuda:0'")
    parser.add_argument('--batch-size', type=int, default=8, help='images per forward pass')
    parser.add_argument('--modality', choices=['2d', '3d'],
                        help='require one modality (default: what each file holds)')
    parser.add_argument('--on-error', choices=['skip', 'error'], default='skip',
                        help='unreadable images: leave them out and list them (skip) or stop '
                        '(error)')
    parser.add_argument('--save-embeddings', metavar='NPZ',
                        help='also save image (and report) embeddings to this .npz')
    parser.add_argument('--save-maps', metavar='DIR',
                        help='also write an attention / slice-selection figure per image')
    parser.add_argument('--no-recursive', action='store_true',
                        help='do not search sub-folders of INPUT folders')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    parser.add_argument('--cfg-options', nargs='+', action=KeepSpacesDictAction,
                        help='override config keys, e.g. model.embed_dim=64')
    return parser.parse_args(argv)


def collect_images(inputs, recursive: bool = True) -> list:
    """Files as given; folders expanded with ``list_image_files``."""
    paths = []
    for item in inputs:
        if osp.isdir(item):
            found = list_image_files(item, recursive=recursive)
            if not found:
                print(f'warning: no images found in {item}', file=sys.stderr)
            paths.extend(found)
        else:
            paths.append(item)  # a missing file is reported by the loader
    return paths


def read_reports(path: str) -> list:
    """Reports of a text file (one per non-empty line) or of a CSV's 'report' column.

    Raises:
        SystemExit: the CSV has no 'report' column, or the file is not valid UTF-8 (names
            the line and the byte).
    """
    try:
        with open_text(path, newline='') as f:
            if path.lower().endswith('.csv'):
                reader = csv.DictReader(f)
                if 'report' not in (reader.fieldnames or []):
                    raise SystemExit(f"{path}: a CSV of reports needs a 'report' column, "
                                     f'found {reader.fieldnames}')
                return [row['report'] or '' for row in reader]
            return [line.strip() for line in f if line.strip()]
    except ValueError as exc:  # not UTF-8
        raise SystemExit(f'error: {exc}')


def table_rows(result, zero_shot: dict, rankings: list, top_k: int):
    """The CSV header and one row per embedded image."""
    header = ['path', 'modality'] + [f'zs_{name}' for name in zero_shot]
    for k in range(1, top_k + 1):
        header += [f'top{k}_index', f'top{k}_report', f'top{k}_score']
    rows = []
    for i, (path, modality) in enumerate(zip(result.paths, result.modalities)):
        row = [path, modality] + [f'{float(p[i]):.6f}' for p in zero_shot.values()]
        for index, report, score in (rankings[i] if rankings else []):
            row += [index, report, f'{score:.6f}']
        rows.append(row)
    return header, rows


def map_name(row: int, path: str) -> str:
    """``<row>_<file or folder name without extension>.png``: unique per CSV row."""
    name = osp.basename(osp.normpath(path))
    for suffix in ('.nii.gz', '.nii', '.dcm', '.png', '.jpg', '.jpeg'):
        if name.lower().endswith(suffix):
            name = name[:-len(suffix)]
            break
    safe = ''.join(c if c.isalnum() or c in '-_.' else '_' for c in name) or 'image'
    return f'{row:04d}_{safe}.png'


def save_maps(inferencer, result, out_dir: str, batch_size: int, progress: bool,
              modality: str | None = None) -> list:
    """One figure per embedded image of ``result``; returns their paths, row by row."""
    from unimedi.visualization import explanation_figure, save

    explanations = inferencer.explain(result.paths, modality=modality, batch_size=batch_size,
                                      progress=progress)
    written = []
    for row, (path, explanation) in enumerate(zip(result.paths, explanations)):
        figure = explanation_figure(explanation, title=osp.basename(osp.normpath(path)))
        written.append(save(figure, osp.join(out_dir, map_name(row, path))))
    return written


def main(argv=None):
    args = parse_args(argv)
    if args.top_k < 1 or args.batch_size < 1:
        raise SystemExit('--top-k and --batch-size must be positive')
    reports = read_reports(args.reports) if args.reports else None
    if reports == []:
        raise SystemExit(f'{args.reports}: no reports')
    paths = collect_images(args.inputs, recursive=not args.no_recursive)
    if not paths:
        raise SystemExit(f'no images in {args.inputs}')
    inferencer = UniMedIInferencer(args.config, args.checkpoint, device=args.device,
                                   cfg_options=args.cfg_options)
    zero_shot = bool(inferencer.zero_shot_classes) if args.zero_shot is None else args.zero_shot
    progress = not args.no_progress
    report_embeddings = None
    if reports:  # first: a bad report fails before the (long) image pass
        try:
            report_embeddings = inferencer.embed_reports(reports, progress=progress)
        except ValueError as exc:
            raise SystemExit(f'error: {args.reports}: {exc}')
    try:
        result = inferencer.encode_images(
            paths, modality=args.modality, batch_size=args.batch_size, progress=progress,
            on_error='raise' if args.on_error == 'error' else 'skip')
    except MedicalImageError as exc:
        raise SystemExit(f'error: {exc}\n(--on-error skip leaves unreadable images out)')
    if not len(result):
        for skipped in result.skipped:
            print(f'  {skipped.path}: {skipped.reason}', file=sys.stderr)
        raise SystemExit(f'no image could be read ({len(result.skipped)} skipped)')
    try:
        scores = inferencer.zero_shot(result.embeddings) if zero_shot else {}
    except ValueError as exc:
        raise SystemExit(f'error: {args.config}: {exc}')
    rankings, top_k = None, 0
    if reports:
        top_k = min(args.top_k, len(reports))
        rankings = rank_by_similarity(result.embeddings, report_embeddings, reports, top_k)
    header, rows = table_rows(result, scores, rankings, top_k)
    if args.save_maps:
        try:
            maps = save_maps(inferencer, result, args.save_maps, args.batch_size, progress,
                             args.modality)
        except TypeError as exc:
            raise SystemExit(f'error: --save-maps: {exc}')
        header.append('map')
        for row, path in zip(rows, maps):
            row.append(path)
        print(f'{len(maps)} attention maps written to {args.save_maps}')
    with open(args.out, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    if args.save_embeddings:
        arrays = dict(image_embeddings=result.embeddings.numpy(), paths=np.array(result.paths),
                      modalities=np.array(result.modalities))
        if reports:
            arrays.update(report_embeddings=report_embeddings.numpy(), reports=np.array(reports))
        np.savez(args.save_embeddings, **arrays)
        print(f'embeddings saved to {args.save_embeddings}')
    print(f'wrote {len(rows)} rows to {args.out}; skipped {len(result.skipped)} of '
          f'{len(paths)} inputs' + (':' if result.skipped else ''))
    for skipped in result.skipped:
        print(f'  {skipped.path}: {skipped.reason}')


if __name__ == '__main__':
    main()
