"""d2l for TensorFlow: `from d2l import tensorflow as d2l`. Layers, losses and optimizers come
from `tf.keras`: Keras 3, or tf-keras (Keras 2, the book's) when TF_USE_LEGACY_KERAS=1.

Holds the framework-neutral saved code (`d2l.common`), the TensorFlow aliases and one module
per book chapter. `d2l.plt`, `d2l.pd`, `d2l.display` and the standard-library modules the book
uses are imported on first access.
"""

import sys

import numpy as np  # noqa: F401  (the book uses d2l.np)
import tensorflow as tf  # noqa: F401

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


def __getattr__(name):
    return common.lazy_reexport(__name__, name)
