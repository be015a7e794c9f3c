"""The registries of unimedi: children of MMEngine's root registries, scope ``unimedi``.

Every registry knows where its modules live (``locations=``), so building from a config
with ``default_scope = 'unimedi'`` imports exactly the modules it needs.

``TOKENIZERS`` (2D/3D patch embeddings), ``ENCODERS``, ``SELECTORS``, ``HEADS`` and
``LOSSES`` are names over the one ``MODELS`` tree, as ``BACKBONES``/``NECKS`` are in
mmpretrain; each has its folder under ``unimedi/models/``. ``TEXT_TOKENIZERS`` holds the
report tokenizers and is a registry of its own, so a text tokenizer is never confused
with a vision tokenizer.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'STRATEGIES', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'TOKENIZERS', 'ENCODERS', 'SELECTORS', 'HEADS', 'LOSSES',
    'TEXT_TOKENIZERS', 'METRICS', 'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS',
    'INFERENCERS', 'FUNCTIONS'
]

# Runner and its parts
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, scope='unimedi',
                   locations=['unimedi.engine'])
RUNNER_CONSTRUCTORS = Registry('runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS,
                               scope='unimedi', locations=['unimedi.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, scope='unimedi', locations=['unimedi.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='unimedi', locations=['unimedi.engine'])
STRATEGIES = Registry('strategy', parent=MMENGINE_STRATEGIES, scope='unimedi',
                      locations=['unimedi.engine'])
LOG_PROCESSORS = Registry('log processor', parent=MMENGINE_LOG_PROCESSORS, scope='unimedi',
                          locations=['unimedi.engine'])
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, scope='unimedi',
                      locations=['unimedi.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='unimedi',
                          locations=['unimedi.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry('optimizer wrapper constructor',
                                      parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                      scope='unimedi', locations=['unimedi.engine'])
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS,
                            scope='unimedi', locations=['unimedi.engine'])

# Data
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, scope='unimedi',
                    locations=['unimedi.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='unimedi',
                         locations=['unimedi.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, scope='unimedi',
                      locations=['unimedi.datasets.transforms'])

# Models: one tree; the categories below are names over it (one folder each).
MODELS = Registry('model', parent=MMENGINE_MODELS, scope='unimedi',
                  locations=['unimedi.models'])
TOKENIZERS = MODELS  # 2D / 3D patch embeddings: unimedi/models/tokenizers
ENCODERS = MODELS  # shared ViT, text encoders: unimedi/models/encoders
SELECTORS = MODELS  # language-guided slice / region selection: unimedi/models/selectors
HEADS = MODELS  # projections, DINO, classification, decoders: unimedi/models/heads
LOSSES = MODELS  # InfoNCE, DINO, iBOT: unimedi/models/losses
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope='unimedi',
                          locations=['unimedi.models'])
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS,
                               scope='unimedi', locations=['unimedi.models'])
# Report tokenizers (Hugging Face wrappers); not a child: MMEngine has no such root.
TEXT_TOKENIZERS = Registry('text tokenizer', scope='unimedi',
                           locations=['unimedi.models.tokenizers'])
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, scope='unimedi',
                      locations=['unimedi.models'])

# Evaluation and visualisation
METRICS = Registry('metric', parent=MMENGINE_METRICS, scope='unimedi',
                   locations=['unimedi.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR, scope='unimedi',
                     locations=['unimedi.evaluation'])
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS, scope='unimedi',
                       locations=['unimedi.engine'])
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS, scope='unimedi',
                       locations=['unimedi.engine'])
INFERENCERS = Registry('inferencer', parent=MMENGINE_INFERENCERS, scope='unimedi',
                       locations=['unimedi.apis'])
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, scope='unimedi',
                     locations=['unimedi.datasets', 'unimedi.engine'])
