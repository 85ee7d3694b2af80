"""Chapter 3, Linear Neural Networks, for TensorFlow (tf.keras: Keras 3 or tf-keras).

Layouts: images NHWC float32 in [0, 1]; labels int32 class ids. Keras losses are called
label first and reduce to a batch mean; plain Python losses are called (y_hat, y) and return
one value per example. Gradients are never stored on variables: the custom `Updater` receives
them.
"""

import numpy as np
import tensorflow as tf
from tensorflow import keras

from ..common import alias_based, checks, devices, training
from ..common.bookkeeping import Accumulator
from ..common.fashion_mnist import read_fashion_mnist
from ..common.training import accuracy
from . import aliases

__all__ = ["synthetic_data", "linreg", "squared_loss", "sgd", "load_array",
           "get_dataloader_workers", "load_data_fashion_mnist",
           "evaluate_accuracy", "train_epoch_ch3", "train_ch3", "Updater"]


synthetic_data, linreg, squared_loss = alias_based.bind(
    aliases, alias_based.synthetic_data, alias_based.linreg, alias_based.squared_loss)


def sgd(params, grads, lr, batch_size):
    """Minibatch SGD in place on tf.Variables: p.assign_sub(lr * g / batch_size)."""
    training.check_sgd("sgd", lr, batch_size)
    training.check_gradients("sgd", params, grads)
    _sgd_step(params, grads, lr, batch_size)


def _sgd_step(params, grads, lr, batch_size):
    for param, grad in zip(params, grads):
        param.assign_sub(lr * grad / batch_size)


class Updater:
    """SGD on fixed parameters: `updater(batch_size, grads)` runs
    `sgd(params, grads, lr, batch_size)`; `train_epoch_ch3` differentiates w.r.t. `params`."""

    def __init__(self, params, lr):
        training.check_sgd("Updater", lr)
        self.params, self.lr = params, lr

    def __call__(self, batch_size, grads):
        training.check_sgd("Updater", self.lr, batch_size)
        training.check_gradients("Updater", self.params, grads)
        _sgd_step(self.params, grads, self.lr, batch_size)


def load_array(data_arrays, batch_size, is_train=True):
    """A tf.data.Dataset of minibatches over equally long arrays.

    When `is_train`, examples are shuffled with a 1000-example buffer (re-shuffled on every
    pass), as in the book.
    """
    checks.positive_int("load_array", "batch_size", batch_size)
    training.check_data_arrays(data_arrays)
    checks.boolean("load_array", "is_train", is_train)
    dataset = tf.data.Dataset.from_tensor_slices(tuple(data_arrays))
    if is_train:
        dataset = dataset.shuffle(buffer_size=1000)
    return dataset.batch(batch_size)


def get_dataloader_workers():
    """Parallel calls of the input pipelines' map steps: 4, or the CPU count when smaller."""
    return devices.dataloader_workers()


def load_data_fashion_mnist(batch_size, resize=None):
    """(train_iter, test_iter) over Fashion-MNIST: X (B, H, W, 1) float32 in [0, 1], y int32.

    As in the book, the training set is batched first and the batch order shuffled on every
    pass; `resize` gives H = W = resize (bilinear, half-pixel centres, no antialiasing).
    """
    checks.positive_int("load_data_fashion_mnist", "batch_size", batch_size)
    if resize is not None:
        checks.positive_int("load_data_fashion_mnist", "resize", resize)

    def scale(X, y):
        X = tf.cast(X, tf.float32) / 255
        if resize:
            X = tf.image.resize(X, (resize, resize), method="bilinear")
        return X, y

    def dataset(train):
        images, labels = read_fashion_mnist(train)
        data = tf.data.Dataset.from_tensor_slices(
            (images[..., None], labels.astype(np.int32))).batch(batch_size)
        if train:
            data = data.shuffle(len(images))
        return data.map(scale, num_parallel_calls=get_dataloader_workers())

    return dataset(True), dataset(False)


def evaluate_accuracy(net, data_iter):
    """Fraction of correct predictions of `net` over `data_iter` (inference mode)."""
    metric = Accumulator(2)
    for X, y in data_iter:
        metric.add(accuracy(net(X), y), aliases.size(y))
    training.examples_seen("evaluate_accuracy", "data_iter", metric[1])
    return metric[0] / metric[1]


def _forward(net, X):
    """net(X), in training mode for Keras layers and models (dropout active)."""
    return net(X, training=True) if isinstance(net, keras.layers.Layer) else net(X)


def train_epoch_ch3(net, train_iter, loss, updater):
    """One epoch; returns (mean loss, mean accuracy) over the examples.

    `updater` is a Keras optimizer of either Keras (anything with `apply_gradients`,
    stepping on the batch-mean loss over `net.trainable_variables`) or a callable with a
    `params` attribute taking (batch_size, grads of the summed loss), e.g. `Updater`.
    """
    metric = Accumulator(3)
    keras_loss = isinstance(loss, keras.losses.Loss)
    uses_optimizer = hasattr(updater, "apply_gradients")
    for X, y in train_iter:
        with tf.GradientTape() as tape:
            y_hat = _forward(net, X)
            l = loss(y, y_hat) if keras_loss else loss(y_hat, y)
            # Optimizers step on the batch mean, as Gluon's Trainer and torch.optim do; a
            # custom updater gets the gradients of the sum and divides by the batch size.
            objective = tf.reduce_mean(l) if uses_optimizer else tf.reduce_sum(l)
        if uses_optimizer:
            params = net.trainable_variables
            updater.apply_gradients(zip(tape.gradient(objective, params), params))
        else:
            updater(X.shape[0], tape.gradient(objective, updater.params))
        loss_sum = float(l) * aliases.size(y) if keras_loss else float(tf.reduce_sum(l))
        metric.add(loss_sum, accuracy(y_hat, y), aliases.size(y))
    training.examples_seen("train_epoch_ch3", "train_iter", metric[2])
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
    """Train for `num_epochs`, plotting the curves; asserts the book's quality bars."""
    training.train_ch3(train_epoch_ch3, evaluate_accuracy, net, train_iter, test_iter, loss,
                       num_epochs, updater)
