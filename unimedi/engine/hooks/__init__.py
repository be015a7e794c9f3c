from .safe_checkpoint_hook import SafeCheckpointHook
from .teacher_ema_hook import TeacherEMAHook, cosine_momentum

__all__ = ['SafeCheckpointHook', 'TeacherEMAHook', 'cosine_momentum']
