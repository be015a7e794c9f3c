"""Summarise a pre-training log by phases: losses, in-batch accuracy, and the precision of
the selected CT slices beside chance; then the quality monitors (``FeatureQualityHook``)
at every step they were measured.

    python tools/analysis/summarize_pretrain_log.py work_dirs/vit_tiny_pretrain_phantom [--phases 4]

Reads ``<work_dir>/<latest run>/vis_data/scalars.json`` (written by the runner's logger;
with ``logger.interval`` equal to the log window every iteration is counted once).
"""
import argparse

from unimedi.utils.training_log import load_rows

KEYS = ('loss_vl', 'loss_icl', 'loss_pcl', 'i2t_acc', 'sel_prec', 'sel_chance')
OPTIONAL_KEYS = ('loss_koleo', 'loss_mim')  # shown when the run has them


def parse_args():
    parser = argparse.ArgumentParser(description='Summarise a UniMedI pre-training log')
    parser.add_argument('work_dir', help='the work dir of a tools/train.py run')
    parser.add_argument('--phases', type=int, default=4, help='number of training phases')
    return parser.parse_args()


def load_scalars(work_dir: str) -> list[dict]:
    """The training rows (those with ``loss_vl``)."""
    return [r for r in load_rows(work_dir) if 'loss_vl' in r]


def monitor_table(rows: list[dict]) -> tuple[list[str], list[dict]]:
    """The monitor names (``monitor/`` dropped) and one row per measured step."""
    measured = [r for r in rows if any(k.startswith('monitor/') for k in r)]
    names: dict[str, None] = {}
    for row in measured:
        names.update({k[len('monitor/'):]: None for k in row if k.startswith('monitor/')})
    table = [dict(step=r.get('step', r.get('iter')),
                  **{k[len('monitor/'):]: v for k, v in r.items() if k.startswith('monitor/')})
             for r in measured]
    return list(names), table


def columns(rows: list[dict]) -> tuple[str, ...]:
    """``KEYS`` and the optional losses some row logged (KoLeo, masked pixels)."""
    return KEYS + tuple(k for k in OPTIONAL_KEYS if any(k in r for r in rows))


def summarise(rows: list[dict], phases: int) -> list[dict]:
    """Mean of each of :func:`columns` per phase (consecutive, equal numbers of log rows)."""
    size = max(1, len(rows) // phases)
    out = []
    for start in range(0, size * phases, size):
        chunk = rows[start:start + size]
        if not chunk:
            break
        summary = dict(iters=f'{chunk[0]["iter"]}-{chunk[-1]["iter"]}')
        for key in columns(rows):
            values = [r[key] for r in chunk if key in r]
            summary[key] = sum(values) / len(values) if values else None
        out.append(summary)
    return out


def print_monitors(rows: list[dict]) -> None:
    names, table = monitor_table(rows)
    if not table:
        return
    print('\nquality monitors (FeatureQualityHook):')
    width = max(len(n) for n in names)
    print(f'{"step":>{width}}  ' + '  '.join(f'{r["step"]:>8}' for r in table))
    for name in names:
        cells = [f'{r[name]:>8.3f}' if isinstance(r.get(name), (int, float)) else f'{"-":>8}'
                 for r in table]
        print(f'{name:>{width}}  ' + '  '.join(cells))


def main():
    args = parse_args()
    rows = load_rows(args.work_dir)
    training = [r for r in rows if 'loss_vl' in r]
    table, keys = summarise(training, args.phases), columns(training)
    print(f'{"iters":>10}  ' + '  '.join(f'{k:>10}' for k in keys))
    for row in table:
        cells = [f'{row[k]:>10.4f}' if row[k] is not None else f'{"-":>10}' for k in keys]
        print(f'{row["iters"]:>10}  ' + '  '.join(cells))
    print_monitors(rows)


if __name__ == '__main__':
    main()
