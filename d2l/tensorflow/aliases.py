"""The book's framework aliases for TensorFlow, with the meanings the spec gives them.

Where TensorFlow's own function orders its arguments differently from NumPy (`normal`,
`rand`, `reshape`, `argmax`, `matmul` of vectors), the alias takes the NumPy-style call the
MXNet and PyTorch aliases take, so book code means the same thing in every framework.
"""

import tensorflow as tf

__all__ = ["ones", "zeros", "arange", "meshgrid", "sin", "sinh", "cos", "cosh", "tanh",
           "linspace", "exp", "log", "tensor", "normal", "rand", "matmul", "int32", "float32",
           "concat", "stack", "abs", "eye", "numpy", "size", "reshape", "to", "reduce_sum",
           "argmax", "astype", "transpose"]

ones, zeros, arange, meshgrid = tf.ones, tf.zeros, tf.range, tf.meshgrid
sin, sinh, cos, cosh, tanh = tf.sin, tf.sinh, tf.cos, tf.cosh, tf.tanh
linspace, exp, log, abs, eye = tf.linspace, tf.exp, tf.math.log, tf.abs, tf.eye
tensor, int32, float32 = tf.constant, tf.int32, tf.float32
concat, stack, reduce_sum, astype, transpose = (tf.concat, tf.stack, tf.reduce_sum, tf.cast,
                                                tf.transpose)


def _shape(dims):
    """A shape given as one tuple/list or as separate ints."""
    return dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims


def normal(mean=0.0, std=1.0, size=None, dtype=tf.float32):
    """Gaussian samples of shape `size` with the given mean and standard deviation."""
    return tf.random.normal(() if size is None else size, mean, std, dtype=dtype)


def rand(*dims):
    """Uniform samples in [0, 1) of the given shape."""
    return tf.random.uniform(_shape(dims))


def matmul(a, b):
    """Matrix product; 1-D operands act as vectors, as in NumPy's `dot`."""
    if len(a.shape) == 1 or len(b.shape) == 1:
        return tf.tensordot(a, b, axes=1)
    return tf.matmul(a, b)


def numpy(x, *args, **kwargs):
    """A NumPy copy of `x`."""
    return x.numpy(*args, **kwargs)


def size(x):
    """Number of elements, as a Python int (from the static shape when it is known)."""
    n = x.shape.num_elements()
    return int(tf.size(x)) if n is None else n


def reshape(x, *shape):
    """`x` with a new shape, given as a tuple or as separate ints."""
    return tf.reshape(x, _shape(shape))


def to(x, device):
    """A copy of `x` placed on `device` (a device name such as '/CPU:0' or a `try_gpu()`)."""
    with tf.device(getattr(device, "_device_name", device)):
        return tf.identity(x)


def argmax(x, axis=None):
    """Index of the largest element, over the flattened tensor (axis None) or along `axis`."""
    if axis is None:
        return tf.argmax(tf.reshape(x, [-1]), axis=0)
    return tf.argmax(x, axis=axis)
