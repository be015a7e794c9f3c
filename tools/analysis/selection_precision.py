"""How well does the slice selector find the lesions? Precision of the selected CT slices
against the known lesion slices, beside chance (the fraction of lesion slices), over a
split, for a checkpoint and for a random initialisation.

    python tools/analysis/selection_precision.py configs/unimedi/vit_tiny_pretrain_phantom.py \
        work_dirs/vit_tiny_pretrain_phantom/iter_1000.pth [--split test]

The selection uses the EMA teacher's [CLS] attention, as in training.
"""
import argparse

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from unimedi.utils.cli import KeepSpacesDictAction
from unimedi.utils.config_checks import check_cfg_options


def parse_args():
    parser = argparse.ArgumentParser(description='Precision of the selected CT slices')
    parser.add_argument('config', help='a UniMedI config')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (omit for random init)')
    parser.add_argument('--split', default='test', help='manifest split to evaluate')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0, help='seed of the random init')
    parser.add_argument('--cfg-options', nargs='+', action=KeepSpacesDictAction,
                        help='override config keys, e.g. model.selection_attention_layers=1')
    return parser.parse_args()


@torch.no_grad()
def selection_precision(model, dataset, batch_size: int = 8) -> dict:
    """Mean precision of the selected slices and mean chance, over 3D samples with lesions."""
    indices = [i for i in range(len(dataset))
               if dataset.get_data_info(i)['modality'] == '3d'
               and dataset.get_data_info(i).get('lesion_slices')]
    precision, chance = [], []
    for start in range(0, len(indices), batch_size):
        batch = pseudo_collate([dataset[i] for i in indices[start:start + batch_size]])
        data = model.data_preprocessor(batch, False)
        volume = data['inputs']['3d']
        teacher = model.teacher_pass(volume, '3d')
        selected = model.slice_selector(teacher['cls_attention'], teacher['grid'],
                                        volume.shape[2])
        hits, chances = model.selection_precision(selected, data['data_samples'],
                                                  volume.shape[2])
        precision += [float(h) for h in hits]
        chance += [float(c) for c in chances]
    if not precision:
        raise SystemExit('no 3D samples with lesion slices in this split')
    mean_precision = sum(precision) / len(precision)
    mean_chance = sum(chance) / len(chance)
    return dict(samples=len(precision), sel_prec=mean_precision, sel_chance=mean_chance,
                lift=mean_precision / mean_chance)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        check_cfg_options(cfg, args.cfg_options)  # a typo or a wrong type fails here
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'unimedi'))
    from unimedi.engine.checkpoint import load_state_dict_file
    from unimedi.registry import DATASETS, MODELS
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model)
    if model.slice_selector is None:
        raise SystemExit('the config has no slice_selector')
    if args.checkpoint:
        model.load_state_dict(load_state_dict_file(args.checkpoint))
    model.eval()
    dataset_cfg = cfg.test_dataloader.dataset.copy()
    dataset_cfg.split = args.split
    result = selection_precision(model, DATASETS.build(dataset_cfg), args.batch_size)
    source = args.checkpoint or f'random init (seed {args.seed})'
    print(f'{source}: {result["samples"]} CTs with lesions in split {args.split!r}: '
          f'sel_prec {result["sel_prec"]:.4f}, chance {result["sel_chance"]:.4f}, '
          f'lift {result["lift"]:.2f}x')


if __name__ == '__main__':
    main()
