"""Chapter 6, Convolutional Neural Networks, for PyTorch."""

import torch
import torch.nn.functional as F
from torch import nn

from ..common import checks, training
from ..common.bookkeeping import Accumulator
from ..common.convolution import check_corr2d
from ..common.training import accuracy

__all__ = ["corr2d", "evaluate_accuracy_gpu", "TrainCallback", "train_ch6"]


def corr2d(X, K):
    """2-D cross-correlation of X (h, w) with K (kh, kw): no padding, stride 1, so the output
    is (h - kh + 1, w - kw + 1); integer inputs are computed in float32. One native
    convolution; gradients flow to X and K."""
    check_corr2d(X, K)
    if not X.is_floating_point():
        X = X.float()
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
    training.examples_seen("evaluate_accuracy_gpu", "data_iter", metric[1])
    return metric[0] / metric[1]


class TrainCallback(training.EpochReporter):
    """Epoch hooks like the TensorFlow version's Keras callback, for hand-written loops:
    `on_epoch_begin(epoch)`, `on_epoch_end(epoch, logs)` with logs 'loss' and 'accuracy'."""

    def test_accuracy(self):
        return evaluate_accuracy_gpu(self.net, self.test_iter)


def _initialize(net, device):
    """Xavier-uniform weights for every nn.Linear and nn.Conv2d (biases keep their default),
    then move the net to `device`."""
    def init_weights(m):
        if type(m) in (nn.Linear, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)

    net.apply(init_weights)
    net.to(device)


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    """Train a classifier on `device` with SGD (`lr`) and the mean cross-entropy, plotting
    train loss/accuracy five times per epoch and test accuracy per epoch; prints
    `training on {device}`, then the final metrics and examples/sec. Returns None."""
    checks.positive_int("train_ch6", "num_epochs", num_epochs)
    checks.positive_number("train_ch6", "lr", lr)
    _initialize(net, device)
    print("training on", device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()

    def step(X, y):
        net.train()
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        optimizer.step()
        return l.detach() * X.shape[0], (y_hat.argmax(axis=1) == y).sum()

    training.train_ch6(step, lambda: evaluate_accuracy_gpu(net, test_iter), train_iter,
                       num_epochs, device)
