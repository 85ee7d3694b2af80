"""Chapter 11, Optimization Algorithms, for TensorFlow.

Data: `get_data_ch11` gives a tf.data.Dataset of (X (B, 5) float32, y (B,) float32)
batches. `annotate`, `train_2d` and `Benchmark` (12.1) are framework-neutral (`d2l.common`).
"""

import tensorflow as tf
from tensorflow import keras

from ..common import alias_based, checks
from ..common import optimization as opt
from . import aliases
from .linear_networks import linreg, load_array, squared_loss

__all__ = ["show_trace_2d", "get_data_ch11", "train_ch11", "train_concise_ch11"]

(show_trace_2d,) = alias_based.bind(aliases, opt.show_trace_2d)


def get_data_ch11(batch_size=10, n=1500):
    """(data_iter, 5): a shuffled tf.data.Dataset over the first `n` rows of the standardized
    airfoil data, X (B, 5) float32 and y (B,) float32."""
    features, labels = opt.airfoil_arrays(batch_size, n)
    return load_array((features, labels), batch_size, is_train=True), features.shape[1]


def _whole(data_iter):
    """(X, y) of a tf.data.Dataset of (X, y) batches, regathered in one batch, else None."""
    if isinstance(data_iter, tf.data.Dataset):
        return next(iter(data_iter.unbatch().batch(2**31 - 1)), None)
    return None


def _init_linreg(feature_dim):
    """tf.Variables w ~ N(0, 0.01²) of shape (feature_dim, 1) and b = 0 (1,)."""
    w = tf.Variable(tf.random.normal((feature_dim, 1), mean=0, stddev=0.01))
    b = tf.Variable(tf.zeros(1))
    return w, b


def train_ch11(trainer_fn, states, hyperparams, data_iter, feature_dim, num_epochs=2):
    """Linear regression from scratch with the optimizer step `trainer_fn([w, b], [dw, db],
    states, hyperparams)` after each batch's mean squared loss. Returns (cumulative
    seconds, losses every 200 examples)."""
    opt.check_trainer_fn("train_ch11", trainer_fn,
                         ("params", "grads", "states", "hyperparams"))
    checks.positive_int("train_ch11", "feature_dim", feature_dim)
    opt.check_loop("train_ch11", num_epochs)
    w, b = _init_linreg(feature_dim)
    whole = opt.WholeData("train_ch11", data_iter, tf.constant, _whole)

    def step(X, y):
        with tf.GradientTape() as tape:
            loss = tf.math.reduce_mean(squared_loss(linreg(X, w, b), y))
        dw, db = tape.gradient(loss, [w, b])
        trainer_fn([w, b], [dw, db], states, hyperparams)

    def evaluate():
        X, y = whole.get()
        return float(tf.math.reduce_mean(squared_loss(linreg(X, w, b), y)))

    return opt.train_loop("train_ch11", step, evaluate, data_iter, opt.num_batches(data_iter),
                          num_epochs)


def _concise_net(in_features):
    """Dense(1) with kernel ~ N(0, 0.01²) and a zero bias, built for `in_features` inputs."""
    net = keras.Sequential([keras.layers.Dense(
        1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01))])
    net.build((None, in_features))
    return net


def train_concise_ch11(trainer_fn, hyperparams, data_iter, num_epochs=2):
    """Linear regression with the Keras optimizer `trainer_fn(**hyperparams)` (e.g.
    keras.optimizers.SGD) on MeanSquaredError / 2, plotting and printing as `train_ch11`.
    Returns None."""
    opt.check_loop("train_concise_ch11", num_epochs)
    net = _concise_net(opt.input_width("train_concise_ch11", data_iter))
    optimizer = opt.make_optimizer("train_concise_ch11", trainer_fn, hyperparams)
    loss = keras.losses.MeanSquaredError()
    whole = opt.WholeData("train_concise_ch11", data_iter, tf.constant, _whole)

    def step(X, y):
        with tf.GradientTape() as tape:
            l = loss(y, net(X)) / 2
        params = net.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(l, params), params))

    def evaluate():
        X, y = whole.get()
        return float(loss(y, net(X))) / 2

    opt.train_loop("train_concise_ch11", step, evaluate, data_iter,
                   opt.num_batches(data_iter), num_epochs)
