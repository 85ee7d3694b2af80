"""Canonical parameters for PyTorch models (see `spec.canonical` for the format).

`export_params(net)` returns {"<k>.weight": (in, out), "<k>.bias": (out,)} for the k-th dense
layer in forward order; `import_params(net, params)` loads such a dict, so identical weights
can be put into the same model built in any framework.
"""

import numpy as np
import torch
from torch import nn

__all__ = ["export_params", "import_params"]


def _dense_layers(net):
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


def export_params(net):
    """The canonical parameter dict of `net` (NumPy float32 arrays)."""
    params = {}
    for k, layer in enumerate(_dense_layers(net)):
        params[f"{k}.weight"] = layer.weight.detach().cpu().numpy().T.copy()
        if layer.bias is not None:
            params[f"{k}.bias"] = layer.bias.detach().cpu().numpy().copy()
    return params


def import_params(net, params):
    """Load a canonical parameter dict into `net` in place; shapes must match."""
    expected = export_params(net)
    if expected.keys() != params.keys():
        raise ValueError(f"import_params: params has keys {sorted(params)}, the network "
                         f"expects {sorted(expected)}")
    with torch.no_grad():
        for k, layer in enumerate(_dense_layers(net)):
            for name, value in (("weight", params[f"{k}.weight"].T),
                                ("bias", params.get(f"{k}.bias"))):
                if value is None:
                    continue
                target = getattr(layer, name)
                value = np.asarray(value, dtype=np.float32)
                if tuple(target.shape) != value.shape:
                    raise ValueError(f"import_params: {k}.{name} has shape {value.shape}, "
                                     f"the layer expects {tuple(target.shape)}")
                target.copy_(torch.from_numpy(np.ascontiguousarray(value)))
