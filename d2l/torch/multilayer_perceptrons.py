"""Chapter 4, Multilayer Perceptrons, for PyTorch."""

from ..common import training
from ..common.bookkeeping import Accumulator

__all__ = ["evaluate_loss"]


def evaluate_loss(net, data_iter, loss):
    """Σ loss values / Σ number of loss values over `data_iter` (y reshaped to the output)."""
    metric = Accumulator(2)
    for X, y in data_iter:
        out = net(X)
        l = loss(out, y.reshape(out.shape))
        metric.add(l.sum(), l.numel())
    training.examples_seen("evaluate_loss", "data_iter", metric[1])
    return metric[0] / metric[1]
