"""Chapter 6, Convolutional Neural Networks, for PyTorch."""

import torch
import torch.nn.functional as F

from ..common.bookkeeping import Accumulator
from ..common.convolution import check_corr2d
from ..common.training import accuracy

__all__ = ["corr2d", "evaluate_accuracy_gpu"]


def corr2d(X, K):
    """2-D cross-correlation of X (h, w) with K (kh, kw): no padding, stride 1, so the output
    is (h - kh + 1, w - kw + 1). One native convolution; gradients flow to X and K."""
    check_corr2d(X, K)
    return F.conv2d(X[None, None], K[None, None].to(X.dtype))[0, 0]


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """Accuracy of `net` over `data_iter`, each batch moved to `device` first (default: the
    device of the net's parameters). X may be a list of tensors (each is moved)."""
    if isinstance(net, torch.nn.Module):
        net.eval()
        if device is None:
            device = next(iter(net.parameters())).device
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            if device is not None:
                X = [x.to(device) for x in X] if isinstance(X, list) else X.to(device)
                y = y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
