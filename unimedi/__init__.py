"""unimedi: UniMedI pre-training and downstream tasks on MMEngine registries."""
from .utils.mmseg_compat import install_mmcv_ops_shim
from .version import __version__

# mmseg on mmcv-lite: must precede any import of mmseg.models (see utils/mmseg_compat.py)
install_mmcv_ops_shim()

__all__ = ['__version__']
