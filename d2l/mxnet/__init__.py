"""d2l for MXNet: `from d2l import mxnet as d2l`.

Holds the framework-neutral saved code (`d2l.common`), the MXNet aliases and one module per
book chapter. As in the book, `d2l.np` is `mxnet.np`, not NumPy. `d2l.plt`, `d2l.pd`,
`d2l.display` and the standard-library modules the book uses are imported on first access.
"""

import sys

from mxnet import autograd, context, gluon, image, init, np, npx  # noqa: F401
from mxnet.gluon import nn, rnn  # noqa: F401

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

npx.set_np()
d2l = sys.modules[__name__]


def __getattr__(name):
    return common.lazy_reexport(__name__, name)
