"""The chapter 3-7 models, described once and built from canonical parameters in each backend.

The canonical parameter format itself is defined in `d2l.common.params`. A model here is a
tuple of layer descriptions, read by `build` (each framework's layers) and by
`reference.run` (NumPy):

    ("conv", out_channels, kernel, stride, padding[, groups])   ("bn",)
    ("dense", out_features)   ("flatten",)   ("relu",)   ("sigmoid",)   ("dropout", p)
    ("avgpool", kernel, stride)   ("maxpool", kernel, stride, padding)   ("gap",)
    ("residual", out_channels, use_1x1conv, strides)

Images are NCHW in the spec; `image_shape` is one example's (C, H, W).
"""

import numpy as np

LENET = (("conv", 6, 5, 1, 2), ("sigmoid",), ("avgpool", 2, 2), ("conv", 16, 5, 1, 0),
         ("sigmoid",), ("avgpool", 2, 2), ("flatten",), ("dense", 120), ("sigmoid",),
         ("dense", 84), ("sigmoid",), ("dense", 10))
BN_LENET = (("conv", 6, 5, 1, 0), ("bn",), ("sigmoid",), ("avgpool", 2, 2),
            ("conv", 16, 5, 1, 0), ("bn",), ("sigmoid",), ("avgpool", 2, 2), ("flatten",),
            ("dense", 120), ("bn",), ("sigmoid",), ("dense", 84), ("bn",), ("sigmoid",),
            ("dense", 10))
SMALL_RESNET = (("conv", 8, 3, 1, 1), ("bn",), ("relu",), ("maxpool", 3, 2, 1),
                ("residual", 8, False, 1), ("residual", 16, True, 2), ("conv", 16, 3, 1, 1, 4),
                ("gap",), ("dense", 10))
DROPOUT_MLP = (("flatten",), ("dense", 16), ("relu",), ("dropout", 0.5), ("dense", 5))


def dense_stack_layers(sizes):
    """Flatten -> Dense (ReLU) -> ... -> Dense with widths sizes[1:]: softmax or linear
    regression with one layer (3.3, 3.7), an MLP with more (4.3)."""
    layers = [("flatten",)]
    for k, width in enumerate(sizes[1:]):
        layers += [("dense", width)] + ([("relu",)] if k < len(sizes) - 2 else [])
    return tuple(layers)


def init_params(sizes, seed=0):
    """Random canonical parameters of a dense stack with layer widths `sizes`."""
    return init_model(dense_stack_layers(sizes), (sizes[0],), seed)


def init_model(layers, image_shape, seed=0):
    """Random canonical parameters (running statistics included) for `layers` applied to
    examples of shape `image_shape`."""
    rng = np.random.default_rng(seed)
    params, shape = {}, tuple(image_shape)

    def normal(*dims, scale=0.3):
        return rng.normal(0, scale, dims).astype(np.float32)

    def add_bn(k, channels):
        params.update({f"{k}.gamma": 1 + normal(channels), f"{k}.beta": normal(channels),
                       f"{k}.running_mean": normal(channels),
                       f"{k}.running_var": rng.uniform(0.5, 2, channels).astype(np.float32)})

    for layer in layers:
        kind, k = layer[0], _count(params)
        if kind == "conv":
            out, kernel, stride, pad, groups = (*layer[1:], 1)[:5]
            params[f"{k}.weight"] = normal(out, shape[0] // groups, kernel, kernel)
            params[f"{k}.bias"] = normal(out)
            shape = (out, *_spatial(shape[1:], kernel, stride, pad))
        elif kind == "bn":
            add_bn(k, shape[0])
        elif kind == "dense":
            params[f"{k}.weight"] = normal(int(np.prod(shape)), layer[1])
            params[f"{k}.bias"] = normal(layer[1])
            shape = (layer[1],)
        elif kind in ("avgpool", "maxpool"):
            shape = (shape[0], *_spatial(shape[1:], layer[1], layer[2], (*layer, 0)[3]))
        elif kind == "gap":
            shape = (shape[0],)
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
        elif kind == "residual":
            out, use_1x1conv, strides = layer[1:]
            params.update({f"{k}.weight": normal(out, shape[0], 3, 3), f"{k}.bias": normal(out)})
            add_bn(k + 1, out)
            params.update({f"{k + 2}.weight": normal(out, out, 3, 3),
                           f"{k + 2}.bias": normal(out)})
            add_bn(k + 3, out)
            if use_1x1conv:
                params.update({f"{k + 4}.weight": normal(out, shape[0], 1, 1),
                               f"{k + 4}.bias": normal(out)})
            shape = (out, *_spatial(shape[1:], 3, strides, 1))
    return params


def _count(params):
    return len({key.split(".")[0] for key in params})


def _spatial(hw, kernel, stride, pad):
    return tuple((n + 2 * pad - kernel) // stride + 1 for n in hw)


def build(backend, layers, params, image_shape):
    """`layers` as a framework Sequential on the backend's device, loaded with `params`."""
    builder = {"torch": _torch, "mxnet": _mxnet, "tensorflow": _keras}[backend.name]
    return builder(backend, layers, params, tuple(image_shape))


def dense_stack(backend, params, image_shape=None):
    """The dense stack of `params` (see `dense_stack_layers`), for inputs of `image_shape`
    (default: flat features)."""
    n = len({key.split(".")[0] for key in params})
    sizes = [params["0.weight"].shape[0]] + [params[f"{k}.weight"].shape[1] for k in range(n)]
    shape = image_shape if image_shape is not None else (sizes[0],)
    return build(backend, dense_stack_layers(sizes), params, shape)


def _torch(b, layers, params, image_shape):
    from torch import nn

    modules, shape = [], image_shape
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            out, kernel, stride, pad, groups = (*layer[1:], 1)[:5]
            modules.append(nn.Conv2d(shape[0], out, kernel, stride, pad, groups=groups))
            shape = (out, *_spatial(shape[1:], kernel, stride, pad))
        elif kind == "bn":
            modules.append((nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0]))
        elif kind == "dense":
            modules.append(nn.Linear(int(np.prod(shape)), layer[1]))
            shape = (layer[1],)
        elif kind == "residual":
            modules.append(b.d2l.Residual(shape[0], *layer[1:]))
            shape = (layer[1], *_spatial(shape[1:], 3, layer[3], 1))
        elif kind == "avgpool":
            modules.append(nn.AvgPool2d(layer[1], layer[2]))
            shape = (shape[0], *_spatial(shape[1:], layer[1], layer[2], 0))
        elif kind == "maxpool":
            modules.append(nn.MaxPool2d(*layer[1:]))
            shape = (shape[0], *_spatial(shape[1:], *layer[1:]))
        elif kind == "gap":
            modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
            shape = (shape[0],)
        elif kind == "flatten":
            modules.append(nn.Flatten())
            shape = (int(np.prod(shape)),)
        else:
            modules.append({"relu": nn.ReLU, "sigmoid": nn.Sigmoid,
                            "dropout": nn.Dropout}[kind](*layer[1:]))
    net = nn.Sequential(*modules).to(b.device)
    b.d2l.import_params(net, params)
    return net


def _mxnet(b, layers, params, image_shape):
    from mxnet.gluon import nn

    net = nn.Sequential()
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            out, kernel, stride, pad, groups = (*layer[1:], 1)[:5]
            net.add(nn.Conv2D(out, kernel, strides=stride, padding=pad, groups=groups))
        elif kind == "bn":
            net.add(nn.BatchNorm())
        elif kind == "dense":
            net.add(nn.Dense(layer[1]))
        elif kind == "residual":
            net.add(b.d2l.Residual(*layer[1:]))
        elif kind == "avgpool":
            net.add(nn.AvgPool2D(layer[1], layer[2]))
        elif kind == "maxpool":
            net.add(nn.MaxPool2D(*layer[1:]))
        elif kind == "gap":
            net.add(nn.GlobalAvgPool2D(), nn.Flatten())
        elif kind == "flatten":
            net.add(nn.Flatten())
        elif kind == "dropout":
            net.add(nn.Dropout(layer[1]))
        else:
            net.add(nn.Activation(kind))
    net.initialize(ctx=b.device)
    b.d2l.import_params(net, params)
    return net


def _keras(b, layers, params, image_shape):
    import tensorflow as tf
    from tensorflow import keras

    L = keras.layers
    modules = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            out, kernel, stride, pad, groups = (*layer[1:], 1)[:5]
            # Explicit symmetric padding: Keras 'same' pads bottom/right only when strided.
            modules += ([L.ZeroPadding2D(pad)] if pad else []) + [
                L.Conv2D(out, kernel, strides=stride, groups=groups)]
        elif kind == "bn":
            modules.append(L.BatchNormalization(epsilon=1e-5, momentum=0.9))
        elif kind == "dense":
            modules.append(L.Dense(layer[1]))
        elif kind == "residual":
            modules.append(b.d2l.Residual(*layer[1:]))
        elif kind == "avgpool":
            modules.append(L.AvgPool2D(layer[1], layer[2]))
        elif kind == "maxpool":
            # Zero padding equals the -inf padding of MXNet/PyTorch here: the book pools
            # after a ReLU, so every window already holds a value >= 0.
            kernel, stride, pad = layer[1:]
            modules += ([L.ZeroPadding2D(pad)] if pad else []) + [L.MaxPool2D(kernel, stride)]
        elif kind == "gap":
            modules.append(L.GlobalAveragePooling2D())
        elif kind == "flatten":
            modules.append(L.Flatten())
        elif kind == "dropout":
            modules.append(L.Dropout(layer[1]))
        else:
            modules.append(L.Activation(kind))
    with tf.device(b.device):
        net = keras.Sequential(modules)
        net.build((None, *image_shape[1:], image_shape[0]) if len(image_shape) == 3
                  else (None, *image_shape))
        b.d2l.import_params(net, params)
    return net


def forward(b, net, X, training):
    """net(X) in training (batch statistics, dropout on) or inference mode, as NumPy (images
    come back NCHW)."""
    X = b.images(X) if X.ndim == 4 else b.tensor(X)
    if b.name == "torch":
        net.train(training)
        out = net(X)
    elif b.name == "mxnet":
        with b.fw.autograd.record(train_mode=training):
            out = net(X)
    else:
        out = net(X, training=training)
    return b.from_images(out) if len(out.shape) == 4 else b.numpy(out)


def classification_loss(backend):
    """The book's concise cross-entropy loss of chapter 3 in `backend`."""
    if backend.name == "torch":
        from torch import nn

        return nn.CrossEntropyLoss()
    if backend.name == "mxnet":
        from mxnet import gluon

        return gluon.loss.SoftmaxCrossEntropyLoss()
    from tensorflow import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def sgd_optimizer(backend, net, lr):
    """The framework's own SGD optimizer over `net`'s parameters (the book's concise path)."""
    if backend.name == "torch":
        import torch

        return torch.optim.SGD(net.parameters(), lr=lr)
    if backend.name == "mxnet":
        from mxnet import gluon

        return gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    from tensorflow import keras

    return keras.optimizers.SGD(learning_rate=lr)


# --- recurrent layers (8.6, 9.x): canonical weights and states in every framework ---------
#
# The canonical state of a recurrent layer is PyTorch's: h (num_layers * D, batch, H) for
# 'rnn' and 'gru', the pair (h, c) for 'lstm', row l * D + d for layer l and direction d
# (D = 2 if bidirectional else 1). Sequences are time-major (num_steps, batch, features) in
# the spec, as in MXNet and PyTorch; Keras layers are batch-major (the helpers transpose).

RECURRENT_KINDS = ("rnn", "gru", "lstm")


def init_recurrent(kind, input_size, num_hiddens, num_layers=1, bidirectional=False, seed=0,
                   k=0, scale=0.5):
    """Random canonical parameters of one recurrent layer (layer index k), uniform in
    [-scale, scale]."""
    from d2l.common.params import RECURRENT_GATES, parse_recurrent_name, recurrent_names

    rng = np.random.default_rng(seed)
    rows, directions = RECURRENT_GATES[kind] * num_hiddens, 2 if bidirectional else 1
    params = {}
    for name in recurrent_names(num_layers, bidirectional):
        field, layer, _ = parse_recurrent_name(name)
        cols = {"weight_ih": input_size if layer == 0 else directions * num_hiddens,
                "weight_hh": num_hiddens}.get(field)
        dims = (rows,) if cols is None else (rows, cols)
        params[f"{k}.{name}"] = rng.uniform(-scale, scale, dims).astype(np.float32)
    return params


def init_state(kind, num_layers, bidirectional, batch_size, num_hiddens, seed=0):
    """A random canonical state (see above) of a recurrent layer."""
    rng = np.random.default_rng(seed)
    dims = (num_layers * (2 if bidirectional else 1), batch_size, num_hiddens)
    h = rng.normal(0, 0.5, dims).astype(np.float32)
    return (h, rng.normal(0, 0.5, dims).astype(np.float32)) if kind == "lstm" else h


def rekeyed(params, k, new_k=0):
    """Canonical layer k of `params` as layer new_k (other layers left out)."""
    return {f"{new_k}.{key.split('.', 1)[1]}": v for key, v in params.items()
            if key.split(".", 1)[0] == str(k)}


def recurrent_layer(b, kind, num_hiddens, num_layers=1, bidirectional=False, input_size=None,
                    keras_cells=False):
    """The framework's recurrent layer, unloaded (an 'rnn' uses tanh everywhere; Gluon's
    `rnn.RNN` would default to ReLU). MXNet/PyTorch: time-major `rnn.RNN/GRU/LSTM`
    / `nn.RNN/GRU/LSTM` (PyTorch needs `input_size`). Keras (batch-major, return_sequences and
    return_state): SimpleRNN/GRU/LSTM for one layer (`keras.layers.RNN` over one cell with
    `keras_cells`), RNN over StackedRNNCells for several, Bidirectional for one layer both
    ways, and a list of Bidirectional layers (one per layer) for several layers both ways."""
    if b.name == "torch":
        from torch import nn

        cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind]
        return cls(input_size, num_hiddens, num_layers, bidirectional=bidirectional).to(
            b.device)
    if b.name == "mxnet":
        from mxnet.gluon import rnn

        if kind == "rnn":  # Gluon's default activation is ReLU, the others' tanh
            layer = rnn.RNN(num_hiddens, num_layers, "tanh", bidirectional=bidirectional)
        else:
            cls = rnn.GRU if kind == "gru" else rnn.LSTM
            layer = cls(num_hiddens, num_layers, bidirectional=bidirectional)
        layer.initialize(ctx=b.device)
        return layer
    from tensorflow import keras

    L = keras.layers
    cell = {"rnn": L.SimpleRNNCell, "gru": L.GRUCell, "lstm": L.LSTMCell}[kind]
    full = dict(return_sequences=True, return_state=True)
    if bidirectional:
        layers = [L.Bidirectional(L.RNN(cell(num_hiddens), **full)) for _ in range(num_layers)]
        return layers[0] if num_layers == 1 else layers
    if num_layers > 1:
        return L.RNN(L.StackedRNNCells([cell(num_hiddens) for _ in range(num_layers)]), **full)
    if keras_cells:
        return L.RNN(cell(num_hiddens), **full)
    return {"rnn": L.SimpleRNN, "gru": L.GRU, "lstm": L.LSTM}[kind](num_hiddens, **full)


def _per_layer(params):
    """A one-layer canonical recurrent layer (keys "0.<name>_l<l>[_reverse]") as one dict
    per layer l, each keyed like a single-layer recurrent layer."""
    from d2l.common.params import parse_recurrent_name

    split = {}
    for key, value in params.items():
        name = key.split(".", 1)[1]
        field, layer, reverse = parse_recurrent_name(name)
        split.setdefault(layer, {})[f"0.{field}_l0{'_reverse' if reverse else ''}"] = value
    return [split[layer] for layer in sorted(split)]


def load_recurrent(b, layer, params):
    """import_params for a layer of `recurrent_layer` (a list of Keras Bidirectional layers
    takes the canonical layer apart, one layer each)."""
    if isinstance(layer, list):
        for part, own in zip(layer, _per_layer(params)):
            b.d2l.import_params(part, own)
    else:
        b.d2l.import_params(layer, params)


def export_recurrent(b, layer):
    """export_params for a layer of `recurrent_layer` (a list is put back together)."""
    if not isinstance(layer, list):
        return b.d2l.export_params(layer)
    merged = {}
    for index, part in enumerate(layer):
        merged.update({key.replace("_l0", f"_l{index}"): value
                       for key, value in b.d2l.export_params(part).items()})
    return merged


def _state_rows(kind, state):
    """A canonical state as one entry per (layer, direction) row: h, or (h, c) for lstm."""
    return list(zip(*state)) if kind == "lstm" else list(state)


def _state_from_rows(kind, rows):
    if kind == "lstm":
        return np.stack([h for h, _ in rows]), np.stack([c for _, c in rows])
    return np.stack(rows)


def keras_state(b, layer, kind, state):
    """A canonical state as the initial_state of a Keras layer of `recurrent_layer`
    (flat for one cell and for Bidirectional, one list per cell for StackedRNNCells; a
    list of layers gets one such state per layer)."""
    from tensorflow import keras

    rows = [list(row) if kind == "lstm" else [row] for row in _state_rows(kind, state)]
    rows = [[b.tensor(part) for part in row] for row in rows]
    if isinstance(layer, list):
        return [rows[2 * i] + rows[2 * i + 1] for i in range(len(layer))]
    if isinstance(layer, keras.layers.Bidirectional):
        return rows[0] + rows[1]
    if isinstance(layer.cell, keras.layers.StackedRNNCells):
        return rows
    return rows[0]


def state_from_keras(b, layer, kind, states):
    """The canonical state of the states a Keras layer of `recurrent_layer` returned (per
    cell nested in lists or flat, as Keras 3 and tf-keras give them)."""
    import tensorflow as tf

    width = 2 if kind == "lstm" else 1
    flat = tf.nest.flatten(states)
    flat = [b.numpy(s) for s in flat]
    rows = [tuple(flat[i:i + width]) if width == 2 else flat[i]
            for i in range(0, len(flat), width)]
    return _state_from_rows(kind, rows)


def framework_state(b, layer, kind, state):
    """A canonical state as the state a layer of `recurrent_layer` takes: PyTorch a tensor
    (an (h, c) tuple for lstm), MXNet a list of arrays, Keras see `keras_state`."""
    if b.name == "torch":
        return tuple(b.tensor(s) for s in state) if kind == "lstm" else b.tensor(state)
    if b.name == "mxnet":
        return [b.tensor(s) for s in (state if kind == "lstm" else (state,))]
    return keras_state(b, layer, kind, state)


def canonical_state(b, layer, kind, state):
    """The canonical state of a state in the framework's format (see `framework_state`)."""
    if b.name == "tensorflow":
        return state_from_keras(b, layer, kind, state)
    listed = kind == "lstm" or b.name == "mxnet"  # else one PyTorch tensor
    parts = [b.numpy(s) for s in state] if listed else [b.numpy(state)]
    return tuple(parts) if kind == "lstm" else parts[0]


def run_recurrent(b, layer, kind, X, state=None):
    """A layer of `recurrent_layer` on time-major X (num_steps, batch, in) from the canonical
    `state` (None: the framework's zero state); returns (outputs (num_steps, batch, D * H),
    final canonical state), as NumPy."""
    given = None if state is None else framework_state(b, layer, kind, state)
    if b.name == "mxnet" and given is None:
        given = layer.begin_state(batch_size=X.shape[1], ctx=b.device)
    if b.name != "tensorflow":
        out, final = layer(b.tensor(X), given)
        return b.numpy(out), canonical_state(b, layer, kind, final)
    import tensorflow as tf

    parts = layer if isinstance(layer, list) else [layer]
    if given is None:
        initials = [None] * len(parts)
    else:
        initials = given if isinstance(layer, list) else [given]
    with tf.device(b.device):
        h, finals = b.tensor(np.asarray(X).transpose(1, 0, 2)), []
        for part, initial in zip(parts, initials):
            h, *final = part(h, initial_state=initial)
            finals.append(final)
    final = finals if isinstance(layer, list) else finals[0]
    return b.numpy(h).transpose(1, 0, 2), canonical_state(b, layer, kind, final)
