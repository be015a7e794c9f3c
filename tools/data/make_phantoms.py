"""Write the chest phantom dataset (CT NIfTI, radiograph PNG, masks, reports, manifest).

    python tools/data/make_phantoms.py --out data/phantoms --num-3d 300 --num-2d 1000 --seed 0
"""
import argparse
import json
import time

from unimedi.datasets.phantom import PhantomConfig, write_phantom_dataset


def parse_args():
    parser = argparse.ArgumentParser(description='Generate chest phantoms with reports')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num-3d', type=int, default=300, help='number of CT volumes')
    parser.add_argument('--num-2d', type=int, default=1000, help='number of radiographs')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--ct-shape', type=int, nargs=3, metavar=('D', 'H', 'W'),
                        default=PhantomConfig.ct_shape, help='CT voxels')
    parser.add_argument('--ct-spacing', type=float, nargs=3, metavar=('SD', 'SH', 'SW'),
                        default=PhantomConfig.ct_spacing, help='CT voxel size in mm')
    parser.add_argument('--xray-size', type=int, nargs=2, metavar=('H', 'W'),
                        default=PhantomConfig.xray_size, help='radiograph size in pixels')
    parser.add_argument('--workers', type=int, default=None, help='processes (default 2)')
    return parser.parse_args()


def main():
    args = parse_args()
    config = PhantomConfig(ct_shape=tuple(args.ct_shape), ct_spacing=tuple(args.ct_spacing),
                           xray_size=tuple(args.xray_size))
    start = time.perf_counter()
    meta = write_phantom_dataset(args.out, args.num_3d, args.num_2d, args.seed, config,
                                 workers=args.workers)
    elapsed = time.perf_counter() - start
    print(f'wrote {args.num_3d} CTs and {args.num_2d} radiographs to {args.out} '
          f'in {elapsed:.1f} s')
    print(json.dumps(meta['counts'], indent=2))


if __name__ == '__main__':
    main()
