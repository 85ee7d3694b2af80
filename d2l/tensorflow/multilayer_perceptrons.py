"""Chapter 4, Multilayer Perceptrons, for TensorFlow."""

import tensorflow as tf

from ..common import training
from ..common.bookkeeping import Accumulator
from .aliases import size

__all__ = ["evaluate_loss"]


def evaluate_loss(net, data_iter, loss):
    """Σ loss values / Σ number of loss values over `data_iter` (loss called (y_hat, y))."""
    metric = Accumulator(2)
    for X, y in data_iter:
        l = loss(net(X), y)
        metric.add(tf.reduce_sum(l), size(l))
    training.examples_seen("evaluate_loss", "data_iter", metric[1])
    return metric[0] / metric[1]
