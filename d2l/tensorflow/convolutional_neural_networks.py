"""Chapter 6, Convolutional Neural Networks, for TensorFlow."""

import tensorflow as tf

from ..common.bookkeeping import Accumulator
from ..common.convolution import check_corr2d
from ..common.training import accuracy
from .aliases import size

__all__ = ["corr2d", "evaluate_accuracy_gpu"]


def corr2d(X, K):
    """2-D cross-correlation of X (h, w) with K (kh, kw): no padding, stride 1, so the output
    is (h - kh + 1, w - kw + 1). One native convolution; gradients flow to X and K (the book's
    TensorFlow version filled a tf.Variable, which blocked them)."""
    check_corr2d(X, K)
    X = tf.convert_to_tensor(X)
    K = tf.cast(K, X.dtype)
    return tf.nn.conv2d(X[None, :, :, None], K[:, :, None, None], strides=1,
                        padding="VALID")[0, :, :, 0]


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """Accuracy of `net` over `data_iter`, each batch placed on `device` first (a `try_gpu()`
    object or a device name; default: where the batch already is)."""
    name = getattr(device, "_device_name", device)
    metric = Accumulator(2)
    for X, y in data_iter:
        if name is not None:
            with tf.device(name):
                X, y = tf.identity(X), tf.identity(y)
        metric.add(accuracy(net(X), y), size(y))
    return metric[0] / metric[1]
