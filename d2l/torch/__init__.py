"""d2l for PyTorch: `from d2l import torch as d2l`.

Holds the framework-neutral saved code (`d2l.common`), the PyTorch aliases and one module per
book chapter. `d2l.plt`, `d2l.pd`, `d2l.display`, `d2l.Image`, `d2l.torchvision` and the
standard-library modules the book uses are imported on first access.
"""

import sys

import numpy as np  # noqa: F401  (the book uses d2l.np)
import torch  # noqa: F401
import torch.nn.functional as F  # noqa: F401, N812
from torch import nn  # noqa: F401
from torch.utils import data  # noqa: F401

from .. import common
from ..common import *  # noqa: F403
from .aliases import *  # noqa: F403
from .attention_mechanisms import *  # noqa: F403
from .computational_performance import *  # noqa: F403
from .computer_vision import *  # noqa: F403
from .convolutional_neural_networks import *  # noqa: F403
from .deep_learning_computation import *  # noqa: F403
from .generative_adversarial_networks import *  # noqa: F403
from .linear_networks import *  # noqa: F403
from .modern_cnns import *  # noqa: F403
from .modern_rnns import *  # noqa: F403
from .multilayer_perceptrons import *  # noqa: F403
from .natural_language_processing_pretraining import *  # noqa: F403
from .optimization_algorithms import *  # noqa: F403
from .params import export_params, import_params  # noqa: F401
from .recommender_systems import *  # noqa: F403
from .recurrent_neural_networks import *  # noqa: F403

d2l = sys.modules[__name__]

_REEXPORTS = {"Image": "PIL.Image", "torchvision": "torchvision",
              "transforms": "torchvision.transforms"}


def __getattr__(name):
    return common.lazy_reexport(__name__, name, _REEXPORTS)
