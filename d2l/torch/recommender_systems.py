"""Chapter 16, Recommender Systems, for PyTorch (upstream had MXNet only): MovieLens loaders
(16.2), the rating training loop (16.3), ranking losses (16.5), ranking evaluation and
training (16.6) and the click-through-rate dataset (16.8). Framework-neutral parts live in
`d2l.common.recsys`.

Conventions: user and item ids are int64 tensors, scores float32. `devices` is the book's
list of devices (`d2l.try_all_gpus()`): the net runs on devices[0], wrapped in
`nn.DataParallel` over several GPUs. `trainer` is a `torch.optim` optimizer.
"""

import numpy as np
import torch
from torch import nn
from torch.utils import data

from ..common import recsys
from .deep_learning_computation import try_all_gpus

__all__ = ["load_data_ml100k", "split_and_load_ml100k", "train_recsys_rating", "BPRLoss",
           "HingeLossbRec", "evaluate_ranking", "train_ranking", "CTRDataset"]


# --- 16.2 The MovieLens Dataset ---

def load_data_ml100k(data, num_users, num_items, feedback="explicit"):
    """(users, items, scores, inter) as in `d2l.common.recsys.load_data_ml100k`; an explicit
    `inter` is a float32 tensor (num_items, num_users)."""
    users, items, scores, inter = recsys.load_data_ml100k(data, num_users, num_items, feedback)
    if feedback == "explicit":
        inter = torch.from_numpy(inter)
    return users, items, scores, inter


def split_and_load_ml100k(split_mode="seq-aware", feedback="explicit", test_ratio=0.1,
                          batch_size=256):
    """Read, split and convert MovieLens 100K; returns (num_users, num_items, train_iter,
    test_iter): DataLoaders of (users int64, items int64, scores float32) batches, the
    training one shuffled (the last batch may be smaller: PyTorch has no rollover)."""
    num_users, num_items, train, test = recsys.read_split_load(split_mode, feedback,
                                                               test_ratio, batch_size)

    def dataset(part):
        u, i, r = part
        return data.TensorDataset(torch.tensor(u, dtype=torch.int64),
                                  torch.tensor(i, dtype=torch.int64),
                                  torch.tensor(r, dtype=torch.float32))

    train_iter = data.DataLoader(dataset(train), batch_size=batch_size, shuffle=True)
    test_iter = data.DataLoader(dataset(test), batch_size=batch_size)
    return num_users, num_items, train_iter, test_iter


# --- 16.3 Matrix Factorization ---

def _placed(net, devices):
    """The devices and the net on the first (DataParallel over several GPUs)."""
    net.to(devices[0])
    if len(devices) > 1:
        net = nn.DataParallel(net, device_ids=devices)
    return devices, net


def train_recsys_rating(net, train_iter, test_iter, loss, trainer, num_epochs,
                        devices=try_all_gpus(), evaluator=None, **kwargs):  # noqa: B008
    """Train a rating model; after each epoch `evaluator(net, test_iter, devices)` (or, with
    kwargs as AutoRec, `evaluator(net, test_iter, kwargs['inter_mat'], devices)`) gives the
    test RMSE. A batch is a list of tensors: all but the last are the net's inputs, the last
    the target (a single tensor is both). `loss(prediction, target)` may return one value per
    example or their mean: the gradient is that of the batch mean. Plots and prints as
    `d2l.common.recsys.train_rating_loop`."""
    fn = "train_recsys_rating"
    devices, model = _placed(net, recsys.check_loop(fn, num_epochs, evaluator, devices))

    def step(values):
        values = [v.to(devices[0]) for v in recsys.as_list(values)]
        inputs = values[:-1] if len(values) > 1 else values
        model.train()
        trainer.zero_grad()
        l = loss(model(*inputs), values[-1]).mean()
        l.backward()
        trainer.step()
        return float(l.detach()), values[0].shape[0], values[0].numel()

    def evaluate():
        model.eval()
        with torch.no_grad():
            if kwargs:
                return evaluator(net, test_iter, kwargs["inter_mat"], devices)
            return evaluator(net, test_iter, devices)

    recsys.train_rating_loop(step, evaluate, train_iter, num_epochs, str(devices))


# --- 16.5 Personalized Ranking ---

class BPRLoss(nn.Module):
    """Bayesian personalized ranking loss: -Σ log σ(positive - negative) over axis 0, kept
    as a (1, ...) axis. Computed as Σ softplus(negative - positive), finite for any finite
    scores (upstream's log of a sigmoid gave inf past |difference| ~ 90). weight and
    batch_axis are accepted and ignored, as upstream."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(**kwargs)

    def forward(self, positive, negative):
        return nn.functional.softplus(negative - positive).sum(dim=0, keepdim=True)


class HingeLossbRec(nn.Module):
    """Hinge ranking loss: Σ max(margin - (positive - negative), 0) over every element (a
    0-d tensor)."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(**kwargs)

    def forward(self, positive, negative, margin=1):
        return torch.clamp(margin - (positive - negative), min=0).sum()


# --- 16.6 Neural Collaborative Filtering ---

def evaluate_ranking(net, test_input, seq, candidates, num_users, num_items, devices):
    """Mean hit rate@50 and mean AUC over all users (see
    `d2l.common.recsys.ranking_metrics`): every user ranks every item of the universe
    range(num_items) (upstream: range(num_users), a bug) that is not in candidates[u] (the
    training items), scored by net(users, items), or net(users, seq[users], items) with a
    sequence input, in inference mode, in large batches. Returns (hit rate, AUC) floats."""
    recsys.check_ranking_sizes(num_users, num_items)
    device = recsys.check_devices("evaluate_ranking", devices)[0]
    was_training = net.training
    net.eval()

    def score(users, items, seq_rows):
        args = [torch.from_numpy(users).to(device)]
        if seq_rows is not None:
            args.append(torch.as_tensor(seq_rows).to(device))
        args.append(torch.from_numpy(items).to(device))
        return net(*args).float().cpu().numpy()

    with torch.no_grad():
        scores = recsys.score_all(score, num_users, num_items,
                                  None if seq is None else _numpy(seq))
    net.train(was_training)
    return recsys.ranking_metrics(scores, test_input, candidates)


def _numpy(x):
    return x.cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def train_ranking(net, train_iter, test_iter, loss, trainer, test_seq_iter, num_users,
                  num_items, num_epochs, devices, evaluator, candidates, eval_step=1):
    """Train a ranking model on batches (users, [sequences,] items, negative items):
    positive scores net(*batch[:-1]), negative ones with the last tensor in place of the
    items; the gradient is that of loss(positive, negative) summed and divided by the batch
    size (as Gluon's trainer.step(batch_size)). Every eval_step epochs, in eval mode,
    `evaluator(net, test_iter, test_seq_iter, candidates, num_users, num_items, devices)`
    gives (hit rate, AUC). Plots and prints as `d2l.common.recsys.train_ranking_loop`."""
    fn = "train_ranking"
    devices, model = _placed(net, recsys.check_loop(fn, num_epochs, evaluator, devices,
                                                    eval_step))

    def step(values):
        values = [v.to(devices[0]) for v in recsys.as_list(values)]
        model.train()
        trainer.zero_grad()
        p_pos = model(*values[:-1])
        p_neg = model(*values[:-2], values[-1])
        l = loss(p_pos, p_neg).sum()
        (l / values[0].shape[0]).backward()
        trainer.step()
        return float(l.detach()), values[0].shape[0], values[0].numel()

    def evaluate():
        model.eval()
        with torch.no_grad():
            return evaluator(net, test_iter, test_seq_iter, candidates, num_users, num_items,
                             devices)

    recsys.train_ranking_loop(step, evaluate, train_iter, num_epochs, eval_step, str(devices))


# --- 16.8 Feature-Rich Recommender Systems ---

class CTRDataset(recsys.CTRTable, data.Dataset):
    """Click-through-rate examples of the book's tab-separated format (see
    `d2l.common.recsys.read_ctr`). Item idx: (feature indices + field offsets (num_feat,)
    int64, label (1,) float32). Attributes as upstream: NUM_FEATS, count, data, feat_mapper,
    defaults, field_dims, offsets."""

    def __getitem__(self, idx):
        x, y = self.example(idx)
        return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
