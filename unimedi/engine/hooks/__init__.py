from .atomic_checkpoint_hook import AtomicCheckpointHook
from .feature_quality_hook import FeatureQualityHook
from .finite_loss_hook import FiniteLossHook
from .mean_over_ranks_hook import MeanOverRanksHook
from .rng_state_hook import RNGStateHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .save_sample_lists_hook import SaveSampleListsHook
from .seg_overlay_hook import SaveSegOverlaysHook
from .teacher_ema_hook import TeacherEMAHook, cosine_momentum

__all__ = ['AtomicCheckpointHook', 'FeatureQualityHook', 'FiniteLossHook', 'MeanOverRanksHook',
           'RNGStateHook', 'SafeCheckpointHook', 'SaveSampleListsHook', 'SaveSegOverlaysHook',
           'TeacherEMAHook', 'cosine_momentum']
