"""``SafeCheckpointHook``: runner checkpoints that load with ``weights_only=True``."""
from __future__ import annotations

from mmengine.hooks import Hook

from unimedi.registry import HOOKS
from ..checkpoint import restore_history_buffers, to_weights_only


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Save checkpoints as tensors and plain containers only; restore logs on resume.

    MMEngine stores its log history as ``HistoryBuffer`` objects and numpy arrays, which
    ``torch.load`` refuses by default since torch 2.6 (and which, when allowed, open the
    door to unpickling arbitrary objects). This hook converts them before saving and back
    after loading, so every checkpoint of a unimedi run resumes with safe loading. See
    :mod:`unimedi.engine.checkpoint`.
    """

    priority = 'VERY_LOW'  # after other hooks have added their entries

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in list(checkpoint):
            if key not in ('state_dict', 'optimizer'):
                checkpoint[key] = to_weights_only(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = restore_history_buffers(checkpoint['message_hub'])
