from .autocast_optim_wrapper import AutocastOptimWrapper
from .layer_decay_constructor import LayerDecayOptimWrapperConstructor, vit_layer_id

__all__ = ['AutocastOptimWrapper', 'LayerDecayOptimWrapperConstructor', 'vit_layer_id']
