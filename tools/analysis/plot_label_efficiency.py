"""Figures from ``feature_probe.py`` results: label efficiency and scaling.

    # macro AUC against the label fraction, one panel per modality, one line per source
    python tools/analysis/plot_label_efficiency.py efficiency work_dirs/probe.json \
        --reference "supervised from scratch, 100 %=2d:0.67" --out docs/label_efficiency.png

    # the 10 %-label lift over random init against pre-training samples seen
    python tools/analysis/plot_label_efficiency.py scaling 16000=probe_iter500.json \
        32000=probe_iter1000.json ... --baseline probe_random.json --out docs/scaling.png

``efficiency`` draws every source of the JSON files (later files add sources; the same
name in two files keeps the last). ``scaling`` takes one ``SAMPLES=JSON`` per checkpoint:
the lift is the checkpoint's ``--source`` minus the baseline's ``random init`` at
``--fraction`` %, per modality, with the spread over fraction seeds as error bars.
"""
import argparse
import json

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='mode', required=True)
    eff = sub.add_parser('efficiency', help='AUC against the label fraction')
    eff.add_argument('probes', nargs='+', help='feature_probe.py JSON files')
    eff.add_argument('--reference', action='append', default=[],
                     help='a horizontal line: "NAME=MODALITY:VALUE[,MODALITY:VALUE]"')
    eff.add_argument('--out', required=True)
    scale = sub.add_parser('scaling', help='10 %%-label lift against samples seen')
    scale.add_argument('points', nargs='+', help='SAMPLES=probe.json, one per checkpoint')
    scale.add_argument('--baseline', required=True, help='a probe JSON with "random init"')
    scale.add_argument('--source', default='pretrained', help='the source to read')
    scale.add_argument('--fraction', default='10', help='the label fraction, in percent')
    scale.add_argument('--out', required=True)
    return parser.parse_args(argv)


def load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)['results']


def merge(paths) -> dict:
    """``{modality: {source: {fraction: {...}}}}`` over the files."""
    merged: dict = {}
    for path in paths:
        for modality, sources in load(path).items():
            merged.setdefault(modality, {}).update(sources)
    return merged


def parse_reference(text: str) -> tuple[str, dict]:
    name, _, values = text.rpartition('=')
    if not name or not values:
        raise SystemExit(f'--reference {text!r}: expected "NAME=MODALITY:VALUE,..."')
    pairs = {}
    for item in values.split(','):
        modality, _, value = item.partition(':')
        pairs[modality.strip()] = float(value)
    return name, pairs


def fractions_of(table: dict) -> list[str]:
    return sorted((k for k in table if k != 'rank'), key=float)


def plot_efficiency(results: dict, references: list, out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    modalities = list(results)
    fig, axes = plt.subplots(1, len(modalities), figsize=(5.2 * len(modalities), 4.2),
                             squeeze=False)
    for ax, modality in zip(axes[0], modalities):
        for source, table in results[modality].items():
            fractions = fractions_of(table)
            means = [np.mean(table[f]['macro']) for f in fractions]
            stds = [np.std(table[f]['macro']) for f in fractions]
            ax.errorbar([float(f) for f in fractions], means, yerr=stds, marker='o',
                        capsize=3, label=source)
        for name, values in references:
            if modality in values:
                ax.axhline(values[modality], linestyle='--', color='grey', linewidth=1)
                ax.annotate(name, (1.0, values[modality]), textcoords='offset points',
                            xytext=(2, 3), fontsize=8, color='grey')
        ax.set_xscale('log')
        ax.set_xlabel('labelled training samples (%)')
        ax.set_ylabel('test macro AUC (linear probe)')
        ax.set_title(f'{modality.upper()} phantoms' if modality in ('2d', '3d') else modality)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f'written to {out}')


def scaling_points(points: list, baseline: dict, source: str, fraction: str) -> dict:
    """``{modality: [(samples, mean lift, std of the checkpoint's AUC), ...]}``."""
    lifts: dict = {}
    for entry in points:
        samples, _, path = entry.partition('=')
        if not path:
            raise SystemExit(f'{entry!r}: expected SAMPLES=probe.json')
        results = load(path)
        for modality, sources in results.items():
            if source not in sources:
                raise SystemExit(f'{path}: no source {source!r} (has {sorted(sources)})')
            random = np.mean(baseline[modality]['random init'][fraction]['macro'])
            values = sources[source][fraction]['macro']
            lifts.setdefault(modality, []).append(
                (float(samples), float(np.mean(values) - random), float(np.std(values))))
    return {m: sorted(v) for m, v in lifts.items()}


def plot_scaling(lifts: dict, fraction: str, out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for modality, rows in lifts.items():
        x, y, err = zip(*rows)
        ax.errorbar(x, y, yerr=err, marker='o', capsize=3, label=modality.upper())
    ax.axhline(0.0, color='grey', linewidth=1)
    ax.set_xscale('log')
    ax.set_xlabel('pre-training samples seen')
    ax.set_ylabel(f'linear probe AUC lift over random init ({fraction} % labels)')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f'written to {out}')


def main(argv=None):
    args = parse_args(argv)
    if args.mode == 'efficiency':
        plot_efficiency(merge(args.probes), [parse_reference(r) for r in args.reference],
                        args.out)
    else:
        lifts = scaling_points(args.points, load(args.baseline), args.source, args.fraction)
        for modality, rows in lifts.items():
            print(modality, ' '.join(f'{int(s)}: {lift:+.3f}' for s, lift, _ in rows))
        plot_scaling(lifts, args.fraction, args.out)


if __name__ == '__main__':
    main()
