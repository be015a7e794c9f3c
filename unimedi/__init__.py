"""unimedi: UniMedI pre-training and downstream tasks on MMEngine registries."""
from .version import __version__

__all__ = ['__version__']
