from .autocast_optim_wrapper import AutocastOptimWrapper
from .layer_decay_constructor import LayerDecayOptimWrapperConstructor, vit_layer_id
from .no_weight_decay_constructor import NoWeightDecayOptimWrapperConstructor, no_weight_decay_names

__all__ = [
    'AutocastOptimWrapper', 'LayerDecayOptimWrapperConstructor',
    'NoWeightDecayOptimWrapperConstructor', 'no_weight_decay_names', 'vit_layer_id'
]
