# Runtime of the downstream classification protocols: validate every epoch, keep the best
# checkpoint on the validation metric, stop early when it stops improving, record the
# samples used, and (tools/train.py) test the best checkpoint after training.
_base_ = ['./default_runtime.py']

val_metric = 'cls/auc'  # macro AUC: multi-label AUC, or one-vs-rest AUC for multi-class
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=val_metric, rule='greater'),
)
custom_hooks = [
    # MGCA's protocol: patience 10 epochs on the validation metric
    dict(type='EarlyStoppingHook', monitor=val_metric, rule='greater', min_delta=0.0,
         patience=10),
    dict(type='SaveSampleListsHook'),
]
log_processor = dict(by_epoch=True, window_size=20)
test_after_train = True
