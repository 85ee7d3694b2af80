"""Chapter 6, Convolutional Neural Networks, for MXNet."""

from mxnet import npx

from ..common.bookkeeping import Accumulator
from ..common.convolution import check_corr2d
from ..common.training import accuracy

__all__ = ["corr2d", "evaluate_accuracy_gpu"]


def corr2d(X, K):
    """2-D cross-correlation of X (h, w) with K (kh, kw): no padding, stride 1, so the output
    is (h - kh + 1, w - kw + 1). One native convolution; gradients flow to X and K."""
    check_corr2d(X, K)
    (h, w), (kh, kw) = X.shape, K.shape
    Y = npx.convolution(X.reshape(1, 1, h, w), K.reshape(1, 1, kh, kw).astype(X.dtype),
                        kernel=(kh, kw), num_filter=1, no_bias=True)
    return Y[0, 0]


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """Accuracy of `net` over `data_iter`, each batch moved to `device` first (default: the
    context of the net's first parameter)."""
    if device is None:
        device = list(net.collect_params().values())[0].list_ctx()[0]
    metric = Accumulator(2)
    for X, y in data_iter:
        X, y = X.as_in_context(device), y.as_in_context(device)
        metric.add(accuracy(net(X), y), y.size)
    return metric[0] / metric[1]
