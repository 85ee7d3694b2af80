"""Canonical parameters: one layout for moving weights between frameworks.

A network's parameters become a dict of float32 NumPy arrays keyed "<k>.<name>", where k
counts the layers that hold parameters in the order the network defines them (its forward
order for the book's models) and the names and layouts are:

* dense: "weight" (in_features, out_features), so a layer computes x @ weight + bias; "bias".
* conv (2-D): "weight" (out_channels, in_channels // groups, kh, kw), as PyTorch and Gluon
  store it (Keras stores (kh, kw, in // groups, out)); "bias" (out_channels,).
* batchnorm: "gamma", "beta", "running_mean", "running_var", each (channels,).

Each backend's `params.py` is an adapter with six small functions: `layers(net)` (the
(kind, layer) pairs), `names`, `shape` (canonical shape, None where not known yet), `build`
(create parameters a layer has deferred), `get` and `set` (one array in canonical layout);
`export_params` / `import_params` here do the rest, the same way for all three.
"""

import numpy as np

NAMES = {"dense": ("weight", "bias"), "conv": ("weight", "bias"),
         "batchnorm": ("gamma", "beta", "running_mean", "running_var")}


def export_params(adapter, net):
    """The canonical dict of `net`; `adapter` is the backend's params module."""
    params = {}
    for k, (kind, layer) in enumerate(adapter.layers(net)):
        for name in adapter.names(kind, layer):
            value = adapter.get(kind, layer, name)
            if value is None:
                raise ValueError("export_params: the network's shapes are not known yet; run "
                                 "it on one batch first")
            params[f"{k}.{name}"] = np.array(value, dtype=np.float32)
    return params


def import_params(adapter, net, params):
    """Load a canonical dict into `net` in place; keys and shapes must match exactly."""
    layers = adapter.layers(net)
    expected = {f"{k}.{n}" for k, (kind, layer) in enumerate(layers)
                for n in adapter.names(kind, layer)}
    if expected != set(params):
        raise ValueError(f"import_params: params has keys {sorted(params)}, the network "
                         f"expects {sorted(expected)}")
    for k, (kind, layer) in enumerate(layers):
        own = {n: np.asarray(params[f"{k}.{n}"], np.float32)
               for n in adapter.names(kind, layer)}
        for name, value in own.items():
            expected = adapter.shape(kind, layer, name)
            if len(expected) != value.ndim or any(
                    d is not None and d != v for d, v in zip(expected, value.shape)):
                raise ValueError(f"import_params: {k}.{name} has shape {value.shape}, the "
                                 f"layer expects {expected} (None: not known yet)")
        adapter.build(kind, layer, own)
        for name, value in own.items():
            adapter.set(kind, layer, name, value)
