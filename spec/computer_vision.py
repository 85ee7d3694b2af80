"""Chapter 13, Computer Vision."""

import re

import numpy as np

from . import canonical, reference, training_reference
from .computational_performance import (
    _framework_parts,
    cifar_like,
    devices_of,
    missing_device,
    run_train_ch13,
)
from .entry import Entry, Reject, Tol

# --- 13.1 Image Augmentation ---
# train_batch_ch13 / train_ch13 from canonical weights against NumPy SGD. Every framework
# takes the step lr * (gradient of the batch-mean loss): MXNet's trainer.step(batch_size)
# divides by the batch size itself, PyTorch and TensorFlow follow the summed loss and get the
# rate lr / batch_size (see `computational_performance._framework_parts`).

CH13_CNN = (("conv", 4, 5, 1, 0), ("sigmoid",), ("avgpool", 4, 4), ("flatten",),
            ("dense", 4))
CH13_SHAPE = (3, 32, 32)


def _batch_data(seed=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(8, 1, 3, 4)).astype(np.float32), rng.integers(0, 3, 8)


def _train_batch_probe(b, lr=0.4):
    X, y = _batch_data()
    params = canonical.init_params([12, 5, 3], 2)
    net = canonical.dense_stack(b, params, (1, 3, 4))
    loss, make_trainer = _framework_parts(b, lr, len(y))
    l, correct = b.d2l.train_batch_ch13(net, b.images(X), b.labels(y), loss, make_trainer(net),
                                        [b.device])
    return [float(b.numpy(l)), float(correct), b.d2l.export_params(net)]


def _train_batch_expect(lr=0.4):
    X, y = _batch_data()
    params = {k: v.astype(np.float64) for k, v in canonical.init_params([12, 5, 3], 2).items()}
    new, losses, logits = reference.sgd_step(params, X.reshape(len(X), -1), y, lr)
    return [losses.sum(), reference.accuracy(logits, y), new]


def _ch13_data():
    return cifar_like(64, 11), cifar_like(32, 12)


_CH13_PRINTED = re.compile(r"loss \d+\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}\n"
                           r"\d+\.\d examples/sec on \[.+\]\n$")


def _train_ch13_probe(b, lr=0.3, num_epochs=2):
    train, test = _ch13_data()
    params = canonical.init_model(CH13_CNN, CH13_SHAPE, 5)
    history, printed, _ = run_train_ch13(b, CH13_CNN, params, CH13_SHAPE, train, test, lr,
                                         num_epochs, 16, devices_of(b, 1))
    return [history, bool(_CH13_PRINTED.match(printed))]


def _train_ch13_expect(lr=0.3, num_epochs=2):
    train, test = _ch13_data()
    params = canonical.init_model(CH13_CNN, CH13_SHAPE, 5)
    batches = [(train[0][i:i + 16], train[1][i:i + 16]) for i in range(0, 64, 16)]
    history, _ = training_reference.train_ch6(CH13_CNN, params, batches, test, lr, num_epochs)
    return [history, True]


def _bad_devices(devices):
    return lambda b: (None, None, None, None, None, 1, devices(b))


def _bad_batch_devices(devices):
    return lambda b: (None, b.tensor(np.ones((2, 3), "f")), b.labels(np.zeros(2)), None, None,
                      devices(b))


ENTRIES = [
    Entry("train_batch_ch13", "13.1",
          "M: train_batch_ch13(net, features, labels, loss, trainer, devices, "
          "split_f=d2l.split_batch) | P, T: train_batch_ch13(net, X, y, loss, trainer, "
          "devices)",
          "One step on one minibatch, data parallel over `devices` (MXNet: split_f shards, "
          "kvstore; PyTorch: DataParallel/DistributedDataParallel wrappers; TensorFlow: "
          "MirroredStrategy); returns (loss sum, correct predictions) of the whole batch "
          "(PyTorch: the loss sum as a 0-d tensor). MXNet steps on the batch-mean gradient "
          "(trainer.step(batch_size)), PyTorch and TensorFlow on the summed loss's. Checked "
          "from canonical weights against a NumPy SGD step. An empty device list or a "
          "device the framework does not have raises ValueError naming devices. "
          "(TensorFlow is not in the book.)",
          probe=_train_batch_probe, expect=_train_batch_expect, tol=Tol(1e-4, 1e-5),
          rejects=(Reject("empty device list", _bad_batch_devices(lambda b: []),
                          match="devices"),
                   Reject("a device the framework does not have",
                          _bad_batch_devices(lambda b: [missing_device(b)]),
                          match="devices"))),
    Entry("train_ch13", "13.1",
          "M: train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs, "
          "devices=d2l.try_all_gpus(), split_f=d2l.split_batch) | P: train_ch13(net, "
          "train_iter, test_iter, loss, trainer, num_epochs, devices=d2l.try_all_gpus()) | "
          "T: train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs, "
          "devices=None)",
          "Trains with train_batch_ch13, plots train loss (loss sum / examples) and train "
          "accuracy five times per epoch (every max(1, num_batches // 5) batches: the book's "
          "num_batches // 5 fails below five batches) and the test accuracy per epoch; prints "
          "'loss …, train acc …, test acc …' and '… examples/sec on {devices}'. PyTorch "
          "wraps the net in DataParallel over several CUDA devices, in "
          "DistributedDataParallel inside a process group; TensorFlow (not in the book) takes "
          "a model (one device) or a function building it (called under the MirroredStrategy "
          "of several devices), returns the trained model, and takes devices=None for "
          "try_all_gpus() at call time (at import it would initialize TensorFlow's devices, "
          "after which logical devices cannot be configured). Checked on CIFAR-shaped images "
          "from canonical weights against NumPy SGD for 2 epochs. An empty device list, a "
          "device the framework does not have, or one listed twice raises ValueError naming "
          "devices.",
          probe=_train_ch13_probe, expect=_train_ch13_expect, tol=Tol(1e-4, 1e-5),
          rejects=(Reject("empty device list", _bad_devices(lambda b: []), match="devices"),
                   Reject("a device the framework does not have",
                          _bad_devices(lambda b: [missing_device(b)]), match="devices"))),
]
