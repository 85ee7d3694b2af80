"""Canonical parameters for PyTorch models: the layer adapter of `d2l.common.params`.

`export_params(net)` / `import_params(net, params)` move weights to and from the canonical
layout, so the same weights go into the same model built in any framework. The canonical
recurrent layout is PyTorch's own (`nn.RNN`, `nn.GRU`, `nn.LSTM` parameter names).
"""

import sys

import numpy as np
import torch
from torch import nn

from ..common import params as canonical

__all__ = ["export_params", "import_params"]

_KINDS = ((nn.Linear, "dense"), (nn.Conv2d, "conv"), (nn.Conv1d, "conv1d"),
          (nn.BatchNorm1d, "batchnorm"), (nn.BatchNorm2d, "batchnorm"), (nn.Embedding, "embedding"),
          (nn.LayerNorm, "layernorm"), (nn.RNN, "rnn"), (nn.GRU, "gru"), (nn.LSTM, "lstm"))
_FIELDS = {"gamma": "weight", "beta": "bias"}  # canonical (batch/layer) norm name -> torch


def _kinds(module):
    """The canonical kinds of a module: a learnable positional embedding it holds itself
    (`pos_embedding`), then its own layer kind."""
    if isinstance(getattr(module, "pos_embedding", None), nn.Parameter):
        yield "positional"
    yield from (kind for cls, kind in _KINDS if isinstance(module, cls))


def _field(kind, name):
    return "pos_embedding" if kind == "positional" else _FIELDS.get(name, name)


def layers(net):
    return [(kind, m) for m in net.modules() for kind in _kinds(m)]


def names(kind, layer):
    if kind in canonical.RECURRENT_GATES:
        if layer.proj_size:
            raise ValueError("export_params/import_params: LSTM layers with proj_size > 0 have "
                             "no canonical layout")
        return canonical.recurrent_names(layer.num_layers, layer.bidirectional, layer.bias)
    return [n for n in canonical.NAMES[kind] if getattr(layer, _field(kind, n)) is not None]


def shape(kind, layer, name):
    dims = tuple(getattr(layer, _field(kind, name)).shape)
    return dims[::-1] if kind == "dense" and name == "weight" else dims


def build(kind, layer, arrays):
    """PyTorch layers know their shapes when constructed."""


def get(kind, layer, name):
    value = getattr(layer, _field(kind, name)).detach().cpu().numpy()
    return value.T if kind == "dense" and name == "weight" else value


def set(kind, layer, arrays):  # noqa: A001  (the adapter's verb)
    with torch.no_grad():
        for name, value in arrays.items():
            if kind == "dense" and name == "weight":
                value = value.T
            target = getattr(layer, _field(kind, name))
            target.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def export_params(net):
    """The canonical parameter dict of `net` (NumPy float32 arrays)."""
    return canonical.export_params(sys.modules[__name__], net)


def import_params(net, params):
    """Load a canonical parameter dict into `net` in place; keys and shapes must match."""
    canonical.import_params(sys.modules[__name__], net, params)
