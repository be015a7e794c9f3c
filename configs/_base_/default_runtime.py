# Runtime shared by every unimedi config.
default_scope = 'unimedi'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    # a distributed run logs the mean loss of all ranks (a no-op in one process)
    mean_over_ranks=dict(type='MeanOverRanksHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # written atomically; old files are deleted only once the new one is complete
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Checkpoints hold tensors and plain containers only, so they (and resume) load with
    # torch.load(weights_only=True). See unimedi/engine/checkpoint.py.
    safe_checkpoint=dict(type='SafeCheckpointHook'),
    # the random generators' states go into every checkpoint: a resumed run repeats
    rng_state=dict(type='RNGStateHook'),
    # the first NaN / infinite loss stops training, naming the batch, before any save
    finite_loss=dict(type='FiniteLossHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; on a machine without CUDA, UniMedIRunner uses gloo
    dist_cfg=dict(backend='nccl'),
)

# True: also log to TensorBoard (pip install -e ".[tensorboard]"; tools/train.py adds
# MMEngine's TensorboardVisBackend); or --cfg-options tensorboard=True
tensorboard = False
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=False, window_size=10)
log_level = 'INFO'

load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
