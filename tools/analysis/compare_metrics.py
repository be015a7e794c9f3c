"""Print metrics.json files side by side.

    python tools/analysis/compare_metrics.py "a=work_dirs/a/metrics.json" "b=..."
"""
import argparse
import json


def parse_args():
    parser = argparse.ArgumentParser(description='Compare metrics.json files')
    parser.add_argument('runs', nargs='+', help='NAME=PATH pairs')
    return parser.parse_args()


def main():
    args = parse_args()
    runs = {}
    for item in args.runs:
        name, sep, path = item.partition('=')
        if not sep:
            raise SystemExit(f'expected NAME=PATH, got {item!r}')
        with open(path) as f:
            runs[name] = json.load(f)
    keys = sorted({k for metrics in runs.values() for k in metrics})
    width = max(len(k) for k in keys)
    print(f'{"metric":<{width}}  ' + '  '.join(f'{name:>12}' for name in runs))
    for key in keys:
        values = [runs[name].get(key) for name in runs]
        cells = [f'{v:>12.4f}' if isinstance(v, (int, float)) else f'{"-":>12}' for v in values]
        print(f'{key:<{width}}  ' + '  '.join(cells))


if __name__ == '__main__':
    main()
