"""Chapter 3, Linear Neural Networks, for MXNet (Gluon, `mxnet.np`).

Layouts: images NCHW float32 in [0, 1]; labels int32 class ids; Gluon losses return one
value per example.
"""

import functools
import sys

from mxnet import autograd, gluon, np, npx

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
    """Minibatch SGD in place: p -= lr * p.grad / batch_size (the array keeps its identity)."""
    training.check_sgd("sgd", lr, batch_size)
    training.check_gradients("sgd", params)
    _sgd_step(params, lr, batch_size)


def _sgd_step(params, lr, batch_size):
    for param in params:
        param[:] = param - lr * param.grad / batch_size


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
    """A Gluon DataLoader over equally long arrays, shuffled when `is_train`."""
    checks.positive_int("load_array", "batch_size", batch_size)
    training.check_data_arrays(data_arrays)
    checks.boolean("load_array", "is_train", is_train)
    arrays = [a if isinstance(a, np.ndarray) else np.array(a) for a in data_arrays]
    return _batch_loader(gluon.data.ArrayDataset(*arrays), batch_size, is_train, _as_arrays)


def _as_arrays(samples):
    """`[batch]` as a tuple of mxnet.np arrays, one per array of the dataset (ArrayDataset
    gives a single array's batch bare, and keeps 1-D arrays as NumPy)."""
    (batch,) = samples
    parts = batch if isinstance(batch, tuple) else (batch,)
    return tuple(p if isinstance(p, np.ndarray) else np.array(p, dtype=p.dtype)
                 for p in parts)


def _batch_loader(dataset, batch_size, shuffle, batchify_fn, **kwargs):
    """A Gluon DataLoader that indexes `dataset` with whole batches of indices (one gather
    per batch instead of one lookup per example); `len()` is the number of batches.

    The batch sampler yields one-element lists holding a batch's indices, so `batchify_fn`
    receives `[dataset[indices]]`: the whole batch as one "sample".
    """
    sampler = gluon.data.RandomSampler if shuffle else gluon.data.SequentialSampler
    batches = gluon.data.BatchSampler(sampler(len(dataset)), batch_size, "keep")
    return gluon.data.DataLoader(dataset, batch_sampler=gluon.data.BatchSampler(batches, 1),
                                 batchify_fn=batchify_fn, **kwargs)


def get_dataloader_workers():
    """Worker processes used by the data loaders: 4, or the CPU count when smaller (none on
    Windows)."""
    return 0 if sys.platform.startswith("win") else devices.dataloader_workers()


def _image_batch(samples, resize):
    """`[(uint8 images (B, 28, 28, 1), labels)]` as float32 [0, 1] NCHW, resized."""
    ((images, labels),) = samples
    X = np.array(images, dtype="float32") / 255
    if resize:
        X = npx.image.resize(X, size=(resize, resize))
    return X.transpose(0, 3, 1, 2), np.array(labels, dtype="int32")


def load_data_fashion_mnist(batch_size, resize=None):
    """(train_iter, test_iter) over Fashion-MNIST: X (B, 1, H, W) float32 in [0, 1], y int32.

    The train loader is shuffled; `resize` gives H = W = resize (bilinear, half-pixel
    centres, no antialiasing).
    """
    checks.positive_int("load_data_fashion_mnist", "batch_size", batch_size)
    if resize is not None:
        checks.positive_int("load_data_fashion_mnist", "resize", resize)

    def loader(train):
        images, labels = read_fashion_mnist(train)
        dataset = gluon.data.ArrayDataset(images[..., None], labels)
        return _batch_loader(dataset, batch_size, train,
                             functools.partial(_image_batch, resize=resize),
                             num_workers=get_dataloader_workers())

    return loader(True), loader(False)


def evaluate_accuracy(net, data_iter):
    """Fraction of correct predictions of `net` over `data_iter`."""
    metric = Accumulator(2)
    for X, y in data_iter:
        metric.add(accuracy(net(X), y), y.size)
    training.examples_seen("evaluate_accuracy", "data_iter", metric[1])
    return metric[0] / metric[1]


def train_epoch_ch3(net, train_iter, loss, updater):
    """One epoch; returns (mean loss, mean accuracy) over the examples.

    `updater` is a `gluon.Trainer`, or a callable taking the batch size (e.g. `Updater`);
    `loss` returns one value per example.
    """
    if isinstance(updater, gluon.Trainer):
        updater = updater.step
    metric = Accumulator(3)
    for X, y in train_iter:
        with autograd.record():
            y_hat = net(X)
            l = loss(y_hat, y)
        l.backward()
        updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.size)
    training.examples_seen("train_epoch_ch3", "train_iter", metric[2])
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
    """Train for `num_epochs`, plotting the curves; asserts the book's quality bars."""
    training.train_ch3(train_epoch_ch3, evaluate_accuracy, net, train_iter, test_iter, loss,
                       num_epochs, updater)
