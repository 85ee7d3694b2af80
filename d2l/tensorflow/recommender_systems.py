"""Chapter 16, Recommender Systems, for TensorFlow (upstream had MXNet only): MovieLens
loaders (16.2), the rating training loop (16.3), ranking losses (16.5), ranking evaluation
and training (16.6) and the click-through-rate dataset (16.8). Framework-neutral parts live
in `d2l.common.recsys`.

Conventions: user and item ids are int32 tensors, scores float32; loaders are `tf.data`
datasets. `devices` is the book's list (`d2l.try_all_gpus()`: `tf.device` objects, or device
names): the loops run on devices[0], each batch's update eagerly the first time and as a
tf.function afterwards (as `train_seq2seq`; eagerly for good where tracing fails).
`trainer` is a Keras optimizer. Keras losses are called (target, prediction), other
callables (prediction, target).
"""

import numpy as np
import tensorflow as tf
from tensorflow import keras

from ..common import recsys
from .deep_learning_computation import try_all_gpus
from .modern_rnns import _compiled_or_eager

__all__ = ["load_data_ml100k", "split_and_load_ml100k", "train_recsys_rating", "BPRLoss",
           "HingeLossbRec", "evaluate_ranking", "train_ranking", "CTRDataset"]


# --- 16.2 The MovieLens Dataset ---

def load_data_ml100k(data, num_users, num_items, feedback="explicit"):
    """(users, items, scores, inter) as in `d2l.common.recsys.load_data_ml100k`; an explicit
    `inter` is a float32 tensor (num_items, num_users)."""
    users, items, scores, inter = recsys.load_data_ml100k(data, num_users, num_items, feedback)
    if feedback == "explicit":
        inter = tf.constant(inter)
    return users, items, scores, inter


def split_and_load_ml100k(split_mode="seq-aware", feedback="explicit", test_ratio=0.1,
                          batch_size=256):
    """Read, split and convert MovieLens 100K; returns (num_users, num_items, train_iter,
    test_iter): `tf.data` datasets of (users int32, items int32, scores float32) batches,
    the training one reshuffled every epoch (the last batch may be smaller)."""
    num_users, num_items, train, test = recsys.read_split_load(split_mode, feedback,
                                                               test_ratio, batch_size)

    def dataset(part):
        u, i, r = part
        return tf.data.Dataset.from_tensor_slices((np.asarray(u, np.int32),
                                                   np.asarray(i, np.int32),
                                                   np.asarray(r, np.float32)))

    train_iter = dataset(train).shuffle(max(len(train[0]), 1)).batch(batch_size)
    test_iter = dataset(test).batch(batch_size)
    return num_users, num_items, train_iter, test_iter


# --- 16.3 Matrix Factorization ---

def _step_on(device, update):
    """The `step(batch)` of the common training loops: `update(*batch)` (the loss) on
    `device`, then (loss, batch size, elements of the batch's first array)."""

    def step(values):
        values = recsys.as_list(values)
        with tf.device(device):
            loss = update(*values)
        return float(loss), int(values[0].shape[0]), int(tf.size(values[0]))

    return step


def _device_names(devices):
    """Device names of `tf.device` objects (or names)."""
    return [getattr(d, "_device_name", d) for d in devices]


def _batch_loss(loss, prediction, target):
    if isinstance(loss, keras.losses.Loss):
        return loss(target, prediction)
    return loss(prediction, target)


def train_recsys_rating(net, train_iter, test_iter, loss, trainer, num_epochs,
                        devices=try_all_gpus(), evaluator=None, **kwargs):  # noqa: B008
    """Train a rating model; after each epoch `evaluator(net, test_iter, devices)` (or, with
    kwargs as AutoRec, `evaluator(net, test_iter, kwargs['inter_mat'], devices)`) gives the
    test RMSE. A batch is a tuple of tensors: all but the last are the net's inputs, the
    last the target (a single tensor is both). The gradient is that of the batch mean of the
    loss (per-example values or their mean). Plots and prints as
    `d2l.common.recsys.train_rating_loop` (the devices as names)."""
    fn = "train_recsys_rating"
    names = _device_names(recsys.check_loop(fn, num_epochs, evaluator, devices))

    def update(*values):
        inputs = values[:-1] if len(values) > 1 else values
        with tf.GradientTape() as tape:
            l = tf.reduce_mean(_batch_loss(loss, net(*inputs, training=True), values[-1]))
        params = net.trainable_variables
        trainer.apply_gradients(zip(tape.gradient(l, params), params))
        return l

    step = _step_on(names[0], _compiled_or_eager(update))

    def evaluate():
        if kwargs:
            return evaluator(net, test_iter, kwargs["inter_mat"], devices)
        return evaluator(net, test_iter, devices)

    recsys.train_rating_loop(step, evaluate, train_iter, num_epochs,
                             str(names))


# --- 16.5 Personalized Ranking ---

class BPRLoss(tf.Module):
    """Bayesian personalized ranking loss, called loss(positive, negative): -Σ log
    σ(positive - negative) over axis 0, kept as a (1, ...) axis. Computed as
    Σ softplus(negative - positive), finite for any finite scores (a log of a sigmoid gives
    inf past |difference| ~ 90). weight and batch_axis are accepted and ignored, as
    upstream's MXNet loss does; kwargs go to tf.Module (name). A plain callable module: a
    Keras layer would refuse the hinge loss's positional margin."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(**kwargs)

    def __call__(self, positive, negative):
        return tf.reduce_sum(tf.nn.softplus(negative - positive), axis=0, keepdims=True)


class HingeLossbRec(tf.Module):
    """Hinge ranking loss, called loss(positive, negative, margin=1): Σ max(margin -
    (positive - negative), 0) over every element (a 0-d tensor)."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(**kwargs)

    def __call__(self, positive, negative, margin=1):
        return tf.reduce_sum(tf.maximum(margin - (positive - negative), 0))


# --- 16.6 Neural Collaborative Filtering ---

def evaluate_ranking(net, test_input, seq, candidates, num_users, num_items, devices):
    """Mean hit rate@50 and mean AUC over all users (see
    `d2l.common.recsys.ranking_metrics`): every user ranks every item of the universe
    range(num_items) (upstream: range(num_users), a bug) that is not in candidates[u] (the
    training items), scored by net(users, items), or net(users, seq[users], items) with a
    sequence input, with training=False, in large batches of int32 ids. Returns (hit rate,
    AUC) floats."""
    recsys.check_ranking_sizes(num_users, num_items)
    name = _device_names(recsys.check_devices("evaluate_ranking", devices))[0]

    def score(users, items, seq_rows):
        args = [tf.constant(users, tf.int32)]
        if seq_rows is not None:
            args.append(tf.constant(seq_rows, tf.int32))
        args.append(tf.constant(items, tf.int32))
        with tf.device(name):
            return tf.cast(net(*args, training=False), tf.float32).numpy()

    scores = recsys.score_all(score, num_users, num_items,
                              None if seq is None else np.asarray(seq))
    return recsys.ranking_metrics(scores, test_input, candidates)


def train_ranking(net, train_iter, test_iter, loss, trainer, test_seq_iter, num_users,
                  num_items, num_epochs, devices, evaluator, candidates, eval_step=1):
    """Train a ranking model on batches (users, [sequences,] items, negative items):
    positive scores net(*batch[:-1]), negative ones with the last tensor in place of the
    items; the gradient is that of loss(positive, negative) summed and divided by the batch
    size (as Gluon's trainer.step(batch_size)). Every eval_step epochs
    `evaluator(net, test_iter, test_seq_iter, candidates, num_users, num_items, devices)`
    gives (hit rate, AUC). Plots and prints as `d2l.common.recsys.train_ranking_loop`."""
    fn = "train_ranking"
    names = _device_names(recsys.check_loop(fn, num_epochs, evaluator, devices, eval_step))

    def update(*values):
        with tf.GradientTape() as tape:
            p_pos = net(*values[:-1], training=True)
            p_neg = net(*values[:-2], values[-1], training=True)
            l = tf.reduce_sum(loss(p_pos, p_neg))
            scaled = l / tf.cast(tf.shape(values[0])[0], l.dtype)
        params = net.trainable_variables
        trainer.apply_gradients(zip(tape.gradient(scaled, params), params))
        return l

    step = _step_on(names[0], _compiled_or_eager(update))

    def evaluate():
        return evaluator(net, test_iter, test_seq_iter, candidates, num_users, num_items,
                         devices)

    recsys.train_ranking_loop(step, evaluate, train_iter, num_epochs, eval_step,
                              str(names))


# --- 16.8 Feature-Rich Recommender Systems ---

class CTRDataset(recsys.CTRTable):
    """Click-through-rate examples of the book's tab-separated format (see
    `d2l.common.recsys.read_ctr`). Item idx: (feature indices + field offsets (num_feat,)
    int64, label (1,) float32) tensors; `tf.data.Dataset.from_tensor_slices((ds.features,
    ds.labels))` batches it. Attributes as upstream: NUM_FEATS, count, data, feat_mapper,
    defaults, field_dims, offsets."""

    def __getitem__(self, idx):
        x, y = self.example(idx)
        return tf.constant(x, tf.int64), tf.constant(y, tf.float32)
