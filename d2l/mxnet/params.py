"""Canonical parameters for Gluon models: the layer adapter of `d2l.common.params`.

`export_params(net)` / `import_params(net, params)` move weights to and from the canonical
layout; importing also works before the first forward pass (deferred shapes are set from the
canonical arrays). The network must have been `initialize()`d.
"""

import sys

from mxnet import np
from mxnet.gluon import nn
from mxnet.gluon.parameter import DeferredInitializationError

from ..common import params as canonical

__all__ = ["export_params", "import_params"]

_KINDS = ((nn.Dense, "dense"), (nn.Conv2D, "conv"), (nn.BatchNorm, "batchnorm"))


def _blocks(block):
    yield block
    for child in block._children.values():
        yield from _blocks(child)


def layers(net):
    return [(kind, b) for b in _blocks(net) for cls, kind in _KINDS if isinstance(b, cls)]


def names(kind, layer):
    return [n for n in canonical.NAMES[kind] if getattr(layer, n, None) is not None]


def _transposed(kind, name):
    return kind == "dense" and name == "weight"


def shape(kind, layer, name):
    dims = tuple(d if d > 0 else None for d in getattr(layer, name).shape)
    return dims[::-1] if _transposed(kind, name) else dims


def build(kind, layer, arrays):
    """Fill in shapes Gluon has deferred (unknown dimensions are 0 or -1)."""
    for name, value in arrays.items():
        param = getattr(layer, name)
        shape = value.T.shape if _transposed(kind, name) else value.shape
        if min(param.shape, default=1) <= 0:
            param.shape = shape


def get(kind, layer, name):
    param = getattr(layer, name)
    try:
        value = param.data().asnumpy()
    except DeferredInitializationError:  # shapes known only after the first forward pass
        return None
    return value.T if _transposed(kind, name) else value


def set(kind, layer, name, value):  # noqa: A001  (the adapter's verb)
    if _transposed(kind, name):
        value = value.T
    param = getattr(layer, name)
    param.set_data(np.array(value, dtype="float32"))
    if param._deferred_init:  # shapes are complete now: create the arrays from this data
        param._finish_deferred_init()


def export_params(net):
    """The canonical parameter dict of an initialized `net` (NumPy float32 arrays)."""
    return canonical.export_params(sys.modules[__name__], net)


def import_params(net, params):
    """Load a canonical parameter dict into an initialized `net` in place."""
    canonical.import_params(sys.modules[__name__], net, params)
