"""NumPy references for the models and training loops of chapters 3 and 4.

Models are stacks of dense layers given by canonical parameters (`spec.canonical`):
{"<k>.weight": (in, out), "<k>.bias": (out,)}, with ReLU between layers and the input
flattened. Computation is in float64; the frameworks run in float32.
"""

import numpy as np


def n_dense(params):
    return len([k for k in params if k.endswith(".weight")])


def forward(params, X):
    """Logits of the dense stack; also returns each layer's input (for backprop)."""
    h = np.asarray(X, np.float64).reshape(len(X), -1)
    inputs = []
    for k in range(n_dense(params)):
        inputs.append(h)
        h = h @ params[f"{k}.weight"] + params[f"{k}.bias"]
        if k < n_dense(params) - 1:
            h = np.maximum(h, 0)
    return h, inputs


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(logits, y):
    """Per-example softmax cross-entropy of integer labels."""
    p = softmax(logits)
    return -np.log(p[np.arange(len(y)), y])


def accuracy(y_hat, y):
    """Number of correct predictions: argmax over axis 1 when y_hat has several columns,
    else y_hat itself compared with y."""
    y = np.asarray(y)
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = np.argmax(y_hat, axis=1)
    return float((y_hat.astype(y.dtype) == y).sum())


def squared(out, y):
    """Per-example half squared error (y reshaped to the output)."""
    return ((out - np.reshape(y, out.shape)) ** 2 / 2).sum(axis=1)


def sgd_step(params, X, y, lr, loss="cross_entropy"):
    """One SGD step on the batch mean of `loss` ('cross_entropy' of integer labels or
    'squared'); returns new params and the per-example losses and outputs before the step."""
    logits, inputs = forward(params, X)
    if loss == "cross_entropy":
        losses = cross_entropy(logits, y)
        grad = softmax(logits)
        grad[np.arange(len(y)), y] -= 1
    else:
        losses = squared(logits, y)
        grad = logits - np.reshape(y, logits.shape)
    grad /= len(y)
    new = dict(params)
    for k in reversed(range(n_dense(params))):
        w = params[f"{k}.weight"]
        new[f"{k}.weight"] = w - lr * inputs[k].T @ grad
        new[f"{k}.bias"] = params[f"{k}.bias"] - lr * grad.sum(axis=0)
        if k:
            grad = (grad @ w.T) * (inputs[k] > 0)
    return new, losses, logits


def train_epochs(params, batches, lr, num_epochs, loss="cross_entropy"):
    """What `train_epoch_ch3` returns per epoch with SGD on the batch-mean `loss`:
    a list of (mean loss, mean accuracy), and the final params."""
    params = {k: np.asarray(v, np.float64) for k, v in params.items()}
    history = []
    for _ in range(num_epochs):
        loss_sum = correct = count = 0.0
        for X, y in batches:
            params, losses, logits = sgd_step(params, X, y, lr, loss)
            loss_sum += losses.sum()
            correct += accuracy(logits, y)
            count += len(y)
        history.append((loss_sum / count, correct / count))
    return history, params


def bilinear_resize(images, size):
    """Resize N x H x W images to N x size x size: bilinear, half-pixel centres, no
    antialiasing (what the loaders' `resize` means)."""
    images = np.asarray(images, np.float64)
    _, h, w = images.shape

    def axis(n_in):
        pos = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, pos - lo

    (r0, r1, fr), (c0, c1, fc) = axis(h), axis(w)
    top = images[:, r0][:, :, c0] * (1 - fc) + images[:, r0][:, :, c1] * fc
    bottom = images[:, r1][:, :, c0] * (1 - fc) + images[:, r1][:, :, c1] * fc
    return top * (1 - fr[:, None]) + bottom * fr[:, None]


def conv2d(X, weight, bias, stride=1, padding=0):
    """NCHW cross-correlation with `padding` zeros on every side; weight (O, I, kh, kw)."""
    X = np.pad(np.asarray(X, np.float64), ((0, 0), (0, 0), (padding, padding),
                                           (padding, padding)))
    windows = np.lib.stride_tricks.sliding_window_view(X, weight.shape[2:], axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    return np.einsum("nchwij,ocij->nohw", windows, weight) + bias[None, :, None, None]


def batch_norm(X, params, k, training, eps=1e-5):
    """Batch normalisation of NCHW X with canonical params "<k>.gamma" etc.: batch statistics
    (biased variance) in training, running statistics in inference."""
    if training:
        mean, var = X.mean(axis=(0, 2, 3)), X.var(axis=(0, 2, 3))
    else:
        mean, var = params[f"{k}.running_mean"], params[f"{k}.running_var"]
    shape = (1, -1, 1, 1)
    return (params[f"{k}.gamma"].reshape(shape) * (X - mean.reshape(shape))
            / np.sqrt(var.reshape(shape) + eps) + params[f"{k}.beta"].reshape(shape))


def residual(params, X, strides, training):
    """The residual block of section 7.6 with canonical params: 0 conv1, 1 bn1, 2 conv2,
    3 bn2 and, when present, 4 the 1x1 shortcut convolution."""
    Y = conv2d(X, params["0.weight"], params["0.bias"], strides, 1)
    Y = np.maximum(batch_norm(Y, params, 1, training), 0)
    Y = batch_norm(conv2d(Y, params["2.weight"], params["2.bias"], 1, 1), params, 3, training)
    if "4.weight" in params:
        X = conv2d(X, params["4.weight"], params["4.bias"], strides, 0)
    return np.maximum(Y + X, 0)


def pool2d(X, kernel, stride, padding, mode):
    """NCHW max or average pooling; max pooling pads with -inf."""
    fill = -np.inf if mode == "max" else 0.0
    X = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)),
               constant_values=fill)
    windows = np.lib.stride_tricks.sliding_window_view(X, (kernel, kernel), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    return windows.max(axis=(4, 5)) if mode == "max" else windows.mean(axis=(4, 5))


def grouped_conv2d(X, weight, bias, stride, padding, groups):
    """conv2d with the channels split into `groups` independent convolutions."""
    xs = np.split(X, groups, axis=1)
    ws = np.split(weight, groups, axis=0)
    out = np.concatenate([conv2d(x, w, np.zeros(len(w)), stride, padding)
                          for x, w in zip(xs, ws)], axis=1)
    return out + bias[None, :, None, None]


def run(layers, params, X, training):
    """The NumPy forward pass of a model description (see `spec.canonical`); dropout is the
    identity (compare dropout models in inference mode only)."""
    h, k = np.asarray(X, np.float64), 0
    params = {key: np.asarray(v, np.float64) for key, v in params.items()}
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            out, kernel, stride, pad, groups = (*layer[1:], 1)[:5]
            h = grouped_conv2d(h, params[f"{k}.weight"], params[f"{k}.bias"], stride, pad,
                               groups)
            k += 1
        elif kind == "bn":
            h = (batch_norm(h, params, k, training) if h.ndim == 4 else
                 batch_norm(h[:, :, None, None], params, k, training)[:, :, 0, 0])
            k += 1
        elif kind == "dense":
            h = h.reshape(len(h), -1) @ params[f"{k}.weight"] + params[f"{k}.bias"]
            k += 1
        elif kind == "residual":
            n = 5 if layer[2] else 4
            own = {f"{int(key.split('.')[0]) - k}.{key.split('.')[1]}": v
                   for key, v in params.items() if k <= int(key.split(".")[0]) < k + n}
            h = residual(own, h, layer[3], training)
            k += n
        elif kind in ("avgpool", "maxpool"):
            h = pool2d(h, layer[1], layer[2], (*layer, 0)[3], kind[:3])
        elif kind == "gap":
            h = h.mean(axis=(2, 3))
        elif kind == "flatten":
            h = h.reshape(len(h), -1)
        elif kind == "relu":
            h = np.maximum(h, 0)
        elif kind == "sigmoid":
            h = 1 / (1 + np.exp(-h))
    return h
