"""Training curves of one or more UniMedI pre-training runs, as one PNG.

    python tools/analysis/plot_curves.py work_dirs/run_a [work_dirs/run_b ...] \
        --out curves.png [--keys loss_vl sel_prec probe_auc ...] [--smooth 20] \
        [--labels A B ...]

Each work dir's latest run is read: ``<work_dir>/<last timestamp>/vis_data/scalars.json``
(see ``unimedi.utils.training_log.load_rows``). x is the iteration (a row's ``iter``, else
its ``step``). One colour per run, labelled by the work dir's basename (or ``--labels``).

Panels (a grid of 3 columns, in this order; a panel whose keys no run has is left out):

- one per loss key (``loss``, ``loss_vl``, ``loss_icl``, ``loss_pcl``, ``loss_koleo``, any
  other ``loss_*``);
- ``i2t_acc``: in-batch image-to-text accuracy;
- ``sel_prec``: precision of the selected CT slices, with ``sel_chance`` (the precision
  of a random selection) dashed in the same panel;
- ``lr``: the learning rate (``lr`` solid, ``base_lr`` dashed);
- one per kind of ``FeatureQualityHook`` monitor (``monitor/<encoder>_<modality>_<kind>``:
  ``probe_auc``, ``rank``, ``dino_entropy``, ``dino_spread``; plus ``center_norm`` /
  ``center_norm_<modality>``), one line per encoder and modality (solid student, dashed
  teacher; circles 2d, squares 3d), with markers at the measured steps.

``--keys`` keeps only the named panels: a loss key, ``i2t_acc``, ``sel_prec``, ``lr``, a
monitor kind (``probe_auc`` or ``monitor/probe_auc``); any other scalar key (e.g. a
validation metric such as ``zero_shot/auc``) gets its own panel, drawn as points.
Without ``--keys`` validation rows (``retrieval/...``, ``zero_shot/...``) are ignored.
``--smooth N`` draws a trailing moving average over N rows of each training curve, the raw
curve faint behind; monitors (a few sparse points), the learning rate and ``sel_chance``
are never smoothed.

What to look for:

- ``sel_prec`` above ``sel_chance``: the slice selection finds the lesion slices (at
  ``sel_chance`` it is no better than random);
- a probe AUC rising while the losses fall: the features learn the findings (losses
  falling with a flat probe AUC: the model learns something else, e.g. shortcuts);
- a ``rank`` collapsing to a few: the features lie on few directions (collapse); the DINO
  entropies falling to 0 or staying at log(K) tell the same of the distillation targets.

Image size: panels are ``PANEL_SIZE`` inches at ``DPI``, the grid ``COLUMNS`` wide, and the
figure is saved without ``bbox_inches='tight'``, so for n panels the PNG is
``COLUMNS * PANEL_SIZE[0] * DPI`` by ``ceil(n / COLUMNS) * PANEL_SIZE[1] * DPI`` pixels
(``expected_size(n)``): 1200 x 300 per row of 3 panels.
"""
from __future__ import annotations

import argparse
import math
import os.path as osp
import re

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from unimedi.utils.training_log import load_rows, moving_average, series  # noqa: E402

COLUMNS = 3
PANEL_SIZE = (4.0, 3.0)  # inches (width, height)
DPI = 100
NON_METRIC = {'iter', 'step', 'epoch', 'time', 'data_time', 'memory'}
MONITOR_RE = re.compile(r'^(?P<encoder>.+?)_(?P<modality>2d|3d)_(?P<kind>.+)$')
ENCODER_STYLE = {'student': '-', 'teacher': '--'}
MODALITY_MARKER = {'2d': 'o', '3d': 's'}
UNSMOOTHED = {'lr', 'base_lr', 'sel_chance'}  # schedules and references: drawn as logged


def expected_size(n_panels: int) -> tuple[int, int]:
    """The PNG's ``(width, height)`` in pixels for ``n_panels`` panels."""
    rows = max(1, math.ceil(n_panels / COLUMNS))
    return (round(COLUMNS * PANEL_SIZE[0] * DPI), round(rows * PANEL_SIZE[1] * DPI))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot UniMedI training curves')
    parser.add_argument('work_dirs', nargs='+', help='work dirs of tools/train.py runs')
    parser.add_argument('--out', required=True, help='the PNG to write')
    parser.add_argument('--keys', nargs='+', default=None, help='only these panels')
    parser.add_argument('--smooth', type=int, default=1, help='moving average over N rows')
    parser.add_argument('--labels', nargs='+', default=None, help='one label per work dir')
    args = parser.parse_args(argv)
    if args.labels is not None and len(args.labels) != len(args.work_dirs):
        parser.error(f'{len(args.labels)} labels for {len(args.work_dirs)} work dirs')
    return args


def monitor_line(name: str) -> tuple[str, str, str | None, str | None]:
    """``(kind, line label, encoder, modality)`` of a monitor name (``monitor/`` dropped)."""
    if name.startswith('center_norm'):
        modality = name[len('center_norm_'):] or None
        return 'center_norm', modality or 'center', None, modality
    match = MONITOR_RE.match(name)
    if match is None:
        return name, name, None, None
    return (match['kind'], f'{match["encoder"]} {match["modality"]}', match['encoder'],
            match['modality'])


def plan_panels(runs: list[list[dict]], keys: list[str] | None = None) -> list[dict]:
    """The panels to draw, in order: dicts with ``title``, ``kind`` (``'train'``,
    ``'monitor'`` or ``'points'``) and ``lines``: ``(key, line label, style dict)``."""
    present: dict[str, None] = {}
    for rows in runs:
        for row in rows:
            present.update({k: None for k, v in row.items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool)})
    losses = [k for k in ('loss', 'loss_vl', 'loss_icl', 'loss_pcl', 'loss_koleo')
              if k in present]
    losses += sorted(k for k in present if k.startswith('loss_') and k not in losses)
    panels = [dict(id=k, title=k, kind='train', lines=[(k, None, {})]) for k in losses]
    if 'i2t_acc' in present:
        panels.append(dict(id='i2t_acc', title='i2t_acc', kind='train',
                           lines=[('i2t_acc', None, {})]))
    if 'sel_prec' in present:
        lines = [('sel_prec', 'sel_prec', {})]
        if 'sel_chance' in present:
            lines.append(('sel_chance', 'sel_chance', dict(linestyle='--')))
        panels.append(dict(id='sel_prec', title='sel_prec (dashed: sel_chance)',
                           kind='train', lines=lines))
    lr_lines = [(k, k, dict(linestyle=s)) for k, s in (('lr', '-'), ('base_lr', '--'))
                if k in present]
    if lr_lines:
        panels.append(dict(id='lr', title='learning rate', kind='train', lines=lr_lines))
    kinds: dict[str, list] = {}
    for key in present:
        if key.startswith('monitor/'):
            kind, label, encoder, modality = monitor_line(key[len('monitor/'):])
            style = dict(linestyle=ENCODER_STYLE.get(encoder, ':') if encoder else '-',
                         marker=MODALITY_MARKER.get(modality, '.'), markersize=4)
            kinds.setdefault(kind, []).append((key, label, style))
    for kind, lines in kinds.items():
        panels.append(dict(id=f'monitor/{kind}', title=f'monitor: {kind}', kind='monitor',
                           lines=sorted(lines, key=lambda line: line[1])))
    if keys is None:
        return panels
    known = {p['id']: p for p in panels}
    chosen = []
    for key in keys:
        panel = known.get(key) or known.get(f'monitor/{key}')
        if panel is None and key in present:  # any other scalar key: a panel of points
            panel = dict(id=key, title=key, kind='points',
                         lines=[(key, None, dict(linestyle='none', marker='o'))])
        if panel is not None and panel not in chosen:
            chosen.append(panel)
    return chosen


def draw(runs: list[list[dict]], labels: list[str], panels: list[dict], out: str,
         smooth: int = 1) -> None:
    """Draw ``panels`` for ``runs`` (rows per run, one colour each) into the PNG ``out``."""
    n_rows = max(1, math.ceil(len(panels) / COLUMNS))
    fig, axes = plt.subplots(n_rows, COLUMNS, squeeze=False,
                             figsize=(COLUMNS * PANEL_SIZE[0], n_rows * PANEL_SIZE[1]))
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    for ax, panel in zip(axes.flat, panels):
        for r, (rows, run_label) in enumerate(zip(runs, labels)):
            colour = colours[r % len(colours)]
            for key, line_label, style in panel['lines']:
                steps, values = series(rows, key)
                if steps.size == 0:
                    continue
                parts = [p for p in (run_label if len(runs) > 1 else None, line_label) if p]
                label = ' '.join(parts) or None
                if panel['kind'] == 'train' and smooth > 1 and key not in UNSMOOTHED:
                    ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8,
                            **{k: v for k, v in style.items() if k == 'linestyle'})
                    values = moving_average(values, smooth)
                ax.plot(steps, values, color=colour, label=label, linewidth=1.2, **style)
        ax.set_title(panel['title'], fontsize=9)
        ax.set_xlabel('iteration', fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[1]:
            ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    runs = [load_rows(d) for d in args.work_dirs]
    labels = args.labels or [osp.basename(osp.normpath(d)) for d in args.work_dirs]
    panels = plan_panels(runs, args.keys)
    if not panels:
        found = sorted({k for rows in runs for row in rows for k in row} - NON_METRIC)
        wanted = f' (--keys {" ".join(args.keys)})' if args.keys else ''
        raise SystemExit(f'nothing to plot{wanted}; keys found: {", ".join(found) or "none"}')
    draw(runs, labels, panels, args.out, args.smooth)
    print(f'{args.out}: {len(panels)} panels, {"x".join(map(str, expected_size(len(panels))))} px')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
