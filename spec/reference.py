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
