"""Draw phantom cases to PNG: a CT (three orthogonal slices through its lesions, mask
outlined), a radiograph with its mask, and their reports. Files are read back through
unimedi's own loaders, so the figure shows what a model gets.

    python tools/analysis/show_phantom.py data/phantoms --out docs/phantom_example.png
"""
import argparse
import json
import os.path as osp
import textwrap

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from unimedi.datasets.transforms import LoadMedicalImage, LoadMedicalMask  # noqa: E402

COLOURS = ['#e41a1c', '#ff7f00', '#ffff33', '#4daf4a', '#377eb8', '#984ea3', '#f781bf']


def parse_args():
    parser = argparse.ArgumentParser(description='Draw a phantom CT and radiograph')
    parser.add_argument('root', help='phantom folder written by tools/data/make_phantoms.py')
    parser.add_argument('--out', default='phantom_example.png', help='output PNG')
    parser.add_argument('--ct', help='case_id of the CT (default: the first with findings)')
    parser.add_argument('--xray', help='case_id of the radiograph (default: first abnormal)')
    return parser.parse_args()


def pick(rows, modality, case_id):
    candidates = [r for r in rows if r['modality'] == modality]
    if case_id:
        candidates = [r for r in candidates if r['case_id'] == case_id]
    else:
        candidates = sorted(candidates, key=lambda r: -len(r['labels']))
    if not candidates:
        raise SystemExit(f'no {modality} case {case_id or ""} in the manifest')
    return candidates[0]


def load(root, row):
    results = dict(img_path=osp.join(root, row['path']), modality=row['modality'],
                   seg_map_path=osp.join(root, row['mask']))
    results = LoadMedicalImage()(results)
    return LoadMedicalMask()(results)


def outline(ax, mask, classes):
    for value in np.unique(mask[mask > 0]):
        ax.contour(mask == value, levels=[0.5], colors=COLOURS[(value - 1) % len(COLOURS)],
                   linewidths=1.0)
        ax.plot([], [], color=COLOURS[(value - 1) % len(COLOURS)], label=classes[value - 1])


def main():
    args = parse_args()
    rows = [json.loads(line) for line in open(osp.join(args.root, 'manifest.jsonl'))]
    classes = json.load(open(osp.join(args.root, 'meta.json')))['classes']
    ct, xray = pick(rows, '3d', args.ct), pick(rows, '2d', args.xray)
    ct_data, xray_data = load(args.root, ct), load(args.root, xray)
    volume = np.clip(ct_data['img'][0], -1000, 400)
    mask = ct_data['gt_seg']
    # Cut through the smallest lesion (a nodule is lost in a slice through an effusion).
    values, counts = np.unique(mask[mask > 0], return_counts=True)
    centre = (np.argwhere(mask == values[np.argmin(counts)]).mean(0) if values.size
              else np.array(volume.shape) / 2)
    d, h, w = np.round(centre).astype(int)
    sd, sh, sw = ct_data['spacing']
    fig = plt.figure(figsize=(16, 6.5))
    grid = fig.add_gridspec(2, 4, height_ratios=[3, 1])
    # Display: anterior up and patient's right on the viewer's left (radiological view).
    views = [('axial', volume[d][::-1, ::-1], mask[d][::-1, ::-1], sw / sh),
             ('coronal', volume[:, h][::-1, ::-1], mask[:, h][::-1, ::-1], sd / sw),
             ('sagittal', volume[:, :, w][::-1, ::-1], mask[:, :, w][::-1, ::-1], sd / sh)]
    for i, (name, image, labels, aspect) in enumerate(views):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(image, cmap='gray', aspect=aspect)
        outline(ax, labels, classes)
        ax.set_title(f'{ct["case_id"]} {name} (lung window)')
        ax.axis('off')
    ax = fig.add_subplot(grid[0, 3])
    ax.imshow(xray_data['img'][0], cmap='gray', vmin=0, vmax=1)
    outline(ax, xray_data['gt_seg'], classes)
    ax.set_title(f'{xray["case_id"]} radiograph')
    ax.legend(loc='lower right', fontsize=7)
    ax.axis('off')
    for i, row in enumerate((ct, xray)):
        ax = fig.add_subplot(grid[1, i * 2:(i + 1) * 2])
        text = '\n'.join(textwrap.fill(line, 95) for line in row['report'].splitlines())
        ax.text(0, 1, f'{row["case_id"]} labels: {row["labels"]}\n{text}', va='top',
                fontsize=8, family='monospace', wrap=True)
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(args.out, dpi=80)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
