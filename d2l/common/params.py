"""Canonical parameters: one layout for moving weights between frameworks.

A network's parameters become a dict of float32 NumPy arrays keyed "<k>.<name>", where k
counts the layers that hold parameters in the order the network defines them (attribute /
child registration order in every framework, which is the forward order of the book's
models; the parts of such a layer, e.g. a Keras RNN's cells, belong to it). Kinds, names and
layouts:

* dense: "weight" (in_features, out_features), so a layer computes x @ weight + bias; "bias".
* conv (2-D): "weight" (out_channels, in_channels // groups, kh, kw), as PyTorch and Gluon
  store it (Keras stores (kh, kw, in // groups, out)); "bias" (out_channels,).
* conv1d (1-D, section 15.3): "weight" (out_channels, in_channels, k), as PyTorch and
  Gluon store it (Keras stores (k, in, out)); "bias" (out_channels,).
* batchnorm: "gamma", "beta", "running_mean", "running_var", each (channels,).
* embedding: "weight" (num_embeddings, dim); row i is the vector of id i.
* layernorm: "gamma", "beta", each of the normalized shape (the trailing axes normalized).
* positional: "weight" (1, max_len, num_hiddens), a learnable positional embedding held by
  the layer that adds it (BERTEncoder's `pos_embedding`); that layer comes before its own
  sublayers.
* rnn, gru, lstm: one framework recurrent layer (all its stacked layers and both
  directions) is ONE canonical layer, in PyTorch's layout. G = 1 (rnn), 3 (gru), 4 (lstm)
  gates, H hidden units, D = 2 directions if bidirectional else 1. For each layer l in
  0..num_layers-1 and direction suffix s ("" forward, "_reverse" backward), in this order:
  "weight_ih_l{l}{s}" (G*H, in_l), "weight_hh_l{l}{s}" (G*H, H), "bias_ih_l{l}{s}" (G*H,),
  "bias_hh_l{l}{s}" (G*H,), with in_0 the input features and in_l = D*H after that.
  Gate blocks are stacked along axis 0 in PyTorch's order: lstm i, f, g, o
  (c' = f*c + i*g, h' = o*tanh(c')); gru r, z, n with the reset gate applied after the
  recurrent matmul: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z)*n + z*h;
  rnn h' = act(W_ih x + b_ih + W_hh h + b_hh), act chosen by the layer, not stored here
  (tanh by default, but Gluon's rnn.RNN defaults to ReLU). Gluon uses the same gate orders and
  formulas. Keras keeps one bias for LSTM and SimpleRNN cells: importing sets it to
  bias_ih + bias_hh, exporting gives bias_ih = that bias and bias_hh = 0 (the layer computes
  the same function, so outputs agree exactly; export(import(p)) moves bias_hh into bias_ih,
  and gradient descent differs: one bias takes one step where two take one each). A Keras
  GRU must use reset_after=True (the formula above). Keras has no multi-layer bidirectional
  layer: a stack of Bidirectional layers is one canonical layer per Bidirectional.

Each backend's `params.py` is an adapter with six small functions: `layers(net)` (the
(kind, layer) pairs), `names`, `shape` (canonical shape, None where not known yet), `build`
(create parameters a layer has deferred), `get` (one array in canonical layout) and `set`
(load a layer's canonical arrays, a dict name -> array); `export_params` / `import_params`
here do the rest, the same way for all three.
"""

import numpy as np

NAMES = {"dense": ("weight", "bias"), "conv": ("weight", "bias"), "conv1d": ("weight", "bias"),
         "batchnorm": ("gamma", "beta", "running_mean", "running_var"),
         "embedding": ("weight",), "layernorm": ("gamma", "beta"), "positional": ("weight",)}

# Gates stacked in the rows of a recurrent layer's weights, per kind.
RECURRENT_GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def recurrent_names(num_layers, bidirectional, bias=True):
    """The canonical names of a recurrent layer's arrays, in the documented order."""
    fields = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if bias else ())
    suffixes = ("", "_reverse") if bidirectional else ("",)
    return [f"{field}_l{layer}{suffix}" for layer in range(num_layers)
            for suffix in suffixes for field in fields]


def parse_recurrent_name(name):
    """'weight_ih_l1_reverse' -> ('weight_ih', 1, True): field, layer index, reverse."""
    field, _, rest = name.rpartition("_l")
    index, _, suffix = rest.partition("_")
    return field, int(index), suffix == "reverse"


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
        adapter.set(kind, layer, own)
