"""Canonical parameters for PyTorch models: the layer adapter of `d2l.common.params`.

`export_params(net)` / `import_params(net, params)` move weights to and from the canonical
layout, so the same weights go into the same model built in any framework.
"""

import sys

import numpy as np
import torch
from torch import nn

from ..common import params as canonical

__all__ = ["export_params", "import_params"]

_KINDS = ((nn.Linear, "dense"), (nn.Conv2d, "conv"), (nn.BatchNorm1d, "batchnorm"),
          (nn.BatchNorm2d, "batchnorm"))
_FIELDS = {"gamma": "weight", "beta": "bias"}  # canonical batchnorm name -> torch name


def layers(net):
    return [(kind, m) for m in net.modules() for cls, kind in _KINDS if isinstance(m, cls)]


def names(kind, layer):
    return [n for n in canonical.NAMES[kind] if getattr(layer, _FIELDS.get(n, n)) is not None]


def shape(kind, layer, name):
    dims = tuple(getattr(layer, _FIELDS.get(name, name)).shape)
    return dims[::-1] if kind == "dense" and name == "weight" else dims


def build(kind, layer, arrays):
    """PyTorch layers know their shapes when constructed."""


def get(kind, layer, name):
    value = getattr(layer, _FIELDS.get(name, name)).detach().cpu().numpy()
    return value.T if kind == "dense" and name == "weight" else value


def set(kind, layer, name, value):  # noqa: A001  (the adapter's verb)
    if kind == "dense" and name == "weight":
        value = value.T
    target = getattr(layer, _FIELDS.get(name, name))
    with torch.no_grad():
        target.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def export_params(net):
    """The canonical parameter dict of `net` (NumPy float32 arrays)."""
    return canonical.export_params(sys.modules[__name__], net)


def import_params(net, params):
    """Load a canonical parameter dict into `net` in place; keys and shapes must match."""
    canonical.import_params(sys.modules[__name__], net, params)
