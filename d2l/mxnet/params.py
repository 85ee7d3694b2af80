"""Canonical parameters for Gluon models: the layer adapter of `d2l.common.params`.

`export_params(net)` / `import_params(net, params)` move weights to and from the canonical
layout; importing also works before the first forward pass (deferred shapes are set from the
canonical arrays). The network must have been `initialize()`d. Gluon's `rnn.RNN/GRU/LSTM`
use the canonical (PyTorch) gate orders and formulas; only the names differ:
"weight_ih_l0" is `l0_i2h_weight`, "bias_hh_l1_reverse" is `r1_h2h_bias`.
"""

import sys

from mxnet import np
from mxnet.gluon import Parameter, nn, rnn
from mxnet.gluon.parameter import DeferredInitializationError

from ..common import params as canonical

__all__ = ["export_params", "import_params"]

_KINDS = ((nn.Dense, "dense"), (nn.Conv2D, "conv"), (nn.Conv1D, "conv1d"),
          (nn.BatchNorm, "batchnorm"), (nn.Embedding, "embedding"),
          (nn.LayerNorm, "layernorm"), (rnn.RNN, "rnn"), (rnn.GRU, "gru"), (rnn.LSTM, "lstm"))
_RECURRENT_FIELDS = {"weight_ih": "i2h_weight", "weight_hh": "h2h_weight",
                     "bias_ih": "i2h_bias", "bias_hh": "h2h_bias"}


def _blocks(block):
    yield block
    for child in block._children.values():
        yield from _blocks(child)


def _kinds(block):
    """The canonical kinds of a block: a learnable positional embedding it holds itself
    (`pos_embedding`), then its own layer kind."""
    if isinstance(getattr(block, "pos_embedding", None), Parameter):
        yield "positional"
    yield from (kind for cls, kind in _KINDS if isinstance(block, cls))


def layers(net):
    return [(kind, b) for b in _blocks(net) for kind in _kinds(b)]


def names(kind, layer):
    if kind in canonical.RECURRENT_GATES:
        if layer._projection_size:
            raise ValueError("export_params/import_params: LSTM layers with projection_size "
                             "have no canonical layout")
        return canonical.recurrent_names(layer._num_layers, layer._dir == 2)
    if kind == "positional":
        return ["weight"]
    return [n for n in canonical.NAMES[kind] if getattr(layer, n, None) is not None]


def _param(kind, layer, name):
    """The Gluon Parameter holding canonical array `name`."""
    if kind == "positional":
        return layer.pos_embedding
    if kind not in canonical.RECURRENT_GATES:
        return getattr(layer, name)
    field, index, reverse = canonical.parse_recurrent_name(name)
    return getattr(layer, f"{'r' if reverse else 'l'}{index}_{_RECURRENT_FIELDS[field]}")


def _transposed(kind, name):
    return kind == "dense" and name == "weight"


def shape(kind, layer, name):
    dims = tuple(d if d > 0 else None for d in _param(kind, layer, name).shape)
    return dims[::-1] if _transposed(kind, name) else dims


def build(kind, layer, arrays):
    """Fill in shapes Gluon has deferred (unknown dimensions are 0 or -1)."""
    for name, value in arrays.items():
        param = _param(kind, layer, name)
        shape = value.T.shape if _transposed(kind, name) else value.shape
        if min(param.shape, default=1) <= 0:
            param.shape = shape


def get(kind, layer, name):
    param = _param(kind, layer, name)
    try:
        value = param.data().asnumpy()
    except DeferredInitializationError:  # shapes known only after the first forward pass
        return None
    return value.T if _transposed(kind, name) else value


def set(kind, layer, arrays):  # noqa: A001  (the adapter's verb)
    for name, value in arrays.items():
        param = _param(kind, layer, name)
        param.set_data(np.array(value.T if _transposed(kind, name) else value, dtype="float32"))
        if param._deferred_init:  # shapes are complete now: create the arrays from this data
            param._finish_deferred_init()


def export_params(net):
    """The canonical parameter dict of an initialized `net` (NumPy float32 arrays)."""
    return canonical.export_params(sys.modules[__name__], net)


def import_params(net, params):
    """Load a canonical parameter dict into an initialized `net` in place."""
    canonical.import_params(sys.modules[__name__], net, params)
