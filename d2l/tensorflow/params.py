"""Canonical parameters for Keras models: the layer adapter of `d2l.common.params`.

`export_params(net)` / `import_params(net, params)` move weights to and from the canonical
layout: Keras convolution kernels are (kh, kw, in, out), and a dense layer after a Flatten of
NHWC maps has its rows in (h, w, c) order where the canonical order is NCHW's (c, h, w).
Importing builds layers that have not seen an input yet from the canonical shapes; a network
with a Flatten must be built first (`net.build(input_shape)`), so its map shape is known.

Recurrent layers: `keras.layers.SimpleRNN/GRU/LSTM`, `keras.layers.RNN` over a
SimpleRNNCell/GRUCell/LSTMCell or a StackedRNNCells of them (cell k is layer l{k}), and a
Bidirectional of a one-cell RNN (its backward layer is "_reverse"). Keras kernels are the
transposed canonical weights; GRU gate blocks are z, r, h where the canonical order is r, z, n;
a GRU's bias is (2, 3H) (input row, recurrent row) and must be reset_after=True; LSTM and
SimpleRNN cells keep one bias = bias_ih + bias_hh (exported as bias_ih, with bias_hh = 0).
"""

import sys
import weakref

import numpy as np
from tensorflow import keras

from ..common import params as canonical

__all__ = ["export_params", "import_params"]

_KINDS = ((keras.layers.Dense, "dense"), (keras.layers.Conv2D, "conv"),
          (keras.layers.Conv1D, "conv1d"),
          (keras.layers.BatchNormalization, "batchnorm"), (keras.layers.Embedding, "embedding"),
          (keras.layers.LayerNormalization, "layernorm"))
_CELL_KINDS = ((keras.layers.SimpleRNNCell, "rnn"), (keras.layers.GRUCell, "gru"),
               (keras.layers.LSTMCell, "lstm"))
_FIELDS = {"weight": "kernel", "running_mean": "moving_mean",
           "running_var": "moving_variance"}


# Dense layers fed by a Flatten of NHWC feature maps -> (H, W, C) of those maps: their
# kernel rows are in (h, w, c) order, the canonical rows in (c, h, w) order (NCHW flatten).
_FLATTENED = weakref.WeakKeyDictionary()


def _kind(layer):
    """The canonical kind of a Keras layer, or None for layers without own parameters."""
    if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
        return _recurrent_kind(layer)
    return next((kind for cls, kind in _KINDS if isinstance(layer, cls)), None)


def _walk(layer, seen):
    """`layer` and its sublayers in definition order; a layer of a known kind is not entered
    (a recurrent layer's cells, a Bidirectional's two RNNs belong to it)."""
    if id(layer) in seen:
        return
    seen[id(layer)] = layer
    yield layer
    if _kind(layer) is None and isinstance(layer, keras.layers.Layer):
        for child in layer._flatten_layers(include_self=False, recursive=False):
            yield from _walk(child, seen)


def layers(net):
    found, flat_shape = [], None
    for layer in _walk(net, {}):  # {id: layer} seen (this module's `set` is the verb)
        if isinstance(layer, keras.layers.Flatten):
            shape = _flatten_input_shape(layer)
            if shape is None:
                raise ValueError("import_params/export_params: build the Keras network first "
                                 "(net.build(input_shape) or one forward pass): the dense "
                                 "layer after Flatten needs the feature-map shape")
            flat_shape = tuple(shape[1:]) if len(shape) == 4 else None
        if _holds_positional(layer):
            found.append(("positional", layer))
        kind = _kind(layer)
        if kind is not None:
            found.append((kind, layer))
            if kind == "dense" and flat_shape is not None:
                _FLATTENED[layer] = flat_shape
            if kind in ("dense", "conv"):
                flat_shape = None
    return found


def _holds_positional(layer):
    """Whether `layer` holds a learnable positional embedding (`pos_embedding`, a variable
    made when the layer is constructed)."""
    return getattr(getattr(layer, "pos_embedding", None), "shape", None) is not None and \
        not isinstance(layer.pos_embedding, np.ndarray)


def _flatten_input_shape(flatten):
    """The input shape a built Flatten layer saw (Keras 3 keeps it in `_build_shapes_dict`,
    tf-keras in `_build_input_shape`); None while it is unbuilt."""
    shapes = getattr(flatten, "_build_shapes_dict", None)
    shape = next(iter(shapes.values()), None) if shapes else \
        getattr(flatten, "_build_input_shape", None)
    return None if shape is None else tuple(shape)


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


def _recurrent_kind(layer):
    """'rnn', 'gru' or 'lstm' for a Keras RNN (SimpleRNN/GRU/LSTM, or RNN over one such cell
    or a StackedRNNCells of them) or a Bidirectional of one; ValueError for what the
    canonical layout cannot describe."""
    if isinstance(layer, keras.layers.Bidirectional):
        if len(_cells(layer.forward_layer)) > 1:
            raise ValueError("import_params/export_params: a Bidirectional over stacked cells "
                             "runs each direction's stack on its own, which is not a "
                             "canonical bidirectional multi-layer RNN; stack one "
                             "Bidirectional per layer instead")
        return _recurrent_kind(layer.forward_layer)
    kinds = []
    for cell in _cells(layer):
        kind = next((k for cls, k in _CELL_KINDS if isinstance(cell, cls)), None)
        if kind is None:
            raise ValueError(f"import_params/export_params: {type(cell).__name__} cells have "
                             "no canonical layout (use SimpleRNNCell, GRUCell or LSTMCell)")
        if kind == "gru" and not cell.reset_after:
            raise ValueError("import_params/export_params: a GRU with reset_after=False has "
                             "no canonical layout; build it with reset_after=True (the "
                             "PyTorch/MXNet formula)")
        kinds.append(kind)
    if len({*kinds}) != 1:
        raise ValueError("import_params/export_params: the cells of one RNN layer must all "
                         f"be of one kind, got {kinds}")
    return kinds[0]


def _cells(rnn_layer):
    """The cells of a Keras RNN layer, bottom layer first."""
    cell = rnn_layer.cell
    return list(cell.cells) if isinstance(cell, keras.layers.StackedRNNCells) else [cell]


def _directions(layer):
    """The RNN layers of each direction: [forward] or [forward, backward]."""
    if isinstance(layer, keras.layers.Bidirectional):
        return [layer.forward_layer, layer.backward_layer]
    return [layer]


def _reorder_gates(kind, value):
    """Swap the first two gate blocks of the last axis for a GRU: canonical r, z, n <->
    Keras z, r, h (the swap is its own inverse); LSTM (i, f, g/c, o) and RNN need none."""
    if kind != "gru":
        return value
    r, z, n = np.split(value, 3, axis=-1)
    return np.concatenate([z, r, n], axis=-1)


def names(kind, layer):
    if kind == "positional":
        return ["weight"]
    if kind in canonical.RECURRENT_GATES:
        cells = _cells(_directions(layer)[0])
        return canonical.recurrent_names(len(cells), len(_directions(layer)) == 2,
                                         cells[0].use_bias)
    if kind == "batchnorm":
        return list(canonical.NAMES[kind])
    if kind == "embedding":
        return ["weight"]
    if kind == "layernorm":
        return [n for n, on in (("gamma", layer.scale), ("beta", layer.center)) if on]
    return ["weight", "bias"] if layer.use_bias else ["weight"]


def _recurrent_get(kind, layer, name):
    field, index, reverse = canonical.parse_recurrent_name(name)
    cell = _cells(_directions(layer)[int(reverse)])[index]
    if field == "weight_ih":
        return _reorder_gates(kind, np.asarray(cell.kernel)).T
    if field == "weight_hh":
        return _reorder_gates(kind, np.asarray(cell.recurrent_kernel)).T
    bias = _reorder_gates(kind, np.asarray(cell.bias))
    if kind == "gru":  # rows: input bias, recurrent bias
        return bias[0 if field == "bias_ih" else 1]
    return bias if field == "bias_ih" else np.zeros_like(bias)  # one bias: all of it is b_ih


def _recurrent_set(kind, layer, arrays):
    for name, value in arrays.items():
        field, index, reverse = canonical.parse_recurrent_name(name)
        cell = _cells(_directions(layer)[int(reverse)])[index]
        if field == "weight_ih":
            cell.kernel.assign(_reorder_gates(kind, value.T))
        elif field == "weight_hh":
            cell.recurrent_kernel.assign(_reorder_gates(kind, value.T))
        elif field == "bias_ih":  # bias_hh goes in with it
            b_hh = arrays[name.replace("bias_ih", "bias_hh", 1)]
            bias = np.stack([value, b_hh]) if kind == "gru" else value + b_hh
            cell.bias.assign(_reorder_gates(kind, bias))


def _from_keras(kind, layer, name, value):
    if kind == "conv" and name == "weight":
        return value.transpose(3, 2, 0, 1)
    if kind == "conv1d" and name == "weight":  # (k, in, out) -> (out, in, k)
        return value.transpose(2, 1, 0)
    if kind == "dense" and name == "weight":
        return _rows_to_canonical(layer, value)
    return value


def shape(kind, layer, name):
    """The canonical shape of an array; None for what an unbuilt layer does not know."""
    if kind == "positional":
        return tuple(layer.pos_embedding.shape)
    if layer.built:
        return get(kind, layer, name).shape
    if kind == "dense":
        return (None, layer.units) if name == "weight" else (layer.units,)
    if kind in ("conv", "conv1d"):
        return ((layer.filters, None, *layer.kernel_size) if name == "weight"
                else (layer.filters,))
    if kind == "embedding":
        return (layer.input_dim, layer.output_dim)
    if kind == "layernorm":
        return (None,) * len(_axes(layer))
    if kind in canonical.RECURRENT_GATES:
        return _recurrent_shape(kind, layer, name)
    return (None,)


def _recurrent_shape(kind, layer, name):
    field, index, reverse = canonical.parse_recurrent_name(name)
    cells = _cells(_directions(layer)[int(reverse)])
    rows = canonical.RECURRENT_GATES[kind] * cells[index].units
    if field == "weight_ih":
        return (rows, cells[index - 1].units if index else None)
    return (rows, cells[index].units) if field == "weight_hh" else (rows,)


def _axes(layer):
    return list(layer.axis) if isinstance(layer.axis, (list, tuple)) else [layer.axis]


def build(kind, layer, arrays):
    """Build a layer that has not seen an input yet, from the canonical shapes."""
    if layer.built or kind == "positional":
        return
    if kind == "dense":
        layer.build((None, arrays["weight"].shape[0]))
    elif kind == "conv":
        layer.build((None, None, None, arrays["weight"].shape[1] * layer.groups))
    elif kind == "conv1d":
        layer.build((None, None, arrays["weight"].shape[1] * layer.groups))
    elif kind == "embedding":
        layer.build((None, None))
    elif kind == "layernorm":
        _build_layernorm(layer, arrays)
    elif kind in canonical.RECURRENT_GATES:
        layer.build((None, None, arrays["weight_ih_l0"].shape[1]))
    else:
        layer.build((None, None, None, arrays["gamma"].shape[0]))


def _build_layernorm(layer, arrays):
    if not arrays:  # neither scale nor center: nothing to load
        return
    shape = next(iter(arrays.values())).shape
    axes = sorted(_axes(layer))
    if axes == list(range(-len(shape), 0)):
        layer.build((None, *shape))
    elif axes[0] > 0 and axes == list(range(axes[0], axes[0] + len(shape))):
        # positive trailing axes, e.g. the book's AddNorm([2]) on (batch, steps, hiddens)
        layer.build((None,) * axes[0] + tuple(shape))
    else:
        raise ValueError("import_params: build LayerNormalization layers over other than the "
                         "trailing axes first (layer.build(input_shape))")


def get(kind, layer, name):
    if kind == "positional":
        return np.asarray(layer.pos_embedding)
    if not layer.built:
        return None
    if kind in canonical.RECURRENT_GATES:
        return _recurrent_get(kind, layer, name)
    field = "embeddings" if kind == "embedding" else _FIELDS.get(name, name)
    return _from_keras(kind, layer, name, np.asarray(getattr(layer, field)))


def set(kind, layer, arrays):  # noqa: A001  (the adapter's verb)
    if kind in canonical.RECURRENT_GATES:
        _recurrent_set(kind, layer, arrays)
        return
    for name, value in arrays.items():
        if kind == "conv" and name == "weight":
            value = value.transpose(2, 3, 1, 0)
        elif kind == "conv1d" and name == "weight":
            value = value.transpose(2, 1, 0)
        elif kind == "dense" and name == "weight":
            value = _rows_to_keras(layer, value)
        field = {"embedding": "embeddings", "positional": "pos_embedding"}.get(
            kind, _FIELDS.get(name, name))
        getattr(layer, field).assign(value)


def export_params(net):
    """The canonical parameter dict of a built `net` (NumPy float32 arrays)."""
    return canonical.export_params(sys.modules[__name__], net)


def import_params(net, params):
    """Load a canonical parameter dict into `net` in place; keys and shapes must match."""
    canonical.import_params(sys.modules[__name__], net, params)
