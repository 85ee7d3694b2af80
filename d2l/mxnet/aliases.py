"""The book's framework aliases for MXNet (`mxnet.np`), with the meanings the spec gives them."""

from mxnet import np

__all__ = ["ones", "zeros", "arange", "meshgrid", "sin", "sinh", "cos", "cosh", "tanh",
           "linspace", "exp", "log", "tensor", "normal", "rand", "matmul", "int32", "float32",
           "concat", "stack", "abs", "eye", "numpy", "size", "reshape", "to", "reduce_sum",
           "argmax", "astype", "transpose"]

ones, zeros, arange, meshgrid = np.ones, np.zeros, np.arange, np.meshgrid
sin, sinh, cos, cosh, tanh = np.sin, np.sinh, np.cos, np.cosh, np.tanh
linspace, exp, log, abs, eye = np.linspace, np.exp, np.log, np.abs, np.eye
tensor, normal, rand, matmul = np.array, np.random.normal, np.random.rand, np.dot
int32, float32 = np.int32, np.float32
concat, stack = np.concatenate, np.stack


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
    """Sum over all elements, or over `axis` (keyword `keepdims` works)."""
    return x.sum(*args, **kwargs)


def argmax(x, *args, **kwargs):
    """Index of the largest element, over the flattened array or along `axis`."""
    return x.argmax(*args, **kwargs)


def astype(x, dtype):
    """`x` cast to `dtype`."""
    return x.astype(dtype)


def transpose(x):
    """`x` with all its axes reversed (the matrix transpose for 2-D arrays)."""
    return x.T
