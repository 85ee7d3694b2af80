"""Canonical parameters for Gluon models (see `spec.canonical` for the format).

`export_params(net)` returns {"<k>.weight": (in, out), "<k>.bias": (out,)} for the k-th dense
layer in forward order; `import_params(net, params)` loads such a dict (also into a network
whose shapes are still deferred), so identical weights can go into every framework.
"""

import numpy as onp
from mxnet import np
from mxnet.gluon import nn

__all__ = ["export_params", "import_params"]


def _blocks(block):
    yield block
    for child in block._children.values():
        yield from _blocks(child)


def _dense_layers(net):
    return [b for b in _blocks(net) if isinstance(b, nn.Dense)]


def _value(param):
    return None if param is None or min(param.shape) <= 0 else param.data().asnumpy()


def export_params(net):
    """The canonical parameter dict of an initialized `net` (NumPy float32 arrays)."""
    params = {}
    for k, layer in enumerate(_dense_layers(net)):
        weight = _value(layer.weight)
        if weight is None:
            raise ValueError("export_params: the network's shapes are not known yet; run it "
                             "on one batch first")
        params[f"{k}.weight"] = weight.T.copy()
        if layer.bias is not None:
            params[f"{k}.bias"] = _value(layer.bias).copy()
    return params


def import_params(net, params):
    """Load a canonical parameter dict into an initialized `net` in place."""
    layers = _dense_layers(net)
    expected = {f"{k}.{n}" for k, layer in enumerate(layers)
                for n in ("weight", "bias") if getattr(layer, n) is not None}
    if expected != params.keys():
        raise ValueError(f"import_params: params has keys {sorted(params)}, the network "
                         f"expects {sorted(expected)}")
    for k, layer in enumerate(layers):
        for name, value in (("weight", params[f"{k}.weight"].T),
                            ("bias", params.get(f"{k}.bias"))):
            param = getattr(layer, name)
            if param is None:
                continue
            value = onp.ascontiguousarray(value, dtype=onp.float32)
            known = tuple(param.shape)
            if len(known) != value.ndim or any(d > 0 and d != v
                                               for d, v in zip(known, value.shape)):
                raise ValueError(f"import_params: {k}.{name} has shape {value.shape}, the "
                                 f"layer expects {known}")
            param.shape = value.shape
            param.set_data(np.array(value))
