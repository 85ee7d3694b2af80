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
    import keras
    import tensorflow as tf

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
