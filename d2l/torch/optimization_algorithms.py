"""Chapter 11, Optimization Algorithms, for PyTorch.

Data: `get_data_ch11` gives a DataLoader of (X (B, 5) float32, y (B,) float32) batches.
`annotate`, `train_2d` and `Benchmark` (12.1) are framework-neutral (`d2l.common`).
"""

import torch
from torch import nn
from torch.utils import data

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
    return load_array((torch.from_numpy(features), torch.from_numpy(labels)), batch_size,
                      is_train=True), features.shape[1]


def _whole(data_iter):
    """(X, y) of a DataLoader over a TensorDataset of two tensors, else None."""
    dataset = getattr(data_iter, "dataset", None)
    if isinstance(dataset, data.TensorDataset) and len(dataset.tensors) == 2:
        return dataset.tensors
    return None


def _init_linreg(feature_dim):
    """w ~ N(0, 0.01²) of shape (feature_dim, 1) and b = 0 (1,), both requiring gradients."""
    w = torch.normal(0.0, 0.01, size=(feature_dim, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return w, b


def train_ch11(trainer_fn, states, hyperparams, data_iter, feature_dim, num_epochs=2):
    """Linear regression from scratch with the optimizer step `trainer_fn([w, b], states,
    hyperparams)` (gradients in `.grad`; the book's optimizers zero them), after each batch's
    mean squared loss. Returns (cumulative seconds, losses every 200 examples)."""
    opt.check_trainer_fn("train_ch11", trainer_fn, ("params", "states", "hyperparams"))
    checks.positive_int("train_ch11", "feature_dim", feature_dim)
    opt.check_loop("train_ch11", num_epochs)
    w, b = _init_linreg(feature_dim)
    whole = opt.WholeData("train_ch11", data_iter, torch.from_numpy, _whole)

    def step(X, y):
        loss = squared_loss(linreg(X, w, b), y).mean()
        loss.backward()
        trainer_fn([w, b], states, hyperparams)

    def evaluate():
        X, y = whole.get()
        with torch.no_grad():
            return float(squared_loss(linreg(X, w, b), y).mean())

    return opt.train_loop("train_ch11", step, evaluate, data_iter, opt.num_batches(data_iter),
                          num_epochs)


def _concise_net(in_features):
    """nn.Linear(in_features, 1) with weights ~ N(0, 0.01²) and a zero bias."""
    net = nn.Sequential(nn.Linear(in_features, 1))
    nn.init.normal_(net[0].weight, std=0.01)
    nn.init.zeros_(net[0].bias)
    return net


def train_concise_ch11(trainer_fn, hyperparams, data_iter, num_epochs=4):
    """Linear regression with the optimizer `trainer_fn(net.parameters(), **hyperparams)`
    (e.g. torch.optim.SGD) on loss MSELoss / 2, plotting and printing as `train_ch11`.
    The input width is read from the first batch (the book hard-codes 5). Returns None."""
    opt.check_loop("train_concise_ch11", num_epochs)
    net = _concise_net(opt.input_width("train_concise_ch11", data_iter))
    optimizer = opt.make_optimizer("train_concise_ch11", trainer_fn, hyperparams,
                                   list(net.parameters()))
    loss = nn.MSELoss()
    whole = opt.WholeData("train_concise_ch11", data_iter, torch.from_numpy, _whole)

    def step(X, y):
        optimizer.zero_grad()
        out = net(X)
        (loss(out, y.reshape(out.shape)) / 2).backward()
        optimizer.step()

    def evaluate():
        X, y = whole.get()
        with torch.no_grad():
            out = net(X)
            return float(loss(out, y.reshape(out.shape))) / 2

    opt.train_loop("train_concise_ch11", step, evaluate, data_iter,
                   opt.num_batches(data_iter), num_epochs)
