# Runtime of the 3D segmentation protocols (VolumeSegmentor): iteration-based training on
# random crops, validation every `val_interval` iterations (sliding windows over whole
# volumes), the best checkpoint on the mean Dice of the foreground classes, early stopping
# after 10 validations without improvement, the samples used, and (tools/train.py) the test
# of the best checkpoint after training (metrics.json).
_base_ = ['./default_runtime.py']

val_metric = 'dice/mean'  # SegDiceMetric: mean over the foreground classes, in [0, 1]
default_hooks = dict(
    logger=dict(interval=20),
    # interval = the val_interval of configs/_base_/schedules/seg3d_*.py
    checkpoint=dict(by_epoch=False, interval=200, max_keep_ckpts=1, save_best=val_metric,
                    rule='greater'),
)
custom_hooks = [
    dict(type='EarlyStoppingHook', monitor=val_metric, rule='greater', min_delta=0.0,
         patience=10),
    dict(type='SaveSampleListsHook'),
]
log_processor = dict(by_epoch=False, window_size=20)
test_after_train = True
