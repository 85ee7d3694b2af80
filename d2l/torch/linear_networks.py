"""Chapter 3, Linear Neural Networks, for PyTorch.

Layouts: images NCHW float32 in [0, 1]; labels int64 class ids; losses per example unless
a mean-reduced loss is passed (the training loop handles both).
"""

import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils import data

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


def sgd(params, lr, batch_size):
    """Minibatch SGD in place: p -= lr * p.grad / batch_size, then p.grad is zeroed."""
    training.check_sgd("sgd", lr, batch_size)
    training.check_gradients("sgd", params)
    _sgd_step(params, lr, batch_size)


def _sgd_step(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


class Updater:
    """SGD on fixed parameters: `updater(batch_size)` runs `sgd(params, lr, batch_size)`."""

    def __init__(self, params, lr):
        training.check_sgd("Updater", lr)
        self.params, self.lr = params, lr

    def __call__(self, batch_size):
        training.check_sgd("Updater", self.lr, batch_size)
        training.check_gradients("Updater", self.params)
        _sgd_step(self.params, self.lr, batch_size)


def load_array(data_arrays, batch_size, is_train=True):
    """A DataLoader over equally long tensors (or arrays), shuffled when `is_train`."""
    checks.positive_int("load_array", "batch_size", batch_size)
    training.check_data_arrays(data_arrays)
    checks.boolean("load_array", "is_train", is_train)
    tensors = [torch.as_tensor(a) for a in data_arrays]
    return _batch_loader(data.TensorDataset(*tensors), batch_size, is_train)


def _batch_loader(dataset, batch_size, shuffle, **kwargs):
    """A DataLoader that indexes `dataset` with whole batches of indices (one tensor gather
    per batch instead of one lookup per example); `len()` is the number of batches. An empty
    dataset gives no batches (RandomSampler would refuse it)."""
    order = (data.RandomSampler(dataset) if shuffle and len(dataset)
             else data.SequentialSampler(dataset))
    sampler = data.BatchSampler(order, batch_size, drop_last=False)
    return data.DataLoader(dataset, sampler=sampler, batch_size=None, **kwargs)


def get_dataloader_workers():
    """Worker processes used by the data loaders: 4, or the CPU count when smaller."""
    return devices.dataloader_workers()


def _image_batch(batch, resize):
    """A batch of uint8 images (B, 1, 28, 28) and labels as float32 [0, 1] NCHW, resized."""
    images, labels = batch
    X = images.float() / 255
    if resize:
        X = F.interpolate(X, size=(resize, resize), mode="bilinear", align_corners=False)
    return X, labels


def load_data_fashion_mnist(batch_size, resize=None):
    """(train_iter, test_iter) over Fashion-MNIST: X (B, 1, H, W) float32 in [0, 1], y int64.

    The train loader is shuffled; `resize` gives H = W = resize (bilinear, half-pixel
    centres, no antialiasing).
    """
    checks.positive_int("load_data_fashion_mnist", "batch_size", batch_size)
    if resize is not None:
        checks.positive_int("load_data_fashion_mnist", "resize", resize)

    def loader(train):
        images, labels = read_fashion_mnist(train)
        dataset = data.TensorDataset(torch.from_numpy(images).unsqueeze(1),
                                     torch.from_numpy(labels.astype(np.int64)))
        workers = get_dataloader_workers()
        return _batch_loader(dataset, batch_size, train, num_workers=workers,
                             persistent_workers=workers > 0,
                             collate_fn=functools.partial(_image_batch, resize=resize))

    return loader(True), loader(False)


def evaluate_accuracy(net, data_iter):
    """Fraction of correct predictions of `net` over `data_iter` (an nn.Module is put in eval
    mode and run without gradients)."""
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    training.examples_seen("evaluate_accuracy", "data_iter", metric[1])
    return metric[0] / metric[1]


def train_epoch_ch3(net, train_iter, loss, updater):
    """One epoch; returns (mean loss, mean accuracy) over the examples.

    `updater` is a torch optimizer, or a callable taking the batch size (e.g. `Updater`).
    `loss` may reduce to a mean or return one value per example.
    """
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        l = l.detach()
        loss_sum = float(l) * y.numel() if l.ndim == 0 else float(l.sum())
        metric.add(loss_sum, accuracy(y_hat, y), y.numel())
    training.examples_seen("train_epoch_ch3", "train_iter", metric[2])
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
    """Train for `num_epochs`, plotting the curves; asserts the book's quality bars."""
    training.train_ch3(train_epoch_ch3, evaluate_accuracy, net, train_iter, test_iter, loss,
                       num_epochs, updater)
