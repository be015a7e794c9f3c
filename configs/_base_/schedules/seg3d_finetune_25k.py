# UNETR's schedule on BCV, fine-tuning: the 25k frozen-encoder schedule with the encoder at
# 0.1x the decoder's learning rate (as seg3d_finetune.py on seg3d_frozen.py).
_base_ = ['./seg3d_frozen_25k.py']
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
