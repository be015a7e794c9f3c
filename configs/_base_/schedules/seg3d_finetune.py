# Fine-tuning the encoder with the UNETR decoder: the frozen-encoder schedule (AdamW 1e-3,
# 50 warm-up iterations then cosine to 2000 iterations, validation every 200), with the
# encoder learning at 0.1x the decoder's rate (mmengine's custom_keys). A config that
# changes max_iters re-assigns train_cfg and param_scheduler.
_base_ = ['./seg3d_frozen.py']
# MMEngine's own constructor: nothing is frozen here, and the encoder's no-decay keys would
# take precedence over 'backbone' (the longer key wins) and drop its lr_mult.
optim_wrapper = dict(constructor='DefaultOptimWrapperConstructor',
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
