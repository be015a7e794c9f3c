"""Copy the demo's figures into docs/ for the README, as small palette PNGs.

    bash tools/demo.sh
    python tools/misc/update_docs_figures.py work_dirs/vit_tiny_pretrain_phantom [--docs docs]

Writes ``selection_index.png``, ``selection_ct.png`` (the index's median CT),
``selection_xray.png`` (the index's best radiograph), ``embedding_map.png`` and
``curves.png``, each quantised to 128 colours (a fifth of the size, same pixels).
"""
import argparse
import json
import os
import os.path as osp

from PIL import Image


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dir', help='the work dir of tools/demo.sh')
    parser.add_argument('--docs', default='docs', help='where the figures go')
    parser.add_argument('--colors', type=int, default=128)
    return parser.parse_args(argv)


def ranked(summary: dict, modality: str) -> list[str]:
    """Case names of a modality with a precision, best first (as the index ranks them)."""
    cases = summary['modalities'].get(modality, {}).get('cases', {})
    scored = [(-c['precision'], name) for name, c in cases.items() if c['precision'] is not None]
    return [name for _, name in sorted(scored)]


def sources(work_dir: str) -> dict:
    """``{docs name: figure path}`` of a demo work dir."""
    figures = osp.join(work_dir, 'figures')
    selection = osp.join(figures, 'selection')
    summary_path = osp.join(selection, 'summary.json')
    if not osp.isfile(summary_path):
        raise SystemExit(f'{summary_path} not found: run tools/demo.sh (or '
                         'tools/analysis/visualize_selection.py) first')
    with open(summary_path) as f:
        summary = json.load(f)
    cts, xrays = ranked(summary, '3d'), ranked(summary, '2d')
    if not cts or not xrays:
        raise SystemExit(f'{summary_path}: no CT or no radiograph with a known lesion')
    return {'selection_index.png': osp.join(selection, 'index.png'),
            'selection_ct.png': osp.join(selection, 'ct', f'{cts[len(cts) // 2]}.png'),
            'selection_xray.png': osp.join(selection, 'xray', f'{xrays[0]}.png'),
            'embedding_map.png': osp.join(figures, 'embedding_map.png'),
            'curves.png': osp.join(figures, 'curves.png')}


def main(argv=None) -> dict:
    args = parse_args(argv)
    os.makedirs(args.docs, exist_ok=True)
    written = {}
    for name, source in sources(args.work_dir).items():
        if not osp.isfile(source):
            raise SystemExit(f'{source} not found: run tools/demo.sh first')
        out = osp.join(args.docs, name)
        Image.open(source).convert('RGB').quantize(colors=args.colors).save(out, optimize=True)
        written[name] = out
        print(f'{source} -> {out} ({osp.getsize(out) // 1024} KB)')
    return written


if __name__ == '__main__':
    main()
