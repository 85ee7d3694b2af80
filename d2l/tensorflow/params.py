"""Canonical parameters for Keras models: the layer adapter of `d2l.common.params`.

`export_params(net)` / `import_params(net, params)` move weights to and from the canonical
layout: Keras convolution kernels are (kh, kw, in, out), and a dense layer after a Flatten of
NHWC maps has its rows in (h, w, c) order where the canonical order is NCHW's (c, h, w).
Importing builds layers that have not seen an input yet from the canonical shapes; a network
with a Flatten must be built first (`net.build(input_shape)`), so its map shape is known.
"""

import sys
import weakref

import keras
import numpy as np

from ..common import params as canonical

__all__ = ["export_params", "import_params"]

_KINDS = ((keras.layers.Dense, "dense"), (keras.layers.Conv2D, "conv"),
          (keras.layers.BatchNormalization, "batchnorm"))
_FIELDS = {"weight": "kernel", "running_mean": "moving_mean",
           "running_var": "moving_variance"}


# Dense layers fed by a Flatten of NHWC feature maps -> (H, W, C) of those maps: their
# kernel rows are in (h, w, c) order, the canonical rows in (c, h, w) order (NCHW flatten).
_FLATTENED = weakref.WeakKeyDictionary()


def _walk(layer):
    yield layer
    for child in getattr(layer, "layers", ()):
        yield from _walk(child)


def layers(net):
    found, flat_shape = [], None
    for layer in _walk(net):
        if isinstance(layer, keras.layers.Flatten):
            built = getattr(layer, "_build_shapes_dict", None) or {}
            shape = next(iter(built.values()), None)
            if shape is None:
                raise ValueError("import_params/export_params: build the Keras network first "
                                 "(net.build(input_shape) or one forward pass): the dense "
                                 "layer after Flatten needs the feature-map shape")
            flat_shape = tuple(shape[1:]) if len(shape) == 4 else None
        for cls, kind in _KINDS:
            if isinstance(layer, cls):
                found.append((kind, layer))
                if kind == "dense" and flat_shape is not None:
                    _FLATTENED[layer] = flat_shape
                if kind in ("dense", "conv"):
                    flat_shape = None
    return found


def _rows_to_canonical(layer, kernel):
    """Dense kernel rows from Keras' (h, w, c) flatten order to the canonical (c, h, w)."""
    if layer not in _FLATTENED:
        return kernel
    h, w, c = _FLATTENED[layer]
    return kernel.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(h * w * c, -1)


def _rows_to_keras(layer, weight):
    if layer not in _FLATTENED:
        return weight
    h, w, c = _FLATTENED[layer]
    return weight.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(h * w * c, -1)


def names(kind, layer):
    if kind == "batchnorm":
        return list(canonical.NAMES[kind])
    return ["weight", "bias"] if layer.use_bias else ["weight"]


def _from_keras(kind, layer, name, value):
    if kind == "conv" and name == "weight":
        return value.transpose(3, 2, 0, 1)
    if kind == "dense" and name == "weight":
        return _rows_to_canonical(layer, value)
    return value


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
    return _from_keras(kind, layer, name, np.asarray(getattr(layer, _FIELDS.get(name, name))))


def set(kind, layer, name, value):  # noqa: A001  (the adapter's verb)
    if kind == "conv" and name == "weight":
        value = value.transpose(2, 3, 1, 0)
    elif kind == "dense" and name == "weight":
        value = _rows_to_keras(layer, value)
    getattr(layer, _FIELDS.get(name, name)).assign(value)


def export_params(net):
    """The canonical parameter dict of a built `net` (NumPy float32 arrays)."""
    return canonical.export_params(sys.modules[__name__], net)


def import_params(net, params):
    """Load a canonical parameter dict into `net` in place; keys and shapes must match."""
    canonical.import_params(sys.modules[__name__], net, params)
