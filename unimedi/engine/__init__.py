"""Runner parts: hooks, optimizer constructors and the checkpoint policy."""
from .checkpoint import load_state_dict_file, restore_history_buffers, to_weights_only
from .fsdp import clip_sharded_grad_norm_, transformer_layer_wrap_policy
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import ConsoleDigestFilter, UniMedIRunner

__all__ = ['load_state_dict_file', 'to_weights_only', 'restore_history_buffers', 'UniMedIRunner',
           'ConsoleDigestFilter', 'transformer_layer_wrap_policy', 'clip_sharded_grad_norm_']
