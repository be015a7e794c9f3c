# The 1500-iteration one-volume schedule, fine-tuning: the encoder at 0.1x the decoder's
# learning rate (as seg3d_finetune.py on seg3d_frozen.py).
_base_ = ['./seg3d_frozen_1500.py']
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
