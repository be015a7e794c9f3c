from .feature_quality_hook import FeatureQualityHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .save_sample_lists_hook import SaveSampleListsHook
from .seg_overlay_hook import SaveSegOverlaysHook
from .teacher_ema_hook import TeacherEMAHook, cosine_momentum

__all__ = ['FeatureQualityHook', 'SafeCheckpointHook', 'SaveSampleListsHook', 'TeacherEMAHook',
           'cosine_momentum',
           'SaveSegOverlaysHook']
