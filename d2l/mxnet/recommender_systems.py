"""Chapter 16, Recommender Systems, for MXNet: MovieLens loaders (16.2), the rating training
loop (16.3), ranking losses (16.5), ranking evaluation and training (16.6) and the
click-through-rate dataset (16.8). Framework-neutral parts live in `d2l.common.recsys`.

As upstream, MovieLens batches hold float32 arrays (mxnet.np's default dtype for ids), and
the training loops split every batch over `devices` (the book's list of contexts).
"""

import numpy as onp
from mxnet import autograd, gluon, np

from ..common import recsys
from .deep_learning_computation import try_all_gpus

__all__ = ["load_data_ml100k", "split_and_load_ml100k", "train_recsys_rating", "BPRLoss",
           "HingeLossbRec", "evaluate_ranking", "train_ranking", "CTRDataset"]


# --- 16.2 The MovieLens Dataset ---

def load_data_ml100k(data, num_users, num_items, feedback="explicit"):
    """(users, items, scores, inter) as in `d2l.common.recsys.load_data_ml100k`; an explicit
    `inter` is a float32 mxnet.np array (num_items, num_users)."""
    users, items, scores, inter = recsys.load_data_ml100k(data, num_users, num_items, feedback)
    if feedback == "explicit":
        inter = np.array(inter, dtype="float32")
    return users, items, scores, inter


def split_and_load_ml100k(split_mode="seq-aware", feedback="explicit", test_ratio=0.1,
                          batch_size=256):
    """Read, split and convert MovieLens 100K; returns (num_users, num_items, train_iter,
    test_iter): Gluon DataLoaders of (users, items, scores) float32 batches, the training
    one shuffled with last_batch='rollover'."""
    num_users, num_items, train, test = recsys.read_split_load(split_mode, feedback,
                                                               test_ratio, batch_size)

    def dataset(part):
        return gluon.data.ArrayDataset(*(np.array(a, dtype="float32") for a in part))

    train_iter = gluon.data.DataLoader(dataset(train), shuffle=True, last_batch="rollover",
                                       batch_size=batch_size)
    test_iter = gluon.data.DataLoader(dataset(test), batch_size=batch_size)
    return num_users, num_items, train_iter, test_iter


# --- 16.3 Matrix Factorization ---

def _split(values, devices):
    """Each array of a batch split over the devices (uneven splits allowed)."""
    return [gluon.utils.split_and_load(v, devices, even_split=False) for v in values]


def train_recsys_rating(net, train_iter, test_iter, loss, trainer, num_epochs,
                        devices=try_all_gpus(), evaluator=None, **kwargs):  # noqa: B008
    """Train a rating model; after each epoch `evaluator(net, test_iter, devices)` (or, with
    kwargs as AutoRec, `evaluator(net, test_iter, kwargs['inter_mat'], devices)`) gives the
    test RMSE. A batch is a list of arrays split over the devices: all but the last are the
    net's inputs, the last the target (a single array is both); `loss` gives one value per
    example and `trainer.step(batch size)` averages the gradient. Plots and prints as
    `d2l.common.recsys.train_rating_loop`."""
    fn = "train_recsys_rating"
    devices = recsys.check_loop(fn, num_epochs, evaluator, devices)

    def step(values):
        values = recsys.as_list(values)
        shards = _split(values, devices)
        inputs = shards[:-1] if len(values) > 1 else shards
        with autograd.record():
            ls = [loss(net(*x), y) for x, y in zip(zip(*inputs), shards[-1])]
        for l in ls:
            l.backward()
        trainer.step(values[0].shape[0])
        mean = sum(float(l.mean()) for l in ls) / len(devices)
        return mean, values[0].shape[0], values[0].size

    def evaluate():
        if kwargs:
            return evaluator(net, test_iter, kwargs["inter_mat"], devices)
        return evaluator(net, test_iter, devices)

    recsys.train_rating_loop(step, evaluate, train_iter, num_epochs, str(devices))


# --- 16.5 Personalized Ranking ---

class BPRLoss(gluon.loss.Loss):
    """Bayesian personalized ranking loss: -Σ log σ(positive - negative) over axis 0, kept
    as a (1, ...) axis. Computed as Σ softplus(negative - positive), finite for any finite
    scores (upstream's log of a sigmoid gave inf past |difference| ~ 90). weight and
    batch_axis are accepted and ignored, as upstream."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(None, 0, **kwargs)

    def forward(self, positive, negative):
        x = negative - positive
        softplus = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
        return np.sum(softplus, axis=0, keepdims=True)


class HingeLossbRec(gluon.loss.Loss):
    """Hinge ranking loss: Σ max(margin - (positive - negative), 0) over every element (a
    0-d array)."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(None, 0, **kwargs)

    def forward(self, positive, negative, margin=1):
        return np.sum(np.maximum(margin - (positive - negative), 0))


# --- 16.6 Neural Collaborative Filtering ---

def evaluate_ranking(net, test_input, seq, candidates, num_users, num_items, devices):
    """Mean hit rate@50 and mean AUC over all users (see
    `d2l.common.recsys.ranking_metrics`): every user ranks every item of the universe
    range(num_items) (upstream: range(num_users), a bug) that is not in candidates[u] (the
    training items), scored by net(users, items), or net(users, seq[users], items) with a
    sequence input, in predict mode, in large batches (float32 ids as upstream) split over
    the devices. Returns (hit rate, AUC) floats."""
    recsys.check_ranking_sizes(num_users, num_items)
    devices = recsys.check_devices("evaluate_ranking", devices)

    def score(users, items, seq_rows):
        values = [np.array(users, dtype="float32")]
        if seq_rows is not None:
            values.append(np.array(seq_rows, dtype="float32"))
        values.append(np.array(items, dtype="float32"))
        parts = [net(*x) for x in zip(*_split(values, devices))]
        return onp.concatenate([p.asnumpy().reshape(-1) for p in parts])

    with autograd.predict_mode():
        scores = recsys.score_all(score, num_users, num_items,
                                  None if seq is None else _numpy(seq))
    return recsys.ranking_metrics(scores, test_input, candidates)


def _numpy(x):
    return x.asnumpy() if hasattr(x, "asnumpy") else onp.asarray(x)


def train_ranking(net, train_iter, test_iter, loss, trainer, test_seq_iter, num_users,
                  num_items, num_epochs, devices, evaluator, candidates, eval_step=1):
    """Train a ranking model on batches (users, [sequences,] items, negative items) split
    over the devices: positive scores net(*batch[:-1]), negative ones with the last array in
    place of the items, loss(positive, negative), trainer.step(batch size). Every eval_step
    epochs, in predict mode, `evaluator(net, test_iter, test_seq_iter, candidates,
    num_users, num_items, devices)` gives (hit rate, AUC). Plots and prints as
    `d2l.common.recsys.train_ranking_loop`."""
    fn = "train_ranking"
    devices = recsys.check_loop(fn, num_epochs, evaluator, devices, eval_step)

    def step(values):
        values = recsys.as_list(values)
        shards = _split(values, devices)
        with autograd.record():
            p_pos = [net(*x) for x in zip(*shards[:-1])]
            p_neg = [net(*x) for x in zip(*shards[:-2], shards[-1])]
            ls = [loss(p, n) for p, n in zip(p_pos, p_neg)]
        for l in ls:
            l.backward()
        trainer.step(values[0].shape[0])
        total = sum(float(l.sum()) for l in ls) / len(devices)
        return total, values[0].shape[0], values[0].size

    def evaluate():
        with autograd.predict_mode():
            return evaluator(net, test_iter, test_seq_iter, candidates, num_users, num_items,
                             devices)

    recsys.train_ranking_loop(step, evaluate, train_iter, num_epochs, eval_step, str(devices))


# --- 16.8 Feature-Rich Recommender Systems ---

class CTRDataset(recsys.CTRTable, gluon.data.Dataset):
    """Click-through-rate examples of the book's tab-separated format (see
    `d2l.common.recsys.read_ctr`). Item idx: (feature indices + field offsets (num_feat,)
    int64, label (1,) float32), mxnet.np arrays. Attributes as upstream: NUM_FEATS, count,
    data, feat_mapper, defaults, field_dims, offsets."""

    def __getitem__(self, idx):
        x, y = self.example(idx)
        return np.array(x, dtype="int64"), np.array(y, dtype="float32")

