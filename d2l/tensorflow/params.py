"""Canonical parameters for Keras models (see `spec.canonical` for the format).

`export_params(net)` returns {"<k>.weight": (in, out), "<k>.bias": (out,)} for the k-th dense
layer in forward order; `import_params(net, params)` loads such a dict, building dense layers
that have not seen an input yet from the weight shapes.
"""

import keras
import numpy as np

__all__ = ["export_params", "import_params"]


def _layers(layer):
    yield layer
    for child in getattr(layer, "layers", ()):
        yield from _layers(child)


def _dense_layers(net):
    return [layer for layer in _layers(net) if isinstance(layer, keras.layers.Dense)]


def export_params(net):
    """The canonical parameter dict of a built `net` (NumPy float32 arrays)."""
    params = {}
    for k, layer in enumerate(_dense_layers(net)):
        if not layer.built:
            raise ValueError("export_params: the network is not built yet; run it on one "
                             "batch first")
        params[f"{k}.weight"] = np.array(layer.kernel.numpy())
        if layer.use_bias:
            params[f"{k}.bias"] = np.array(layer.bias.numpy())
    return params


def import_params(net, params):
    """Load a canonical parameter dict into `net` in place; shapes must match."""
    layers = _dense_layers(net)
    expected = {f"{k}.{n}" for k, layer in enumerate(layers)
                for n in ("weight", "bias") if n == "weight" or layer.use_bias}
    if expected != params.keys():
        raise ValueError(f"import_params: params has keys {sorted(params)}, the network "
                         f"expects {sorted(expected)}")
    for k, layer in enumerate(layers):
        weight = np.asarray(params[f"{k}.weight"], dtype=np.float32)
        if not layer.built:
            layer.build((None, weight.shape[0]))
        targets = [("weight", layer.kernel, weight)]
        if layer.use_bias:
            targets.append(("bias", layer.bias, np.asarray(params[f"{k}.bias"], np.float32)))
        for name, variable, value in targets:
            if tuple(variable.shape) != value.shape:
                raise ValueError(f"import_params: {k}.{name} has shape {value.shape}, the "
                                 f"layer expects {tuple(variable.shape)}")
            variable.assign(value)
