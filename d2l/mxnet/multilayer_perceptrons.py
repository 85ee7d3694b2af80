"""Chapter 4, Multilayer Perceptrons, for MXNet."""

from ..common.bookkeeping import Accumulator

__all__ = ["evaluate_loss"]


def evaluate_loss(net, data_iter, loss):
    """Σ loss values / Σ number of loss values over `data_iter`."""
    metric = Accumulator(2)
    for X, y in data_iter:
        l = loss(net(X), y)
        metric.add(l.sum(), l.size)
    return metric[0] / metric[1]
