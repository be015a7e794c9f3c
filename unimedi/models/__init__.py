"""Models. Each registry category has its folder: tokenizers, encoders, selectors, heads,
losses, algorithms, data_preprocessors."""
from .algorithms import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .encoders import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .selectors import *  # noqa: F401,F403
from .tokenizers import *  # noqa: F401,F403
