"""The canonical parameter format, and the chapter 3-4 models built from it in each backend.

Canonical parameters are a dict of float32 NumPy arrays, one pair per dense layer in forward
order: "<k>.weight" of shape (in_features, out_features) (so a layer computes x @ W + b) and
"<k>.bias" of shape (out_features,). Each backend's `export_params` / `import_params`
converts its own layout (PyTorch and Gluon store (out, in), Keras (in, out)) to and from this
form, so the same weights go into all three frameworks.
"""

import numpy as np


def init_params(sizes, seed=0):
    """Random canonical parameters of a dense stack with layer widths `sizes`
    (input features first)."""
    rng = np.random.default_rng(seed)
    params = {}
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"{k}.weight"] = rng.normal(0, 0.3, (n_in, n_out)).astype(np.float32)
        params[f"{k}.bias"] = rng.normal(0, 0.1, n_out).astype(np.float32)
    return params


def dense_stack(backend, params):
    """Flatten -> Dense (ReLU) -> ... -> Dense in `backend` (on its device), loaded with
    `params`.

    One layer is the concise softmax regression of section 3.7 (or linear regression of 3.3
    with one output); two or more layers are the MLP of section 4.3.
    """
    widths = [params[f"{k}.weight"].shape[1] for k in range(len(params) // 2)]
    if backend.name == "torch":
        from torch import nn

        layers = [nn.Flatten()]
        n_in = params["0.weight"].shape[0]
        for k, width in enumerate(widths):
            layers.append(nn.Linear(n_in, width))
            if k < len(widths) - 1:
                layers.append(nn.ReLU())
            n_in = width
        net = nn.Sequential(*layers).to(backend.device)
    elif backend.name == "mxnet":
        from mxnet.gluon import nn

        net = nn.Sequential()
        for k, width in enumerate(widths):
            net.add(nn.Dense(width, activation="relu" if k < len(widths) - 1 else None))
        net.initialize(ctx=backend.device)
    else:
        import keras
        import tensorflow as tf

        with tf.device(backend.device):
            net = keras.Sequential([keras.layers.Flatten()] + [
                keras.layers.Dense(width, activation="relu" if k < len(widths) - 1 else None)
                for k, width in enumerate(widths)])
            backend.d2l.import_params(net, params)
        return net
    backend.d2l.import_params(net, params)
    return net


def classification_loss(backend):
    """The book's concise cross-entropy loss of chapter 3 in `backend`."""
    if backend.name == "torch":
        from torch import nn

        return nn.CrossEntropyLoss()
    if backend.name == "mxnet":
        from mxnet import gluon

        return gluon.loss.SoftmaxCrossEntropyLoss()
    import keras

    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def sgd_optimizer(backend, net, lr):
    """The framework's own SGD optimizer over `net`'s parameters (the book's concise path)."""
    if backend.name == "torch":
        import torch

        return torch.optim.SGD(net.parameters(), lr=lr)
    if backend.name == "mxnet":
        from mxnet import gluon

        return gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    import keras

    return keras.optimizers.SGD(learning_rate=lr)
