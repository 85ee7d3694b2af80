"""The book's framework aliases for TensorFlow: TensorFlow's own functions and call signatures.

Each alias takes every call the book's TensorFlow code makes, with TensorFlow's argument
order, keyword names and defaults: `normal(shape, mean, stddev)` is `tf.random.normal`,
`rand(shape, minval, maxval)` is `tf.random.uniform`, `argmax(x, axis)` is `tf.argmax`
(axis None means 0), `reshape(x, shape)` is `tf.reshape`. Extensions never change the
meaning of a call TensorFlow accepts: `matmul` also multiplies 1-D operands (which
`tf.matmul` rejects); `log`, `to`, `size` and `numpy` exist in all three backends.
"""

import tensorflow as tf

from ..common import checks

__all__ = ["ones", "zeros", "arange", "meshgrid", "sin", "sinh", "cos", "cosh", "tanh",
           "linspace", "exp", "log", "tensor", "normal", "rand", "matmul", "int32", "float32",
           "concat", "stack", "abs", "eye", "numpy", "size", "reshape", "to", "reduce_sum",
           "argmax", "astype", "transpose"]

ones, zeros, arange, meshgrid = tf.ones, tf.zeros, tf.range, tf.meshgrid
sin, sinh, cos, cosh, tanh = tf.sin, tf.sinh, tf.cos, tf.cosh, tf.tanh
linspace, exp, log, abs, eye = tf.linspace, tf.exp, tf.math.log, tf.abs, tf.eye
tensor, normal, rand, int32, float32 = (tf.constant, tf.random.normal, tf.random.uniform,
                                        tf.int32, tf.float32)
concat, stack, reduce_sum, astype, transpose = (tf.concat, tf.stack, tf.reduce_sum, tf.cast,
                                                tf.transpose)
reshape, argmax = tf.reshape, tf.argmax


def normal_samples(mean, std, shape):
    """Gaussian samples of `shape` (float32): the one spelling shared code (`d2l.common`) uses,
    since each framework's `normal` orders its arguments differently. Not a book alias."""
    return tf.random.normal(shape, mean, std)


def matmul(a, b, *args, **kwargs):
    """`tf.matmul(a, b, transpose_a=False, transpose_b=False, ...)` for operands of rank >= 2.

    Extension: called with just two operands, a 1-D operand acts as a vector, as in NumPy's
    `matmul`: (k,) @ (..., k, m) -> (..., m), (..., n, k) @ (k,) -> (..., n), (k,) @ (k,) -> ().
    """
    a, b = tf.convert_to_tensor(a), tf.convert_to_tensor(b)
    if args or kwargs:
        return tf.matmul(a, b, *args, **kwargs)
    checks.matmul_operands(a, b)
    if a.shape.rank != 1 and b.shape.rank != 1:
        return tf.matmul(a, b)
    if a.shape.rank == 1 and b.shape.rank == 1:
        return tf.tensordot(a, b, axes=1)
    if a.shape.rank == 1:
        return tf.matmul(a[None, :], b)[..., 0, :]
    return tf.matmul(a, b[:, None])[..., 0]


def numpy(x, *args, **kwargs):
    """A NumPy copy of `x`."""
    return x.numpy(*args, **kwargs)


def size(x):
    """Number of elements, as a Python int (from the static shape when it is known)."""
    n = x.shape.num_elements()
    return int(tf.size(x)) if n is None else n


def to(x, device):
    """A copy of `x` placed on `device` (a device name such as '/CPU:0' or a `try_gpu()`)."""
    with tf.device(getattr(device, "_device_name", device)):
        return tf.identity(x)
