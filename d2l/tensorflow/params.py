"""Canonical parameters for Keras models: the layer adapter of `d2l.common.params`.

`export_params(net)` / `import_params(net, params)` move weights to and from the canonical
layout (Keras convolution kernels are (kh, kw, in, out)); importing builds layers that have
not seen an input yet from the canonical shapes.
"""

import sys

import keras
import numpy as np

from ..common import params as canonical

__all__ = ["export_params", "import_params"]

_KINDS = ((keras.layers.Dense, "dense"), (keras.layers.Conv2D, "conv"),
          (keras.layers.BatchNormalization, "batchnorm"))
_FIELDS = {"weight": "kernel", "running_mean": "moving_mean",
           "running_var": "moving_variance"}


def _walk(layer):
    yield layer
    for child in getattr(layer, "layers", ()):
        yield from _walk(child)


def layers(net):
    return [(kind, layer) for layer in _walk(net) for cls, kind in _KINDS
            if isinstance(layer, cls)]


def names(kind, layer):
    if kind == "batchnorm":
        return list(canonical.NAMES[kind])
    return ["weight", "bias"] if layer.use_bias else ["weight"]


def _from_keras(kind, name, value):
    return value.transpose(3, 2, 0, 1) if kind == "conv" and name == "weight" else value


def shape(kind, layer, name):
    """The canonical shape of an array; None for what an unbuilt layer does not know."""
    if layer.built:
        return get(kind, layer, name).shape
    if kind == "dense":
        return (None, layer.units) if name == "weight" else (layer.units,)
    if kind == "conv":
        return ((layer.filters, None, *layer.kernel_size) if name == "weight"
                else (layer.filters,))
    return (None,)


def build(kind, layer, arrays):
    """Build a layer that has not seen an input yet, from the canonical shapes."""
    if layer.built:
        return
    if kind == "dense":
        layer.build((None, arrays["weight"].shape[0]))
    elif kind == "conv":
        layer.build((None, None, None, arrays["weight"].shape[1] * layer.groups))
    else:
        layer.build((None, None, None, arrays["gamma"].shape[0]))


def get(kind, layer, name):
    if not layer.built:
        return None
    return _from_keras(kind, name, np.asarray(getattr(layer, _FIELDS.get(name, name))))


def set(kind, layer, name, value):  # noqa: A001  (the adapter's verb)
    if kind == "conv" and name == "weight":
        value = value.transpose(2, 3, 1, 0)
    getattr(layer, _FIELDS.get(name, name)).assign(value)


def export_params(net):
    """The canonical parameter dict of a built `net` (NumPy float32 arrays)."""
    return canonical.export_params(sys.modules[__name__], net)


def import_params(net, params):
    """Load a canonical parameter dict into `net` in place; keys and shapes must match."""
    canonical.import_params(sys.modules[__name__], net, params)
