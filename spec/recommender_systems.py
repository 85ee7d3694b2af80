"""Chapter 16, Recommender Systems (upstream: MXNet only; here all three frameworks).

Data: MovieLens-format files (`ml-100k/u.data`: user, item, rating, timestamp, tab-separated,
zipped as ml-100k.zip) and the book's CTR format (`ctr/{train,test}.csv`: a label and 34
categorical values, tab-separated) are generated here with learnable structure and served
over loopback, read through `download_extract` and the saved readers. The real MovieLens
file is never used (its licence forbids shipping it).

Models: the book's matrix factorization (16.3: embeddings P, Q, user_bias, item_bias =
canonical layers 0-3) and NeuMF (16.6: embeddings P, Q, U, V = layers 0-3, the MLP's dense
layers, then the bias-free sigmoid prediction layer) are not saved; they are written here
book-style per framework and loaded from canonical parameters. NumPy references compute
their forward passes, their SGD training (L2 loss / BPR loss) and the ranking metrics.
"""

import contextlib
import functools
import io
import re
import zipfile

import numpy as np
from hypothesis import strategies as st

from d2l.common import data_hub

from . import support
from .entry import EXACT, Entry, Invalid, Reject, Tol, names
from .strategies import arrays

ML100K = ("http://files.grouplens.org/datasets/movielens/ml-100k.zip",
          "cd4dcac4241c8a4ad7badc7ca635da8a69dddb83")
CTR = (data_hub.DATA_URL + "ctr.zip", "e18327c48c8e8e5c23da714dd614e390d369843f")


# --- generated data ----------------------------------------------------------------------------

def synthetic_ratings(num_users=12, num_items=20, per_user=9, num_factors=3, seed=0):
    """(n, 4) int64 rows (user, item, rating, timestamp), ids from 1, every user rating
    `per_user` distinct items; ratings round(3 + u·v + noise) clipped to 1..5 from rank
    `num_factors` user and item factors (learnable structure); timestamps from a small
    range, so some tie."""
    rng = np.random.default_rng(seed)
    U = rng.normal(0, 0.9, (num_users, num_factors))
    V = rng.normal(0, 0.9, (num_items, num_factors))
    rows = []
    for u in range(num_users):
        for i in rng.choice(num_items, per_user, replace=False):
            rating = np.clip(np.rint(3 + U[u] @ V[i] + rng.normal(0, 0.3)), 1, 5)
            rows.append((u + 1, i + 1, int(rating), int(rng.integers(0, 4 * per_user))))
    rows = np.asarray(rows, np.int64)
    return rows[rng.permutation(len(rows))]


def ratings_text(rows):
    return "".join("\t".join(str(v) for v in row) + "\n" for row in rows)


@contextlib.contextmanager
def ml100k_publisher():
    """A loopback sandbox for ml-100k.zip; yields `publish(text)`, which serves `text` as the
    archive's `ml-100k/u.data` and points DATA_HUB['ml-100k'] at it (a new text: a new
    sha1, so the next read downloads it again). 'Downloading ...' lines are discarded."""
    with support.data_sandbox() as (cache, www, url), \
            contextlib.redirect_stdout(io.StringIO()), \
            support.patched(data_hub.DATA_HUB, **{"ml-100k": ML100K}):
        def publish(text):
            with zipfile.ZipFile(www / "ml-100k.zip", "w") as archive:
                archive.writestr("ml-100k/u.data", text)
                archive.writestr("ml-100k/README", "generated MovieLens-format ratings\n")
            data_hub.DATA_HUB["ml-100k"] = (url + "ml-100k.zip",
                                            support.sha1(www / "ml-100k.zip"))
            return cache

        yield publish


@contextlib.contextmanager
def ml100k_served(text):
    """Serve `text` as ml-100k.zip's `ml-100k/u.data` (see `ml100k_publisher`); yields the
    cache folder."""
    with ml100k_publisher() as publish:
        yield publish(text)


def ctr_lines(n, seed, num_feat=34, label_noise=0.1):
    """`n` lines of the book's CTR format: label, then num_feat hex-hash-like values;
    values drawn from per-field vocabularies of skewed frequencies; the label follows
    field 1's value (learnable) with `label_noise` flips. A malformed line is added."""
    vocab_rng, rng = np.random.default_rng(1234), np.random.default_rng(seed)
    vocab = [[f"{vocab_rng.integers(1 << 32):08x}" for _ in range(6)] for _ in range(num_feat)]
    lines = []
    for _ in range(n):
        picks = rng.choice(6, num_feat, p=[0.4, 0.25, 0.15, 0.1, 0.06, 0.04])
        label = int(picks[0] < 2) ^ int(rng.random() < label_noise)
        lines.append("\t".join([str(label)] + [vocab[f][k] for f, k in enumerate(picks)]))
    lines.insert(n // 2, "1\tonly\tthree")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def ctr_served(train_text, test_text):
    """Serve ctr.zip (`ctr/train.csv`, `ctr/test.csv`) at the `$D2L_DATA_URL` mirror and
    register its sha1 under DATA_HUB['ctr'] (same URL); yields the cache folder."""
    with support.data_sandbox() as (cache, www, _), contextlib.redirect_stdout(io.StringIO()):
        with zipfile.ZipFile(www / "ctr.zip", "w") as archive:
            archive.writestr("ctr/train.csv", train_text)
            archive.writestr("ctr/test.csv", test_text)
        entry = (CTR[0], support.sha1(www / "ctr.zip"))
        with support.patched(data_hub.DATA_HUB, ctr=entry):
            yield cache


# --- NumPy references: MovieLens ---------------------------------------------------------------

def seq_aware_reference(rows):
    """(train rows, test rows) of the 'seq-aware' split, written plainly: each user's row of
    the largest timestamp (the first of equal ones) is a test row, test rows in order of the
    users' first appearance; train: users by id, rows by timestamp (ties in row order),
    without any row equal to a test row."""
    rows = [tuple(int(v) for v in row) for row in rows]
    per_user, test = {}, {}
    for row in rows:
        per_user.setdefault(row[0], []).append(row)
        if row[0] not in test or test[row[0]][3] < row[3]:
            test[row[0]] = row
    test_rows = list(test.values())
    train = [row for u in sorted(per_user) for row in sorted(per_user[u], key=lambda r: r[3])
             if row not in test_rows]
    return [list(r) for r in train], [list(r) for r in test_rows]


def random_split_reference(rows, seed, test_ratio):
    """The 'random' split after numpy.random.seed(seed): row k is train iff the k-th of
    len(rows) uniform draws is < 1 - test_ratio."""
    np.random.seed(seed)
    mask = np.random.uniform(0, 1, len(rows)) < 1 - test_ratio
    rows = np.asarray(rows).tolist()
    return ([r for r, m in zip(rows, mask) if m], [r for r, m in zip(rows, mask) if not m])


def load_reference(rows, num_users, num_items, feedback):
    """(users, items, scores, inter) of load_data_ml100k, row by row."""
    users, items, scores = [], [], []
    inter = np.zeros((num_items, num_users)) if feedback == "explicit" else {}
    for u, i, r, _ in np.asarray(rows).tolist():
        users.append(u - 1)
        items.append(i - 1)
        scores.append(r if feedback == "explicit" else 1)
        if feedback == "explicit":
            inter[i - 1, u - 1] = r
        else:
            inter.setdefault(u - 1, []).append(i - 1)
    return users, items, scores, inter


@st.composite
def rating_tables(draw):
    """(rows (n, 4) int64, num_users, num_items): users 1..U all present, items 1..I,
    timestamps 0..3 (many ties), repeated (user, item) pairs and repeated rows possible."""
    num_users, num_items = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    rows = []
    for u in range(1, num_users + 1):
        for _ in range(draw(st.integers(1, 4))):
            rows.append([u, draw(st.integers(1, num_items)), draw(st.integers(1, 5)),
                         draw(st.integers(0, 3))])
    order = draw(st.permutations(range(len(rows))))
    return np.asarray([rows[k] for k in order], np.int64), num_users, num_items


def frame(rows):
    import pandas as pd

    return pd.DataFrame(np.asarray(rows, np.int64).reshape(-1, 4),
                        columns=["user_id", "item_id", "rating", "timestamp"])


def _split_call(b, rows, num_users, num_items, mode="seq-aware", seed=0, ratio=0.1):
    np.random.seed(seed)
    train, test = b.d2l.split_data_ml100k(frame(rows), num_users, num_items, mode, ratio)
    return [train.values.tolist(), test.values.tolist()]


@st.composite
def _random_split_inputs(draw):
    rows, num_users, num_items = draw(rating_tables())
    return rows, num_users, num_items, draw(st.integers(0, 2 ** 16)), draw(
        st.sampled_from([0.1, 0.5, 0.9]))


def _load_call(b, rows, num_users, num_items, feedback):
    users, items, scores, inter = b.d2l.load_data_ml100k(frame(rows), num_users, num_items,
                                                         feedback)
    return [users, items, scores, inter if feedback == "implicit" else b.numpy(inter)]


@st.composite
def _load_inputs(draw):
    rows, num_users, num_items = draw(rating_tables())
    # No repeated (user, item) pairs: their ratings would overwrite one another.
    _, keep = np.unique(rows[:, :2], axis=0, return_index=True)
    return rows[np.sort(keep)], num_users, num_items, draw(st.sampled_from(
        ["explicit", "implicit"]))


def _read_probe(b):
    rows = synthetic_ratings()
    with ml100k_served(ratings_text(rows)):
        data, num_users, num_items = b.d2l.read_data_ml100k()
    return [list(data.columns), data.values.tolist(), int(num_users), int(num_items)]


def _read_expect():
    rows = synthetic_ratings()
    return [["user_id", "item_id", "rating", "timestamp"], rows.tolist(),
            len(set(rows[:, 0])), len(set(rows[:, 1]))]


BAD_RATINGS = ("1\t2\t3\t4\n2\t3\t4\t5\t6\n",  # a line with five columns
               "1\t2\t3\t4\n2\t3\t4\n",  # a line with three
               "1\t2\t3\t4\t9\n2\t3\t4\t5\t9\n",  # five columns throughout
               "1\t2\tthree\t4\n",  # not an integer
               "")  # empty


def _bad_file_probe(b):
    seen = []
    with ml100k_publisher() as publish:
        for text in BAD_RATINGS:
            publish(text)
            try:
                b.d2l.read_data_ml100k()
                seen.append(["no error", False])
            except Exception as error:  # noqa: BLE001  (its type is the observation)
                seen.append([type(error).__name__, names(str(error), "u.data")
                             and names(str(error), "read_data_ml100k")])
    return seen


def _ml100k_hub_probe(b):
    import os

    hub = list(b.d2l.DATA_HUB["ml-100k"])
    with ml100k_served(ratings_text(synthetic_ratings())) as cache:
        folder = b.d2l.download_extract("ml-100k")
        return [hub, os.path.relpath(folder, cache), sorted(os.listdir(folder))]


def _ctr_hub_probe(b):
    import os

    hub = list(b.d2l.DATA_HUB["ctr"])
    with ctr_served(ctr_lines(20, 0), ctr_lines(5, 1)) as cache:
        folder = b.d2l.download_extract("ctr")
        return [hub, os.path.relpath(folder, cache), sorted(os.listdir(folder))]


LOADER_ROWS = dict(num_users=12, num_items=20, per_user=9)  # 96 train rows: 6 batches of 16


def _split_and_load_probe(b, batch_size=16):
    rows = synthetic_ratings(**LOADER_ROWS)
    with ml100k_served(ratings_text(rows)):
        num_users, num_items, train_iter, test_iter = b.d2l.split_and_load_ml100k(
            "seq-aware", "explicit", 0.1, batch_size)
    train = [[b.numpy(t) for t in batch] for batch in train_iter]
    test = [[b.numpy(t) for t in batch] for batch in test_iter]

    def rows_of(batches):
        return sorted(np.stack([np.concatenate([batch[k] for batch in batches])
                                for k in range(3)], 1).astype(np.int64).tolist())

    return [num_users, num_items, [len(t) for t in train[0]], len(train), rows_of(train),
            len(test), rows_of(test)]


def _split_and_load_expect(batch_size=16):
    rows = synthetic_ratings(**LOADER_ROWS)
    train, test = seq_aware_reference(rows)

    def zero_based(part):
        return sorted([[u - 1, i - 1, r] for u, i, r, _ in part])

    return [12, len(set(rows[:, 1])), [batch_size] * 3, -(-len(train) // batch_size),
            zero_based(train), -(-len(test) // batch_size), zero_based(test)]


# --- models written book-style per framework ----------------------------------------------------

@functools.cache
def model_classes(name):
    """(MF, NeuMF) classes of framework `name`, as the book writes them (16.3, 16.6)."""
    if name == "mxnet":
        from mxnet import np as mnp
        from mxnet.gluon import nn

        class MF(nn.Block):
            def __init__(self, num_factors, num_users, num_items, **kwargs):
                super().__init__(**kwargs)
                self.P = nn.Embedding(num_users, num_factors)
                self.Q = nn.Embedding(num_items, num_factors)
                self.user_bias = nn.Embedding(num_users, 1)
                self.item_bias = nn.Embedding(num_items, 1)

            def forward(self, user_id, item_id):
                outputs = (self.P(user_id) * self.Q(item_id)).sum(axis=1)
                return (outputs + mnp.squeeze(self.user_bias(user_id), -1)
                        + mnp.squeeze(self.item_bias(item_id), -1)).flatten()

        class NeuMF(nn.Block):
            def __init__(self, num_factors, num_users, num_items, nums_hiddens, **kwargs):
                super().__init__(**kwargs)
                self.P = nn.Embedding(num_users, num_factors)
                self.Q = nn.Embedding(num_items, num_factors)
                self.U = nn.Embedding(num_users, num_factors)
                self.V = nn.Embedding(num_items, num_factors)
                self.mlp = nn.Sequential()
                for num_hiddens in nums_hiddens:
                    self.mlp.add(nn.Dense(num_hiddens, activation="relu", use_bias=True))
                self.prediction_layer = nn.Dense(1, activation="sigmoid", use_bias=False)

            def forward(self, user_id, item_id):
                gmf = self.P(user_id) * self.Q(item_id)
                mlp = self.mlp(mnp.concatenate([self.U(user_id), self.V(item_id)], axis=1))
                return self.prediction_layer(mnp.concatenate([gmf, mlp], axis=1))

        return MF, NeuMF
    if name == "torch":
        import torch
        from torch import nn

        class MF(nn.Module):
            def __init__(self, num_factors, num_users, num_items, **kwargs):
                super().__init__(**kwargs)
                self.P = nn.Embedding(num_users, num_factors)
                self.Q = nn.Embedding(num_items, num_factors)
                self.user_bias = nn.Embedding(num_users, 1)
                self.item_bias = nn.Embedding(num_items, 1)

            def forward(self, user_id, item_id):
                outputs = (self.P(user_id) * self.Q(item_id)).sum(dim=1)
                return (outputs + self.user_bias(user_id).squeeze(-1)
                        + self.item_bias(item_id).squeeze(-1)).flatten()

        class NeuMF(nn.Module):
            def __init__(self, num_factors, num_users, num_items, nums_hiddens, **kwargs):
                super().__init__(**kwargs)
                self.P = nn.Embedding(num_users, num_factors)
                self.Q = nn.Embedding(num_items, num_factors)
                self.U = nn.Embedding(num_users, num_factors)
                self.V = nn.Embedding(num_items, num_factors)
                layers, width = [], 2 * num_factors
                for num_hiddens in nums_hiddens:
                    layers += [nn.Linear(width, num_hiddens), nn.ReLU()]
                    width = num_hiddens
                self.mlp = nn.Sequential(*layers)
                self.prediction_layer = nn.Linear(num_factors + width, 1, bias=False)

            def forward(self, user_id, item_id):
                gmf = self.P(user_id) * self.Q(item_id)
                mlp = self.mlp(torch.cat([self.U(user_id), self.V(item_id)], dim=1))
                return torch.sigmoid(self.prediction_layer(torch.cat([gmf, mlp], dim=1)))

        return MF, NeuMF
    import tensorflow as tf
    from tensorflow import keras

    class MF(keras.Model):
        def __init__(self, num_factors, num_users, num_items, **kwargs):
            super().__init__(**kwargs)
            self.P = keras.layers.Embedding(num_users, num_factors)
            self.Q = keras.layers.Embedding(num_items, num_factors)
            self.user_bias = keras.layers.Embedding(num_users, 1)
            self.item_bias = keras.layers.Embedding(num_items, 1)

        def call(self, user_id, item_id, training=None):
            outputs = tf.reduce_sum(self.P(user_id) * self.Q(item_id), axis=1)
            return (outputs + tf.squeeze(self.user_bias(user_id), -1)
                    + tf.squeeze(self.item_bias(item_id), -1))

    class NeuMF(keras.Model):
        def __init__(self, num_factors, num_users, num_items, nums_hiddens, **kwargs):
            super().__init__(**kwargs)
            self.P = keras.layers.Embedding(num_users, num_factors)
            self.Q = keras.layers.Embedding(num_items, num_factors)
            self.U = keras.layers.Embedding(num_users, num_factors)
            self.V = keras.layers.Embedding(num_items, num_factors)
            self.mlp = keras.Sequential([keras.layers.Dense(n, activation="relu")
                                         for n in nums_hiddens])
            self.prediction_layer = keras.layers.Dense(1, activation="sigmoid",
                                                       use_bias=False)

        def call(self, user_id, item_id, training=None):
            gmf = self.P(user_id) * self.Q(item_id)
            mlp = self.mlp(tf.concat([self.U(user_id), self.V(item_id)], axis=1))
            return self.prediction_layer(tf.concat([gmf, mlp], axis=1))

    return MF, NeuMF


def build_model(b, kind, params, *args):
    """The book's MF (`kind` 'mf', args num_factors, num_users, num_items) or NeuMF ('neumf',
    plus nums_hiddens) of backend b, loaded with canonical `params`."""
    cls = model_classes(b.name)[0 if kind == "mf" else 1]
    if b.name == "tensorflow":
        with b.fw.device(b.device):
            net = cls(*args)
            if kind == "neumf":  # the MLP's input width is known only once built
                net.mlp.build((None, 2 * args[0]))
    else:
        net = cls(*args)
        if b.name == "mxnet":
            net.initialize(ctx=b.device)
        else:
            net.to(b.device)
    b.d2l.import_params(net, params)
    return net


def mf_params(num_factors, num_users, num_items, seed=0, scale=0.1):
    rng = np.random.default_rng(seed)
    shapes = [(num_users, num_factors), (num_items, num_factors), (num_users, 1),
              (num_items, 1)]
    return {f"{k}.weight": rng.normal(0, scale, s).astype(np.float32)
            for k, s in enumerate(shapes)}


def neumf_params(num_factors, num_users, num_items, nums_hiddens, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    params = {f"{k}.weight": rng.normal(0, scale, s).astype(np.float32) for k, s in enumerate(
        [(num_users, num_factors), (num_items, num_factors), (num_users, num_factors),
         (num_items, num_factors)])}
    width, k = 2 * num_factors, 4
    for n in nums_hiddens:
        params[f"{k}.weight"] = rng.normal(0, 1 / np.sqrt(width), (width, n)).astype(np.float32)
        params[f"{k}.bias"] = rng.normal(0, 0.1, n).astype(np.float32)
        width, k = n, k + 1
    params[f"{k}.weight"] = rng.normal(0, scale, (num_factors + width, 1)).astype(np.float32)
    return params


def ids(b, a):
    """Ids as the book's loaders give them: MXNet float32, PyTorch int64, TensorFlow int32."""
    return b.tensor(np.asarray(a), {"mxnet": "float32", "torch": "int64",
                                    "tensorflow": "int32"}[b.name])


def predict(b, net, *args):
    """net(*args) in inference mode, as NumPy."""
    if b.name == "tensorflow":
        return b.numpy(net(*args, training=False))
    if b.name == "torch":
        with b.fw.no_grad():
            return b.numpy(net(*args))
    return b.numpy(net(*args))


# --- NumPy references: models, training and ranking ---------------------------------------------

def mf_reference(params, u, i):
    P, Q, bu, bi = (params[f"{k}.weight"].astype(np.float64) for k in range(4))
    return (P[u] * Q[i]).sum(1) + bu[u, 0] + bi[i, 0]


def neumf_forward(params, u, i):
    """NeuMF scores (B, 1) and what the backward pass needs."""
    n_dense = len([k for k in params if k.endswith(".bias")])
    P, Q, U, V = (params[f"{k}.weight"].astype(np.float64) for k in range(4))
    gmf = P[u] * Q[i]
    acts = [np.concatenate([U[u], V[i]], 1)]
    for k in range(4, 4 + n_dense):
        acts.append(np.maximum(acts[-1] @ params[f"{k}.weight"] + params[f"{k}.bias"], 0))
    con = np.concatenate([gmf, acts[-1]], 1)
    s = 1 / (1 + np.exp(-(con @ params[f"{4 + n_dense}.weight"].astype(np.float64))))
    return s, (u, i, gmf, acts, con, n_dense)


def neumf_backward(params, cache, d_s, grads):
    """Add the gradient of Σ d_s * s (NeuMF's output s) to `grads` (canonical names)."""
    u, i, gmf, acts, con, n_dense = cache
    P, Q = params["0.weight"], params["1.weight"]
    out = f"{4 + n_dense}.weight"
    s = 1 / (1 + np.exp(-(con @ params[out])))
    dz = d_s * s * (1 - s)
    grads[out] += con.T @ dz
    dcon = dz @ params[out].T
    F = gmf.shape[1]
    dgmf, da = dcon[:, :F], dcon[:, F:]
    for k in reversed(range(4, 4 + n_dense)):
        dz = da * (acts[k - 3] > 0)
        grads[f"{k}.weight"] += acts[k - 4].T @ dz
        grads[f"{k}.bias"] += dz.sum(0)
        da = dz @ params[f"{k}.weight"].T
    np.add.at(grads["0.weight"], u, dgmf * Q[i])
    np.add.at(grads["1.weight"], i, dgmf * P[u])
    np.add.at(grads["2.weight"], u, da[:, :F])
    np.add.at(grads["3.weight"], i, da[:, F:])


def hit_and_auc_reference(rankedlist, test_items, k):
    """Plain loops: hits in the first k, and (L-1-p)/(L-1) for the first hit's position p
    (1.0 for a one-item list holding it; 0 without a hit)."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 0:
        raise Invalid("k")
    hits = sum(1 for item in rankedlist[:k] if item in test_items)
    for position, item in enumerate(rankedlist):
        if item in test_items:
            last = len(rankedlist) - 1
            return hits, (last - position) / last if last else 1.0
    return hits, 0


def ranking_reference(scores, test_input, candidates, k=50):
    """Per user: the items of range(num_items) not in candidates[u], sorted by descending
    score (stable: equal scores in item order), then hit_and_auc; the means."""
    num_users, num_items = scores.shape
    hits, aucs = [], []
    for u in range(num_users):
        allowed = [i for i in range(num_items) if i not in set(candidates.get(u, []))]
        ranked = sorted(allowed, key=lambda i: -scores[u, i])
        h, a = hit_and_auc_reference(ranked, set(test_input.get(u, [])), k)
        hits.append(h)
        aucs.append(a)
    return float(np.mean(hits)), float(np.mean(aucs))


def rmse_evaluator(b):
    """The book's evaluator (16.3, not saved), book-style: the test RMSE over test_iter's
    (users, items, ratings) batches (here over all examples at once, not the running mean of
    Gluon's RMSE metric)."""
    def evaluator(net, test_iter, devices):
        device = devices[0] if devices else None
        errors = [predict(b, net, on(b, u, device), on(b, i, device)) - b.numpy(r)
                  for u, i, r in test_iter]
        return float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))

    return evaluator


def on(b, t, device):
    """Tensor `t` moved to `device` (None: where it is; TensorFlow places ops itself)."""
    if device is None or b.name == "tensorflow":
        return t
    return t.as_in_ctx(device) if b.name == "mxnet" else t.to(device)


def sgd(b, net, lr):
    """The framework's plain SGD trainer over net's parameters."""
    if b.name == "mxnet":
        from mxnet import gluon

        return gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    if b.name == "torch":
        return b.fw.optim.SGD(net.parameters(), lr=lr)
    from tensorflow import keras

    return keras.optimizers.SGD(learning_rate=lr)


def l2_loss(b):
    """Half the squared error per example (Gluon's L2Loss) in each framework."""
    if b.name == "mxnet":
        from mxnet import gluon

        return gluon.loss.L2Loss()
    return lambda pred, target: 0.5 * (pred - target) ** 2


RATING_SIZES = (3, 12, 20)  # num_factors, num_users, num_items
RATING_LINES = re.compile(r"train loss (\d+\.\d{3}), test RMSE (\d+\.\d{3})\n"
                          r"\d+\.\d examples/sec on (.+)\n$")


def rating_batches(batch_size=24, seed=0):
    """(train batches, test batches) of 0-based (users, items, ratings) from
    synthetic_ratings with a seeded 'random'-style split."""
    rows = synthetic_ratings(*RATING_SIZES[1:], per_user=9, seed=seed)
    test = np.random.default_rng(seed + 1).random(len(rows)) < 0.2
    parts = []
    for part in (rows[~test], rows[test]):
        triples = [part[:, 0] - 1, part[:, 1] - 1, part[:, 2].astype(np.float32)]
        parts.append([[t[s:s + batch_size] for t in triples]
                      for s in range(0, len(part), batch_size)])
    return parts


def run_rating(b, params, batches, lr, num_epochs):
    """train_recsys_rating from canonical MF weights on fixed batches with SGD(lr): the
    plotted (epoch, train loss, test RMSE) points, the printed lines, the trained net."""
    import matplotlib.pyplot as plt

    train, test = batches
    net = build_model(b, "mf", params, *RATING_SIZES)

    def tensors(batch):
        u, i, r = batch
        return [ids(b, u), ids(b, i), b.tensor(r, "float32")]

    before, printed = set(plt.get_fignums()), io.StringIO()
    with contextlib.redirect_stdout(printed):
        b.d2l.train_recsys_rating(net, [tensors(x) for x in train], [tensors(x) for x in test],
                                  l2_loss(b), sgd(b, net, lr), num_epochs, [b.device],
                                  rmse_evaluator(b))
    (fig_num,) = set(plt.get_fignums()) - before
    lines = plt.figure(fig_num).axes[0].get_lines()
    points = [[float(x), float(y)] for line in lines for x, y in zip(*line.get_data())]
    plt.close(fig_num)
    return points, printed.getvalue(), net


def rating_reference(params, batches, lr, num_epochs):
    """SGD on Gluon's L2 loss (mean over the batch) with NumPy: per epoch (mean of the
    batches' mean losses, test RMSE), the printed train loss (the book's running-total
    quirk), the final test RMSE and the initial one."""
    p = {k: v.astype(np.float64) for k, v in params.items()}
    train, test = batches

    def test_rmse():
        errors = [mf_reference(p, u, i) - r for u, i, r in test]
        return float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))

    history, initial = [], test_rmse()
    for _ in range(num_epochs):
        running, totals, n = 0.0, 0.0, 0
        for u, i, r in train:
            err = mf_reference(p, u, i) - r
            running += float(np.mean(0.5 * err ** 2))
            totals, n = totals + running, n + len(u)
            g = err / len(u)
            P, Q = p["0.weight"].copy(), p["1.weight"].copy()
            grads = {key: np.zeros_like(v) for key, v in p.items()}
            np.add.at(grads["0.weight"], u, g[:, None] * Q[i])
            np.add.at(grads["1.weight"], i, g[:, None] * P[u])
            np.add.at(grads["2.weight"], u, g[:, None])
            np.add.at(grads["3.weight"], i, g[:, None])
            for key in p:
                p[key] -= lr * grads[key]
        history.append((running / len(train), test_rmse()))
    return history, totals / n, initial


def _rating_probe(b, lr=0.5, num_epochs=4):
    params = mf_params(*RATING_SIZES, seed=3)
    points, printed, _ = run_rating(b, params, rating_batches(), lr, num_epochs)
    match = RATING_LINES.match(printed)
    loss_points, rmse_points = points[:num_epochs], points[num_epochs:]
    return [[y for _, y in loss_points], [y for _, y in rmse_points],
            [x for x, _ in points] == [float(e) for e in range(1, num_epochs + 1)] * 2,
            float(match.group(1)) if match else None,
            bool(match) and match.group(2) == f"{rmse_points[-1][1]:.3f}"]


def _rating_expect(lr=0.5, num_epochs=4):
    history, printed_loss, _ = rating_reference(mf_params(*RATING_SIZES, seed=3),
                                                rating_batches(), lr, num_epochs)
    return [[h[0] for h in history], [h[1] for h in history], True,
            float(f"{printed_loss:.3f}"), True]


# 16.5: ranking losses

def bpr_reference(positive, negative):
    """-Σ log σ(positive - negative) over axis 0 (kept), as Σ log(1 + e^(negative -
    positive)) in float64 (finite for any finite scores)."""
    return np.logaddexp(0, np.asarray(negative, np.float64)
                        - np.asarray(positive, np.float64)).sum(axis=0, keepdims=True)


def hinge_reference(positive, negative, margin):
    return float(np.maximum(margin - (np.asarray(positive, np.float64)
                                      - np.asarray(negative, np.float64)), 0).sum())


@st.composite
def _score_pairs(draw, book=False, margin=False):
    """(positive, negative[, margin]): scores (n,) or (n, 1) as NeuMF gives them; beyond the
    book, magnitudes up to 1e4 (a log of a sigmoid would be -inf there)."""
    shape = (draw(st.integers(1, 6)),) + draw(st.sampled_from([(), (1,), (2,)]))
    bound = 10.0 if book else draw(st.sampled_from([10.0, 1e4]))
    pair = (draw(arrays(shape, -bound, bound)), draw(arrays(shape, -bound, bound)))
    return pair + ((draw(st.sampled_from([0.0, 0.5, 1.0, 2.0])),) if margin else ())


def _loss_call(cls):
    def call(b, positive, negative, *margin):
        return b.numpy(getattr(b.d2l, cls)()(b.tensor(positive), b.tensor(negative), *margin))

    return call


# 16.6: ranking evaluation and training

RANKING_SIZES = (4, 9, 14, (8, 4))  # num_factors, num_users, num_items, nums_hiddens


def ranking_case(seed=0):
    """(params, test_input, candidates): NeuMF weights; every user 2-5 training items and
    one test item (some users: none, or one that is also a training item)."""
    _, num_users, num_items, _ = RANKING_SIZES
    rng = np.random.default_rng(seed)
    params = neumf_params(*RANKING_SIZES, seed=seed)
    candidates, test_input = {}, {}
    for u in range(num_users):
        items = rng.permutation(num_items)
        candidates[u] = items[:rng.integers(2, 6)].tolist()
        if u % 4 != 3:
            test_input[u] = [int(items[6])] if u % 4 else [int(items[0]), int(items[7])]
    return params, test_input, candidates


def _evaluate_probe(b, seed=0):
    params, test_input, candidates = ranking_case(seed)
    net = build_model(b, "neumf", params, *RANKING_SIZES)
    return list(b.d2l.evaluate_ranking(net, test_input, None, candidates, RANKING_SIZES[1],
                                       RANKING_SIZES[2], [b.device]))


class TableNet:
    """A stand-in model scoring (user, item) by a fixed table, in backend b's tensors:
    net(users, items) or net(users, seqs, items) (then seqs must be seq[users]) gives the
    (batch, 1) scores; eval()/train() and `training` as PyTorch's evaluate code expects."""

    def __init__(self, b, table, seq=None):
        self.b, self.table, self.seq = b, np.asarray(table, np.float32), seq
        self.training = False

    def __call__(self, users, *rest, training=None):
        users = self.b.numpy(users).astype(int)
        items = self.b.numpy(rest[-1]).astype(int)
        if len(rest) == 2:
            assert np.array_equal(self.b.numpy(rest[0]), self.seq[users])
        return self.b.tensor(self.table[users, items][:, None])

    def eval(self):
        self.training = False

    def train(self, mode=True):
        self.training = mode


@st.composite
def _drawn_rankings(draw):
    """(scores, test_input, candidates): scores of few distinct values (many ties) for 1-4
    users and 1-60 items (past the top 50 or not); per user a random training set and 0-3
    test items (some inside the training set), users missing from either dict."""
    num_users, num_items = draw(st.integers(1, 4)), draw(st.integers(1, 60))
    levels = draw(st.integers(1, 4))
    scores = np.asarray(draw(st.lists(st.integers(0, levels - 1), min_size=num_users * num_items,
                                      max_size=num_users * num_items)), np.float32)
    items = st.integers(0, num_items - 1)
    candidates = {u: draw(st.lists(items, max_size=num_items, unique=True))
                  for u in range(num_users) if draw(st.booleans())}
    test_input = {u: draw(st.lists(items, min_size=1, max_size=3, unique=True))
                  for u in range(num_users) if draw(st.integers(0, 3))}
    return scores.reshape(num_users, num_items), test_input, candidates


def _drawn_ranking_call(b, scores, test_input, candidates):
    return list(b.d2l.evaluate_ranking(TableNet(b, scores), test_input, None, candidates,
                                       *scores.shape, [b.device]))


def neumf_scores(params, num_users, num_items):
    u = np.repeat(np.arange(num_users), num_items)
    i = np.tile(np.arange(num_items), num_users)
    return neumf_forward(params, u, i)[0].reshape(num_users, num_items)


def _evaluate_expect(seed=0):
    params, test_input, candidates = ranking_case(seed)
    return list(ranking_reference(neumf_scores(params, *RANKING_SIZES[1:3]), test_input,
                                  candidates))


MOVIELENS_SIZES = (10, 943, 1682, (10, 10, 10))  # the book's NeuMF on MovieLens 100K


def movielens_ranking_data(seed=0):
    """(candidates, test_input) at MovieLens 100K's size: per user 20-180 training items and
    one test item."""
    _, num_users, num_items, _ = MOVIELENS_SIZES
    rng = np.random.default_rng(seed)
    candidates, test_input = {}, {}
    for u in range(num_users):
        items = rng.choice(num_items, int(rng.integers(20, 180)) + 1, replace=False)
        test_input[u], candidates[u] = [int(items[0])], items[1:].tolist()
    return candidates, test_input


def ranking_data(seed=0, per_user=6):
    """Learnable implicit feedback: each of the users likes the items of its group (user u:
    group u % 3; items i: group i % 3). Returns (train triples (users, items, negatives)
    as NumPy, candidates = train items per user, test_input = one held-out liked item per
    user)."""
    _, num_users, num_items, _ = RANKING_SIZES
    rng = np.random.default_rng(seed)
    candidates, test_input, triples = {}, {}, []
    for u in range(num_users):
        liked = [i for i in rng.permutation(num_items) if i % 3 == u % 3]
        test_input[u], candidates[u] = [liked[0]], liked[1:1 + per_user]
        others = [i for i in range(num_items) if i not in candidates[u]]
        for i in candidates[u]:
            triples.append((u, i, int(rng.choice(others))))
    triples = np.asarray(triples)[rng.permutation(len(triples))]
    return triples, candidates, test_input


def ranking_batches(triples, batch_size=8):
    return [[triples[s:s + batch_size, k] for k in range(3)]
            for s in range(0, len(triples), batch_size)]


RANKING_LINES = re.compile(r"train loss (\d+\.\d{3}), test hit rate (\d+\.\d{3}), "
                           r"test AUC (\d+\.\d{3})\n\d+\.\d examples/sec on (.+)\n$")


def run_ranking(b, params, lr, num_epochs, eval_step=1, seed=0):
    """train_ranking from canonical NeuMF weights on fixed batches of ranking_data with
    BPRLoss, SGD(lr) and evaluate_ranking: (history (epoch, hit rate, AUC), printed)."""
    import matplotlib.pyplot as plt

    triples, candidates, test_input = ranking_data(seed)
    net = build_model(b, "neumf", params, *RANKING_SIZES)
    batches = [[ids(b, a) for a in batch] for batch in ranking_batches(triples)]
    before, printed = set(plt.get_fignums()), io.StringIO()
    with contextlib.redirect_stdout(printed):
        b.d2l.train_ranking(net, batches, test_input, b.d2l.BPRLoss(), sgd(b, net, lr), None,
                            RANKING_SIZES[1], RANKING_SIZES[2], num_epochs,
                            [b.device], b.d2l.evaluate_ranking, candidates,
                            eval_step)
    (fig_num,) = set(plt.get_fignums()) - before
    lines = plt.figure(fig_num).axes[0].get_lines()
    history = [[float(x), float(h), float(a)] for (x, h), (_, a) in zip(
        zip(*lines[0].get_data()), zip(*lines[1].get_data()))]
    plt.close(fig_num)
    return history, printed.getvalue()


def ranking_training_reference(params, lr, num_epochs, eval_step=1, seed=0):
    """NeuMF trained by SGD on the BPR loss (its gradient divided by the batch size) with
    NumPy: the (epoch, hit rate, AUC) evaluations and the printed train loss."""
    p = {k: v.astype(np.float64) for k, v in params.items()}
    triples, candidates, test_input = ranking_data(seed)
    _, num_users, num_items, _ = RANKING_SIZES
    history = []
    for epoch in range(num_epochs):
        running, totals, n = 0.0, 0.0, 0
        for u, i, j in ranking_batches(triples):
            s_pos, cache_pos = neumf_forward(p, u, i)
            s_neg, cache_neg = neumf_forward(p, u, j)
            running += float(np.logaddexp(0, s_neg - s_pos).sum())
            totals, n = totals + running, n + len(u)
            weight = 1 / (1 + np.exp(-(s_neg - s_pos))) / len(u)  # σ(neg - pos) / batch
            grads = {k: np.zeros_like(v) for k, v in p.items()}
            neumf_backward(p, cache_pos, -weight, grads)
            neumf_backward(p, cache_neg, weight, grads)
            for k in p:
                p[k] -= lr * grads[k]
        if (epoch + 1) % eval_step == 0:
            history.append([float(epoch + 1), *ranking_reference(
                neumf_scores(p, num_users, num_items), test_input, candidates)])
    return history, totals / n


def _ranking_probe(b, lr=0.5, num_epochs=3):
    history, printed = run_ranking(b, neumf_params(*RANKING_SIZES, seed=4), lr, num_epochs)
    match = RANKING_LINES.match(printed)
    return [history, float(match.group(1)) if match else None,
            bool(match) and [match.group(2), match.group(3)]
            == [f"{history[-1][1]:.3f}", f"{history[-1][2]:.3f}"]]


def _ranking_expect(lr=0.5, num_epochs=3):
    history, printed_loss = ranking_training_reference(neumf_params(*RANKING_SIZES, seed=4),
                                                       lr, num_epochs)
    return [history, float(f"{printed_loss:.3f}"), True]


@st.composite
def _hit_and_auc_inputs(draw):
    num_items = draw(st.integers(1, 12))
    ranked = draw(st.permutations(range(num_items)))
    length = draw(st.integers(1, num_items))
    test = draw(st.lists(st.integers(0, num_items + 2), max_size=3))
    return ranked[:length], test, draw(st.integers(0, num_items + 1))


@st.composite
def _hit_and_auc_edges(draw):
    ranked = draw(st.lists(st.integers(0, 5), max_size=2, unique=True))
    return ranked, draw(st.lists(st.integers(0, 5), max_size=2)), draw(
        st.sampled_from([0, 1, 3, -1, -5, 2.0, True]))


def _hit_and_auc_call(b, ranked, test, k):
    return list(b.d2l.hit_and_auc(ranked, test, k))


def _hit_and_auc_reference(ranked, test, k):
    return list(hit_and_auc_reference(ranked, set(test), k))


# 16.8: CTR data

def _ctr_probe(b, min_threshold=4):
    import os

    with ctr_served(ctr_lines(60, 0), ctr_lines(15, 1)):
        folder = b.d2l.download_extract("ctr")
        train = b.d2l.CTRDataset(os.path.join(folder, "train.csv"), min_threshold=min_threshold)
        test = b.d2l.CTRDataset(os.path.join(folder, "test.csv"), feat_mapper=train.feat_mapper,
                                defaults=train.defaults)
    return [[len(train), len(test)], train.field_dims.tolist(), train.offsets.tolist(),
            [[b.numpy(x).tolist(), b.numpy(y).tolist()] for x, y in
             (train[k] for k in range(len(train)))],
            [[b.numpy(x).tolist(), b.numpy(y).tolist()] for x, y in
             (test[k] for k in range(len(test)))]]


def ctr_reference(text, mapper=None, min_threshold=4, num_feat=34):
    """(labels, per-field value indices, mapper) of CTR lines: per field, values seen at
    least min_threshold times numbered in order of first appearance, others -> their count."""
    rows = [line.split("\t") for line in text.splitlines()]
    rows = [r for r in rows if len(r) == num_feat + 1]
    if mapper is None:
        mapper = []
        for f in range(1, num_feat + 1):
            column = [r[f] for r in rows]
            kept = []
            for v in column:
                if column.count(v) >= min_threshold and v not in kept:
                    kept.append(v)
            mapper.append(kept)
    indices = [[mapper[f - 1].index(r[f]) if r[f] in mapper[f - 1] else len(mapper[f - 1])
                for f in range(1, num_feat + 1)] for r in rows]
    return [float(r[0]) for r in rows], indices, mapper


def _ctr_expect():
    labels, indices, mapper = ctr_reference(ctr_lines(60, 0))
    test_labels, test_indices, _ = ctr_reference(ctr_lines(15, 1), mapper)
    dims = [len(m) + 1 for m in mapper]
    offsets = np.concatenate([[0], np.cumsum(dims)[:-1]]).tolist()

    def examples(lab, ind):
        return [[[v + o for v, o in zip(row, offsets)], [y]] for row, y in zip(ind, lab)]

    return [[len(labels), len(test_labels)], dims, offsets, examples(labels, indices),
            examples(test_labels, test_indices)]


RATING_TOL = Tol(1e-4, 1e-5)  # float32 training against float64 NumPy over a few epochs


def _df(rows=((1, 1, 5, 0), (1, 2, 3, 1), (2, 1, 4, 2))):
    return frame(list(rows))


ENTRIES = [
    Entry("DATA_HUB['ml-100k']", "16.2", "",
          "http://files.grouplens.org/datasets/movielens/ml-100k.zip, sha1 cd4dcac4...; "
          "download_extract('ml-100k') gives the folder ml-100k holding u.data. Checked on a "
          "generated archive of that layout served over loopback.",
          probe=_ml100k_hub_probe,
          expect=lambda: [list(ML100K), "ml-100k", ["README", "u.data"]], tol=EXACT),
    Entry("read_data_ml100k", "16.2", "read_data_ml100k()",
          "(data, num_users, num_items): u.data as a DataFrame with columns user_id, item_id, "
          "rating, timestamp, and the distinct user and item counts. Fix: the separator is "
          "passed as sep= (upstream passed it positionally; pandas 2 rejects that). Checked "
          "on generated MovieLens-format ratings.",
          probe=_read_probe, expect=_read_expect, tol=EXACT),
    Entry("read_data_ml100k (malformed file)", "16.2", "read_data_ml100k()",
          "A u.data line with five or three columns, five columns throughout, a value that "
          "is not an integer, or an empty file: ValueError naming read_data_ml100k and the "
          "file u.data (upstream: pandas' own error, or a wrong table).",
          probe=_bad_file_probe, expect=lambda: [["ValueError", True]] * len(BAD_RATINGS),
          tol=EXACT),
    Entry("split_data_ml100k", "16.2",
          "split_data_ml100k(data, num_users, num_items, split_mode='random', test_ratio=0.1)",
          "'seq-aware': each user's row of the largest timestamp (the first row of equal "
          "ones) is the user's test row, test rows in order of each user's first appearance; "
          "train holds the other rows, users by id, rows by timestamp (ties in row order); a "
          "row equal to a test row (a repeat) leaves train too, as upstream. DataFrames with "
          "columns 0..3. A split_mode other than 'random' / 'seq-aware' (upstream: silently "
          "random) or a test_ratio outside (0, 1): ValueError naming it.",
          reference=lambda rows, nu, ni: list(seq_aware_reference(rows)),
          inputs=lambda: rating_tables(), call=_split_call, tol=EXACT,
          rejects=(Reject("split_mode sequential", lambda b: (_df(), 2, 2, "sequential"),
                          match="split_mode"),
                   Reject("test_ratio 0", lambda b: (_df(), 2, 2, "random", 0),
                          match="test_ratio"),
                   Reject("test_ratio 1", lambda b: (_df(), 2, 2, "seq-aware", 1.0),
                          match="test_ratio"),
                   Reject("test_ratio 1.5", lambda b: (_df(), 2, 2, "random", 1.5),
                          match="test_ratio"))),
    Entry("split_data_ml100k (random)", "16.2",
          "split_data_ml100k(data, num_users, num_items, 'random', test_ratio)",
          "Row k goes to train iff the k-th of len(data) numpy.random.uniform(0, 1) draws is "
          "< 1 - test_ratio: NumPy's global RNG, so numpy.random.seed(s) gives the same split "
          "in every framework (upstream drew from mxnet.np.random). Rows keep their order and "
          "columns.",
          reference=lambda rows, nu, ni, seed, ratio: [
              list(map(list, part)) for part in random_split_reference(rows, seed, ratio)],
          inputs=_random_split_inputs,
          call=lambda b, rows, nu, ni, seed, ratio: _split_call(b, rows, nu, ni, "random",
                                                                seed, ratio), tol=EXACT),
    Entry("load_data_ml100k", "16.2",
          "load_data_ml100k(data, num_users, num_items, feedback='explicit')",
          "(users, items, scores, inter): 0-based id lists, scores the ratings (explicit) or "
          "1s (implicit); inter: explicit an (num_items, num_users) float32 matrix of ratings "
          "(M mxnet.np, P/T tensors), implicit a dict user -> items in row order. A feedback "
          "other than the two, ids outside 1..num_users / 1..num_items: ValueError naming "
          "feedback / data.",
          reference=lambda rows, nu, ni, fb: list(load_reference(rows, nu, ni, fb)),
          inputs=_load_inputs, call=_load_call, tol=EXACT,
          rejects=(Reject("feedback binary", lambda b: (_df(), 2, 2, "binary"),
                          match="feedback"),
                   Reject("item id beyond num_items", lambda b: (_df(), 2, 1), match="data"))),
    Entry("split_and_load_ml100k", "16.2",
          "split_and_load_ml100k(split_mode='seq-aware', feedback='explicit', test_ratio=0.1, "
          "batch_size=256)",
          "read -> split -> load both parts -> loaders of (users, items, scores): M Gluon "
          "DataLoaders (float32, train shuffled, last_batch='rollover'), P DataLoaders (int64 "
          "ids, float32 scores, train shuffled), T tf.data (int32 ids, float32 scores, train "
          "reshuffled each epoch). Returns (num_users, num_items, train_iter, test_iter). "
          "Checked on generated ratings: the same examples in every framework. Bad split_mode, "
          "feedback or test_ratio: ValueError naming it, before anything is read.",
          probe=_split_and_load_probe, expect=_split_and_load_expect, tol=EXACT,
          rejects=(Reject("split_mode bad", lambda b: ("latest",), match="split_mode"),
                   Reject("feedback bad", lambda b: ("random", "both"), match="feedback"),
                   Reject("test_ratio 0", lambda b: ("random", "explicit", 0),
                          match="test_ratio"),
                   Reject("batch_size 0", lambda b: ("random", "explicit", 0.1, 0),
                          match="batch_size"))),
    Entry("train_recsys_rating", "16.3",
          "train_recsys_rating(net, train_iter, test_iter, loss, trainer, num_epochs, "
          "devices=d2l.try_all_gpus(), evaluator=None, **kwargs)",
          "Batches (inputs..., target) on devices (M: split over them; P: DataParallel over "
          "several GPUs; T: the first device); the gradient of the batch mean loss (M: "
          "trainer.step(batch size); P: torch.optim; T: a Keras optimizer); after each epoch "
          "evaluator(net, test_iter, devices) (AutoRec: with kwargs['inter_mat']). Plots the "
          "mean batch loss and test RMSE per epoch; prints 'train loss {l:.3f}, test RMSE "
          "{r:.3f}' (l: the book's running-total quirk, kept) and '{n:.1f} examples/sec on "
          "{devices}'. Checked from canonical weights of the book's MF on fixed batches of "
          "generated ratings with SGD against NumPy SGD: every epoch's loss and RMSE.",
          probe=_rating_probe, expect=_rating_expect, tol=RATING_TOL,
          rejects=(Reject("num_epochs 0", lambda b: (None, [], [], None, None, 0, ["cpu"],
                                                     lambda *a: 0.0), match="num_epochs"),
                   Reject("no evaluator", lambda b: (None, [], [], None, None, 1, ["cpu"]),
                          match="evaluator"))),
    Entry("BPRLoss", "16.5", "BPRLoss(weight=None, batch_axis=0, **kwargs)",
          "loss(positive, negative) = -Σ log σ(positive - negative) over axis 0, kept (shape "
          "(1, ...)). Fix: computed as Σ softplus(negative - positive), finite for any finite "
          "scores (upstream's log of a sigmoid is -inf past a difference of ~90 in float32). "
          "M a Gluon Loss, P an nn.Module, T a callable tf.Module.",
          reference=bpr_reference, inputs=_score_pairs,
          book_inputs=lambda: _score_pairs(book=True), call=_loss_call("BPRLoss"),
          tol=Tol(1e-5, 1e-4)),
    Entry("HingeLossbRec", "16.5", "HingeLossbRec(weight=None, batch_axis=0, **kwargs)",
          "loss(positive, negative, margin=1) = Σ max(margin - (positive - negative), 0) "
          "over every element (0-d).",
          reference=hinge_reference, inputs=lambda: _score_pairs(margin=True),
          book_inputs=lambda: _score_pairs(book=True, margin=True),
          call=_loss_call("HingeLossbRec"), tol=Tol(1e-5, 1e-4)),
    Entry("hit_and_auc", "16.6", "hit_and_auc(rankedlist, test_matrix, k)",
          "(hits, auc): test items among the first k of the ranked list; auc = (L-1-p)/(L-1) "
          "for the first test item's position p in the list of length L, 0 without one. "
          "Fix: a one-item list holding a test item has auc 1.0 (upstream divides by zero). "
          "A k that is not a non-negative int: ValueError naming k.",
          reference=_hit_and_auc_reference, inputs=_hit_and_auc_inputs,
          edges=_hit_and_auc_edges, call=_hit_and_auc_call, tol=Tol(1e-12, 0)),
    Entry("evaluate_ranking", "16.6",
          "evaluate_ranking(net, test_input, seq, candidates, num_users, num_items, devices)",
          "(mean hit rate@50, mean AUC): user u ranks the items of range(num_items) not in "
          "candidates[u] by descending net score (equal scores: lower item id first), then "
          "hit_and_auc(ranked, test_input[u], 50); users missing from test_input count 0 and "
          "0, from candidates rank every item. Fix: the item universe is range(num_items) "
          "(upstream: range(num_users)). Vectorized: every (user, item) pair scored in large "
          "batches, one sort of the score matrix. Checked from canonical NeuMF weights "
          "against NumPy scores ranked with plain loops.",
          probe=_evaluate_probe, expect=_evaluate_expect, tol=Tol(1e-12, 1e-12),
          rejects=(Reject("num_items 0", lambda b: (None, {}, None, {}, 3, 0, ["cpu"]),
                          match="num_items"),)),
    Entry("evaluate_ranking (drawn rankings)", "16.6",
          "evaluate_ranking(net, test_input, seq, candidates, num_users, num_items, devices)",
          "The same metrics on drawn score tables with many ties (a stand-in net looking "
          "scores up), 1-60 items, users missing from test_input or candidates, test items "
          "among the training items: the NumPy plain-loop ranking's numbers.",
          reference=lambda scores, test_input, candidates: list(ranking_reference(
              scores, test_input, candidates)),
          inputs=_drawn_rankings, call=_drawn_ranking_call, tol=Tol(1e-12, 1e-12)),
    Entry("train_ranking", "16.6",
          "train_ranking(net, train_iter, test_iter, loss, trainer, test_seq_iter, num_users, "
          "num_items, num_epochs, devices, evaluator, candidates, eval_step=1)",
          "Batches (users, [seqs,] items, negatives): loss(net(users, items), net(users, "
          "negatives)) summed, its gradient divided by the batch size (M: trainer.step); "
          "every eval_step epochs evaluator(net, test_iter, test_seq_iter, candidates, "
          "num_users, num_items, devices) in inference mode, plotted; prints 'train loss "
          "{l:.3f}, test hit rate {h:.3f}, test AUC {a:.3f}' and the speed (the book's "
          "never-restarted timer kept). Checked from canonical NeuMF weights with BPRLoss, "
          "SGD and evaluate_ranking on fixed batches against NumPy backpropagation.",
          probe=_ranking_probe, expect=_ranking_expect, tol=Tol(1e-4, 1e-4),
          rejects=(Reject("eval_step 0", lambda b: (None, [], {}, None, None, None, 2, 2, 1,
                                                    ["cpu"], lambda *a: (0, 0), {}, 0),
                          match="eval_step"),)),
    Entry("DATA_HUB['ctr']", "16.8", "",
          "ctr.zip under DATA_URL, sha1 e18327c4...; download_extract('ctr') gives the "
          "folder ctr holding train.csv and test.csv. Checked on a generated archive served "
          "at the $D2L_DATA_URL mirror.",
          probe=_ctr_hub_probe, expect=lambda: [list(CTR), "ctr", ["test.csv", "train.csv"]],
          tol=EXACT),
    Entry("CTRDataset", "16.8",
          "CTRDataset(data_path, feat_mapper=None, defaults=None, min_threshold=4, "
          "num_feat=34)",
          "Lines of a label and num_feat tab-separated values (others skipped). Per field, "
          "values seen >= min_threshold times map to 0..k-1, others to k; field_dims = k + 1, "
          "offsets their exclusive cumulative sums; item idx = (indices + offsets int64 "
          "(num_feat,), label float32 (1,)). Fix: values are numbered in order of first "
          "appearance (upstream enumerated a set: the numbering changed with Python's hash "
          "seed). A test set takes the training set's feat_mapper and defaults. Checked on "
          "generated CTR files: the same arrays in every framework.",
          probe=_ctr_probe, expect=_ctr_expect, tol=EXACT),
]
