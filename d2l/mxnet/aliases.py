"""The book's framework aliases for MXNet: `mxnet.np`'s own functions and call signatures.

The function aliases are `mxnet.np` functions themselves (every keyword works, `ctx=` and
`dtype=` included); the fluent ones (`reshape`, `reduce_sum`, `argmax`, `astype`, ...) call
the array's method with all the arguments given.
"""

from mxnet import np

from ..common import checks

__all__ = ["ones", "zeros", "arange", "meshgrid", "sin", "sinh", "cos", "cosh", "tanh",
           "linspace", "exp", "log", "tensor", "normal", "rand", "matmul", "int32", "float32",
           "concat", "stack", "abs", "eye", "numpy", "size", "reshape", "to", "reduce_sum",
           "argmax", "astype", "transpose"]

ones, zeros, arange, meshgrid = np.ones, np.zeros, np.arange, np.meshgrid
sin, sinh, cos, cosh, tanh = np.sin, np.sinh, np.cos, np.cosh, np.tanh
linspace, exp, log, abs, eye = np.linspace, np.exp, np.log, np.abs, np.eye
tensor, normal, rand = np.array, np.random.normal, np.random.rand
int32, float32 = np.int32, np.float32
concat, stack = np.concatenate, np.stack


def normal_samples(mean, std, shape):
    """Gaussian samples of `shape` (float32): the one spelling shared code (`d2l.common`) uses,
    since each framework's `normal` orders its arguments differently. Not a book alias."""
    return np.random.normal(mean, std, shape)


def numpy(x, *args, **kwargs):
    """A NumPy copy of `x`."""
    return x.asnumpy(*args, **kwargs)


def size(x):
    """Number of elements, as a Python int."""
    return x.size


def reshape(x, *args, **kwargs):
    """`x.reshape`: the new shape as a tuple or as separate ints."""
    return x.reshape(*args, **kwargs)


def to(x, *args, **kwargs):
    """`x` on another context (device)."""
    return x.as_in_context(*args, **kwargs)


def reduce_sum(x, *args, **kwargs):
    """`x.sum(axis=None, dtype=None, keepdims=False)`: sum over all elements or `axis`."""
    return x.sum(*args, **kwargs)


def argmax(x, *args, **kwargs):
    """`x.argmax(axis=None)`: index (int64) of the largest element, of the flattened array
    (axis None) or along `axis`."""
    return x.argmax(*args, **kwargs)


def astype(x, *args, **kwargs):
    """`x.astype(dtype, copy=True)`: `x` cast to `dtype`."""
    return x.astype(*args, **kwargs)


def transpose(x):
    """`x` with all its axes reversed (the matrix transpose for 2-D arrays)."""
    return x.T


def matmul(a, b, out=None):
    """`np.dot` (the book's MXNet matmul), with a ValueError naming the operands when their
    shapes do not fit."""
    checks.matmul_operands(a, b)
    return np.dot(a, b, out=out)
