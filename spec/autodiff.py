"""A small reverse-mode automatic differentiation in NumPy (float64), for the training oracles
of `spec.training_reference`: just the operations the book's seq2seq GRU, LeNet and concise
RNN need.

A `Tensor` holds a value and, when it was computed from other tensors, one vector-Jacobian
product per input: a function from the gradient of the output (the output's shape) to the
gradient contribution of that input (the input's shape). `grads(loss, wrt)` runs them in
reverse topological order from a scalar `loss`. Constants are Tensors without parents;
plain arrays and numbers are wrapped as constants. Every operation is checked against central
finite differences in tests/test_training_oracles.py.
"""

import numpy as np


class Tensor:
    """A float64 array `value` with the vector-Jacobian products of the operation that made
    it: `parents` is a tuple of (input Tensor, vjp) pairs."""

    def __init__(self, value, parents=()):
        self.value = np.asarray(value, np.float64)
        self.parents = parents

    @property
    def shape(self):
        return self.value.shape

    def __add__(self, other):
        other = constant(other)
        return Tensor(self.value + other.value,
                      ((self, lambda g: unbroadcast(g, self.shape)),
                       (other, lambda g: unbroadcast(g, other.shape))))

    __radd__ = __add__

    def __sub__(self, other):
        return self + constant(other) * -1.0

    def __rsub__(self, other):
        return constant(other) + self * -1.0

    def __mul__(self, other):
        other = constant(other)
        return Tensor(self.value * other.value,
                      ((self, lambda g: unbroadcast(g * other.value, self.shape)),
                       (other, lambda g: unbroadcast(g * self.value, other.shape))))

    __rmul__ = __mul__

    def __matmul__(self, other):
        """(..., n, k) @ (k, m) -> (..., n, m): a batch of matrices times one matrix."""
        other = constant(other)
        a, b = self.value, other.value
        return Tensor(a @ b, ((self, lambda g: g @ b.T),
                              (other, lambda g: a.reshape(-1, a.shape[-1]).T
                               @ g.reshape(-1, g.shape[-1]))))

    def __getitem__(self, index):
        """Basic or integer-array indexing (slices, an embedding lookup, a gather); the
        gradient adds back into the selected entries, repeated ones accumulating."""
        def vjp(g):
            out = np.zeros(self.shape)
            np.add.at(out, index, g)
            return out

        return Tensor(self.value[index], ((self, vjp),))

    def reshape(self, *shape):
        """The same entries in `shape` (NumPy's reshape)."""
        return Tensor(self.value.reshape(*shape), ((self, lambda g: g.reshape(self.shape)),))

    def transpose(self, *axes):
        """Axes permuted as NumPy's transpose(*axes) does (all axes given)."""
        inverse = np.argsort(axes)
        return Tensor(self.value.transpose(*axes),
                      ((self, lambda g: g.transpose(*inverse)),))

    def sum(self):
        """The sum of all entries (a scalar)."""
        return Tensor(self.value.sum(), ((self, lambda g: np.full(self.shape, g)),))


def constant(x):
    """x as a Tensor (a Tensor is returned as it is)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def unbroadcast(g, shape):
    """Sum the gradient g of a broadcast result back to an operand of `shape`."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def tanh(x):
    """Elementwise tanh (same shape as x)."""
    y = np.tanh(x.value)
    return Tensor(y, ((x, lambda g: g * (1 - y ** 2)),))


def sigmoid(x):
    """Elementwise 1 / (1 + e^-x) (same shape as x)."""
    y = 1 / (1 + np.exp(-x.value))
    return Tensor(y, ((x, lambda g: g * y * (1 - y)),))


def relu(x):
    """Elementwise max(x, 0) (same shape as x; gradient 0 at 0)."""
    return Tensor(np.maximum(x.value, 0), ((x, lambda g: g * (x.value > 0)),))


def log_softmax(x):
    """log softmax over the last axis (shifted by the row maximum, so no overflow)."""
    z = x.value - x.value.max(axis=-1, keepdims=True)
    y = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return Tensor(y, ((x, lambda g: g - np.exp(y) * g.sum(axis=-1, keepdims=True)),))


def concat(tensors, axis):
    """Tensors joined along `axis` (a non-negative axis)."""
    ends = np.cumsum([t.shape[axis] for t in tensors])
    parents = []
    for t, end in zip(tensors, ends):
        index = (slice(None),) * axis + (slice(end - t.shape[axis], end),)
        parents.append((t, lambda g, index=index: g[index]))
    return Tensor(np.concatenate([t.value for t in tensors], axis=axis), tuple(parents))


def im2col(X, kernel):
    """Every kernel x kernel window of NCHW X (stride 1): (N, H', W', C * kernel²), the
    window's entries in (c, i, j) order."""
    windows = np.lib.stride_tricks.sliding_window_view(X, (kernel, kernel), axis=(2, 3))
    n, c, h, w = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n, h, w, c * kernel * kernel)


def conv2d(x, weight, bias, padding):
    """NCHW cross-correlation, stride 1, `padding` zeros on every side; weight (O, C, k, k),
    bias (O,); result (N, O, H + 2p - k + 1, W + 2p - k + 1). Computed as im2col @ W."""
    out_channels, channels, kernel, _ = weight.shape
    p = padding
    padded = np.pad(x.value, ((0, 0), (0, 0), (p, p), (p, p)))
    cols = im2col(padded, kernel)
    W = weight.value.reshape(out_channels, -1)
    y = (cols @ W.T + bias.value).transpose(0, 3, 1, 2)

    def vjp_x(g):
        d_cols = g.transpose(0, 2, 3, 1) @ W  # (N, H', W', C k k)
        d_cols = d_cols.reshape(*d_cols.shape[:3], channels, kernel, kernel)
        d_padded = np.zeros(padded.shape)
        for i in range(kernel):
            for j in range(kernel):
                d_padded[:, :, i:i + g.shape[2], j:j + g.shape[3]] += \
                    d_cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        return d_padded[:, :, p:p + x.shape[2], p:p + x.shape[3]]

    def vjp_weight(g):
        g_rows = g.transpose(0, 2, 3, 1).reshape(-1, out_channels)
        return (g_rows.T @ cols.reshape(-1, cols.shape[-1])).reshape(weight.shape)

    return Tensor(y, ((x, vjp_x), (weight, vjp_weight),
                      (bias, lambda g: g.sum(axis=(0, 2, 3)))))


def avg_pool2d(x, size):
    """Average pooling of NCHW x over non-overlapping size x size windows (stride = size;
    H and W divisible by size)."""
    n, c, h, w = x.shape
    y = x.value.reshape(n, c, h // size, size, w // size, size).mean(axis=(3, 5))
    return Tensor(y, ((x, lambda g: np.repeat(np.repeat(g, size, axis=2), size, axis=3)
                       / size ** 2),))


def grads(loss, wrt):
    """d loss / d t for each Tensor t of `wrt` (a list), for a scalar `loss`; zeros for a
    tensor the loss does not depend on."""
    order, seen, stack = [], set(), [(loss, False)]
    while stack:  # post-order depth-first search, iterative: time loops make deep graphs
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
        elif id(t) not in seen:
            seen.add(id(t))
            stack.append((t, True))
            stack.extend((parent, False) for parent, _ in t.parents)
    total = {id(loss): np.ones(loss.shape)}
    for t in reversed(order):
        for parent, vjp in t.parents:
            total[id(parent)] = total.get(id(parent), 0) + vjp(total[id(t)])
    return [total.get(id(t), np.zeros(t.shape)) for t in wrt]
