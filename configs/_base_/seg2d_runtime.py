# Runtime of the 2D segmentation protocols (mmseg EncoderDecoder, iteration-based
# schedules): keep the best checkpoint on the foreground Dice (SegDiceMetric; checked at every
# validation), stop early after 10 validations without improvement, record the samples
# used, and (tools/train.py) test the best checkpoint after training.
_base_ = ['./default_runtime.py']

val_metric = 'dice/mean'  # SegDiceMetric: mean over the foreground classes, in [0, 1]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=2000, max_keep_ckpts=1, save_best=val_metric,
                    rule='greater'),
)
custom_hooks = [
    dict(type='EarlyStoppingHook', monitor=val_metric, rule='greater', min_delta=0.0,
         patience=10),
    dict(type='SaveSampleListsHook'),
]
log_processor = dict(by_epoch=False, window_size=20)
test_after_train = True
