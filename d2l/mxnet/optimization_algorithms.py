"""Chapter 11, Optimization Algorithms, for MXNet.

Data: `get_data_ch11` gives a Gluon DataLoader of (X (B, 5) float32, y (B,) float32)
`mxnet.np` batches. `annotate`, `train_2d` and `Benchmark` (12.1) are framework-neutral
(`d2l.common`).
"""

import mxnet as mx
from mxnet import autograd, gluon, init, np
from mxnet.gluon import nn

from ..common import alias_based, checks
from ..common import optimization as opt
from . import aliases
from .linear_networks import linreg, load_array, squared_loss

__all__ = ["show_trace_2d", "get_data_ch11", "train_ch11", "train_concise_ch11"]

(show_trace_2d,) = alias_based.bind(aliases, opt.show_trace_2d)


def get_data_ch11(batch_size=10, n=1500):
    """(data_iter, 5): shuffled batches of the first `n` rows of the standardized airfoil data,
    X (B, 5) float32 and y (B,) float32."""
    features, labels = opt.airfoil_arrays(batch_size, n)
    return load_array((np.array(features), np.array(labels)), batch_size,
                      is_train=True), features.shape[1]


def _whole(data_iter):
    """(X, y) of a Gluon DataLoader over an ArrayDataset of two arrays, else None."""
    dataset = getattr(data_iter, "_dataset", None)
    if isinstance(dataset, gluon.data.ArrayDataset) and len(dataset._data) == 2:
        return tuple(a if isinstance(a, np.ndarray) else np.array(a) for a in dataset._data)
    return None


def _init_linreg(feature_dim):
    """w ~ N(0, 0.01²) of shape (feature_dim, 1) and b = 0 (1,), with gradient buffers."""
    w = np.random.normal(scale=0.01, size=(feature_dim, 1))
    b = np.zeros(1)
    w.attach_grad()
    b.attach_grad()
    return w, b


def train_ch11(trainer_fn, states, hyperparams, data_iter, feature_dim, num_epochs=2):
    """Linear regression from scratch with the optimizer step `trainer_fn([w, b], states,
    hyperparams)` (gradients in `.grad`) after each batch's mean squared loss. Returns
    (cumulative seconds, losses every 200 examples)."""
    opt.check_trainer_fn("train_ch11", trainer_fn, ("params", "states", "hyperparams"))
    checks.positive_int("train_ch11", "feature_dim", feature_dim)
    opt.check_loop("train_ch11", num_epochs)
    w, b = _init_linreg(feature_dim)
    whole = opt.WholeData("train_ch11", data_iter, np.array, _whole)

    def step(X, y):
        with autograd.record():
            loss = squared_loss(linreg(X, w, b), y).mean()
        loss.backward()
        trainer_fn([w, b], states, hyperparams)

    def evaluate():
        X, y = whole.get()
        return float(squared_loss(linreg(X, w, b), y).mean())

    return opt.train_loop("train_ch11", step, evaluate, data_iter, opt.num_batches(data_iter),
                          num_epochs)


def _concise_net(in_features):
    """Dense(1) with weights ~ N(0, 0.01²) and a zero bias (Gluon's bias default)."""
    net = nn.Sequential()
    net.add(nn.Dense(1, in_units=in_features))
    net.initialize(init.Normal(sigma=0.01))
    return net


def _check_optimizer(tr_name, hyperparams):
    """ValueError unless gluon.Trainer can make the optimizer `tr_name` from `hyperparams`."""
    if not isinstance(hyperparams, dict):
        raise ValueError(f"train_concise_ch11: hyperparams must be a dict of optimizer "
                         f"arguments, got {hyperparams!r}")
    if isinstance(tr_name, mx.optimizer.Optimizer):
        if hyperparams:
            raise ValueError("train_concise_ch11: hyperparams must be empty when tr_name is "
                             "an Optimizer instance")
        return
    if not isinstance(tr_name, str) or tr_name.lower() not in mx.optimizer.Optimizer.opt_registry:
        raise ValueError(f"train_concise_ch11: tr_name must name a Gluon optimizer (e.g. "
                         f"'sgd', 'adam'), got {tr_name!r}")
    try:
        mx.optimizer.create(tr_name, **hyperparams)
    except TypeError as error:
        raise ValueError(f"train_concise_ch11: optimizer {tr_name!r} does not take "
                         f"hyperparams keys {sorted(hyperparams)}: {error}") from None


def train_concise_ch11(tr_name, hyperparams, data_iter, num_epochs=2):
    """Linear regression with `gluon.Trainer(params, tr_name, hyperparams)` on the L2 loss
    (½ squared error per example, `trainer.step(batch size)`), plotting and printing as
    `train_ch11`. The input width is read from the first batch. Returns None."""
    _check_optimizer(tr_name, hyperparams)
    opt.check_loop("train_concise_ch11", num_epochs)
    net = _concise_net(opt.input_width("train_concise_ch11", data_iter))
    trainer = gluon.Trainer(net.collect_params(), tr_name, hyperparams)
    loss = gluon.loss.L2Loss()
    whole = opt.WholeData("train_concise_ch11", data_iter, np.array, _whole)

    def step(X, y):
        with autograd.record():
            l = loss(net(X), y)
        l.backward()
        trainer.step(X.shape[0])

    def evaluate():
        X, y = whole.get()
        return float(loss(net(X), y).mean())

    opt.train_loop("train_concise_ch11", step, evaluate, data_iter,
                   opt.num_batches(data_iter), num_epochs)
