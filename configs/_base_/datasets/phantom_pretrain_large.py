# Pre-training on a larger phantom set written once, apart from the evaluation phantoms:
#   python tools/data/make_phantoms.py --out data/phantoms_pretrain --num-3d 2000 \
#       --num-2d 8000 --seed 1
# (seed 1: other cases than data/phantoms, seed 0, whose splits evaluate and probe). Every
# case is used for pre-training (split=None); validation, tests and the quality monitor
# stay on data/phantoms.
_base_ = ['./phantom_pretrain.py']
pretrain_root = 'data/phantoms_pretrain'
train_dataloader = dict(dataset=dict(data_root=pretrain_root, split=None))
