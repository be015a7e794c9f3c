# Linear probe (MGCA's protocol): AdamW at a constant 5e-4, up to 50 epochs (early stopping
# with patience 10 is in configs/_base_/cls_runtime.py). The encoder is frozen by the
# config using this schedule (model.frozen=True): only the head is optimised.
max_epochs = 50
# The constructor keeps the frozen encoder out of the optimiser (and out of the log).
optim_wrapper = dict(type='OptimWrapper', constructor='NoWeightDecayOptimWrapperConstructor',
                     optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999),
                                    weight_decay=1e-6))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
