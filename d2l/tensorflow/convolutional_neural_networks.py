"""Chapter 6, Convolutional Neural Networks, for TensorFlow."""

import tensorflow as tf
from tensorflow import keras

from ..common import checks, training
from ..common.bookkeeping import Accumulator
from ..common.convolution import check_corr2d
from ..common.training import accuracy
from .aliases import size

__all__ = ["corr2d", "evaluate_accuracy_gpu", "TrainCallback", "train_ch6"]


def corr2d(X, K):
    """2-D cross-correlation of X (h, w) with K (kh, kw): no padding, stride 1, so the output
    is (h - kh + 1, w - kw + 1); integer inputs are computed in float32. One native
    convolution; gradients flow to X and K (the book's TensorFlow version filled a
    tf.Variable, which blocked them)."""
    check_corr2d(X, K)
    X = tf.convert_to_tensor(X)
    if not X.dtype.is_floating:
        X = tf.cast(X, tf.float32)
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
    training.examples_seen("evaluate_accuracy_gpu", "data_iter", metric[1])
    return metric[0] / metric[1]


class TrainCallback(training.EpochReporter, keras.callbacks.Callback):
    """The Keras callback `train_ch6` fits with: times each epoch, evaluates the test
    accuracy, plots the epoch's loss/accuracy and prints the summary after the last epoch."""

    def __init__(self, net, train_iter, test_iter, num_epochs, device_name):
        keras.callbacks.Callback.__init__(self)
        training.EpochReporter.__init__(self, net, train_iter, test_iter, num_epochs,
                                        device_name)

    def test_accuracy(self):
        return self.net.evaluate(self.test_iter, verbose=0, return_dict=True)["accuracy"]


def train_ch6(net_fn, train_iter, test_iter, num_epochs, lr, device):
    """Build `net_fn()` on `device` (a `try_gpu()` object), train it with SGD (`lr`) and
    softmax cross-entropy through Keras' `fit`, plotting and printing through
    `TrainCallback`; returns the trained model."""
    checks.positive_int("train_ch6", "num_epochs", num_epochs)
    checks.positive_number("train_ch6", "lr", lr)
    device_name = getattr(device, "_device_name", device)
    with tf.distribute.OneDeviceStrategy(device_name).scope():
        net = net_fn()
        net.compile(optimizer=keras.optimizers.SGD(learning_rate=float(lr)),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"], jit_compile=False)
    callback = TrainCallback(net, train_iter, test_iter, num_epochs, device_name)
    # The dataset shuffles itself; shuffle=False stops Keras warning that it would not.
    net.fit(train_iter, epochs=num_epochs, verbose=0, callbacks=[callback], shuffle=False)
    return net
