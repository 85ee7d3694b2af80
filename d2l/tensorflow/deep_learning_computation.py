"""Chapter 5, Deep Learning Computation, for TensorFlow: devices (section 5.6).

As in the book, a device is what `tf.device(name)` returns: a context manager that places
ops on that device, whose `_device_name` is '/GPU:i' or '/CPU:0'.
"""

import tensorflow as tf

from ..common.devices import check_index

__all__ = ["try_gpu", "try_all_gpus"]


def _num_gpus():
    return len(tf.config.list_physical_devices("GPU"))


def try_gpu(i=0):
    """`tf.device('/GPU:i')` if GPU i exists, else `tf.device('/CPU:0')`."""
    check_index(i)
    return tf.device(f"/GPU:{i}" if _num_gpus() >= i + 1 else "/CPU:0")


def try_all_gpus():
    """Every GPU as a `tf.device`, or `[tf.device('/CPU:0')]` when there is none."""
    devices = [tf.device(f"/GPU:{i}") for i in range(_num_gpus())]
    return devices if devices else [tf.device("/CPU:0")]
