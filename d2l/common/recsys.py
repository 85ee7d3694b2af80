"""Chapter 16, Recommender Systems: the framework-neutral parts.

MovieLens 100K (16.2): reading `ml-100k/u.data`, the train/test split, the conversion of
rating rows to 0-based ids and feedback matrices. Ranking (16.6): `hit_and_auc` and the
vectorized ranking of every user's candidate items. The rating and ranking training loops'
bookkeeping (16.3, 16.6) and the parsing of the book's click-through-rate files (16.8).
The framework modules `recommender_systems.py` add tensors, data loaders and autograd.
"""

import numbers
import os

import numpy as np

from . import checks
from .bookkeeping import Accumulator, Timer
from .data_hub import download_extract
from .plotting import Animator

ML100K_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]
SPLIT_MODES = ("random", "seq-aware")
FEEDBACKS = ("explicit", "implicit")
# Users x items scored per call of the net in evaluate_ranking.
SCORE_BATCH = 1 << 16


def read_data_ml100k():
    """Download (`DATA_HUB['ml-100k']`) and read `ml-100k/u.data`: tab-separated user id,
    item id, rating, timestamp (ints, ids from 1).

    Returns (data, num_users, num_items): a pandas DataFrame with columns user_id, item_id,
    rating, timestamp, and the numbers of distinct users and items (943 and 1682 for the real
    file). The separator is passed as `sep=` (upstream passed it positionally, which pandas 2
    rejects). A file whose lines do not all hold four integers, or with no line, is a
    ValueError naming it.
    """
    data_dir = download_extract("ml-100k")
    return read_ratings(os.path.join(data_dir, "u.data"))


def read_ratings(path):
    """The DataFrame of a MovieLens ratings file and its numbers of distinct users and items
    (see `read_data_ml100k`)."""
    import pandas as pd

    try:
        data = pd.read_csv(path, sep="\t", names=ML100K_COLUMNS, header=None,
                           engine="c", dtype=str, keep_default_na=False)
    except pd.errors.ParserError as error:
        raise ValueError(f"read_data_ml100k: {path} must hold 4 tab-separated columns "
                         f"(user_id, item_id, rating, timestamp) a line: {error}") from None
    if len(data) == 0:
        raise ValueError(f"read_data_ml100k: {path} holds no ratings (4 tab-separated columns "
                         f"user_id, item_id, rating, timestamp a line expected)")
    if data.index.nlevels > 1 or not isinstance(data.index, pd.RangeIndex):
        raise ValueError(f"read_data_ml100k: {path} has lines with more than 4 tab-separated "
                         f"columns (user_id, item_id, rating, timestamp expected)")
    try:
        data = data.astype(np.int64)
    except ValueError:
        raise ValueError(f"read_data_ml100k: {path} must hold 4 tab-separated integer columns "
                         f"(user_id, item_id, rating, timestamp) on every line") from None
    return data, data.user_id.nunique(), data.item_id.nunique()


def check_split_mode(fn, split_mode):
    if split_mode not in SPLIT_MODES:
        raise ValueError(f"{fn}: split_mode must be 'random' or 'seq-aware', got "
                         f"{split_mode!r}")


def check_test_ratio(fn, test_ratio):
    if (isinstance(test_ratio, bool) or not isinstance(test_ratio, numbers.Real)
            or not 0 < test_ratio < 1):
        raise ValueError(f"{fn}: test_ratio must be a number in (0, 1), got {test_ratio!r}")


def check_feedback(fn, feedback):
    if feedback not in FEEDBACKS:
        raise ValueError(f"{fn}: feedback must be 'explicit' or 'implicit', got {feedback!r}")


def _rows(fn, data):
    """The first four columns of a ratings DataFrame (user, item, rating, timestamp) as an
    (n, 4) int64 array; ValueError naming data otherwise."""
    values = np.asarray(getattr(data, "values", data))
    if values.ndim != 2 or values.shape[1] < 4:
        raise ValueError(f"{fn}: data must be a DataFrame of (user_id, item_id, rating, "
                         f"timestamp) rows, got shape {values.shape}")
    return values[:, :4].astype(np.int64)


def split_data_ml100k(data, num_users, num_items, split_mode="random", test_ratio=0.1):
    """Split rating rows into (train_data, test_data) DataFrames.

    'random': each row goes to train with probability 1 - test_ratio, drawn from NumPy's
    global RNG (`numpy.random.seed` makes the split repeatable, the same in every framework;
    upstream drew from mxnet.np.random); rows keep their order and index.
    'seq-aware': each user's latest interaction (largest timestamp; of equal timestamps the
    first row) goes to test, test rows ordered by each user's first appearance in `data`;
    train holds every user's other rows, users 1..num_users in turn, each user's rows sorted
    by timestamp (equal timestamps in row order). Rows equal to a test row (a duplicate) leave
    train with it, as upstream. Both DataFrames have columns 0..3 there, as upstream.
    A split_mode other than these two, or a test_ratio outside (0, 1): ValueError.
    """
    import pandas as pd

    fn = "split_data_ml100k"
    check_split_mode(fn, split_mode)
    check_test_ratio(fn, test_ratio)
    if split_mode == "random":
        mask = np.random.uniform(0, 1, len(data)) < 1 - test_ratio
        return data[mask], data[~mask]
    rows = _rows(fn, data)
    users, times = rows[:, 0], rows[:, 3]
    # Latest interaction per user, first row among equal timestamps.
    order = np.lexsort((np.arange(len(rows)), -times, users))
    first_of_user = np.ones(len(order), bool)
    first_of_user[1:] = users[order][1:] != users[order][:-1]
    test_rows = order[first_of_user]
    _, first_seen = np.unique(users, return_index=True)
    appearance = np.argsort(first_seen[np.searchsorted(np.unique(users), users[test_rows])],
                            kind="stable")
    test = rows[test_rows[appearance]]
    # Train: users 1..num_users (others after them, as upstream fails on them), by timestamp.
    train_order = np.lexsort((np.arange(len(rows)), times, users))
    is_test = _matches_any(rows[train_order], test)
    train = rows[train_order[~is_test]]
    return pd.DataFrame(train), pd.DataFrame(test)


def _matches_any(rows, targets):
    """Whether each row of `rows` (n, 4) equals some row of `targets` (m, 4)."""
    if len(targets) == 0:
        return np.zeros(len(rows), bool)
    both = np.concatenate([rows, targets])
    _, inverse = np.unique(both, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return np.isin(inverse[:len(rows)], inverse[len(rows):])


def load_data_ml100k(data, num_users, num_items, feedback="explicit"):
    """Rating rows as 0-based lists and feedback: (users, items, scores, inter).

    users, items: lists of ints (ids - 1); scores: the ratings ('explicit') or all 1
    ('implicit'). inter: 'explicit' an (num_items, num_users) float32 NumPy matrix of
    ratings, inter[item, user] (0 where unrated; of repeated pairs the last row's rating);
    'implicit' a dict user -> list of the user's items in row order. Ids outside
    1..num_users / 1..num_items: ValueError naming data; a feedback other than these two:
    ValueError naming feedback.
    """
    fn = "load_data_ml100k"
    check_feedback(fn, feedback)
    rows = _rows(fn, data)
    users, items = rows[:, 0] - 1, rows[:, 1] - 1
    if len(rows) and (users.min() < 0 or users.max() >= num_users or items.min() < 0
                      or items.max() >= num_items):
        raise ValueError(f"{fn}: data holds user ids {users.min() + 1}..{users.max() + 1} and "
                         f"item ids {items.min() + 1}..{items.max() + 1}; they must lie in "
                         f"1..num_users={num_users} and 1..num_items={num_items}")
    if feedback == "explicit":
        scores = rows[:, 2]
        inter = np.zeros((num_items, num_users), np.float32)
        last = len(rows) - 1 - np.unique((items * num_users + users)[::-1],
                                         return_index=True)[1]
        inter[items[last], users[last]] = scores[last]
    else:
        scores = np.ones(len(rows), np.int64)
        inter = {}
        for u, i in zip(users.tolist(), items.tolist()):
            inter.setdefault(u, []).append(i)
    return users.tolist(), items.tolist(), scores.tolist(), inter


def read_split_load(split_mode, feedback, test_ratio, batch_size):
    """What `split_and_load_ml100k` does before the framework's loaders: check the
    arguments, read, split and convert both parts. Returns (num_users, num_items,
    (train_u, train_i, train_r), (test_u, test_i, test_r))."""
    fn = "split_and_load_ml100k"
    check_split_mode(fn, split_mode)
    check_feedback(fn, feedback)
    check_test_ratio(fn, test_ratio)
    checks.positive_int(fn, "batch_size", batch_size)
    data, num_users, num_items = read_data_ml100k()
    train_data, test_data = split_data_ml100k(data, num_users, num_items, split_mode,
                                              test_ratio)
    train = load_data_ml100k(train_data, num_users, num_items, feedback)[:3]
    test = load_data_ml100k(test_data, num_users, num_items, feedback)[:3]
    return num_users, num_items, train, test


# --- 16.3 / 16.6: the training loops' bookkeeping ------------------------------------------

def as_list(values):
    """A batch as a list of arrays (a single array: a one-element list)."""
    return list(values) if isinstance(values, (list, tuple)) else [values]


def train_rating_loop(step, evaluate, train_iter, num_epochs, devices):
    """The loop of `train_recsys_rating`: `step(batch)` trains on one batch and returns (its
    mean loss as a float, its number of examples, the number of elements of its first
    array); `evaluate()` gives the test RMSE after each epoch.

    Plots per epoch the mean of the batches' mean losses and the test RMSE (ylim [0, 2]),
    then prints `train loss {l:.3f}, test RMSE {r:.3f}` and `{n:.1f} examples/sec on
    {devices}`. Kept from the book: the printed train loss is the sum, over the last epoch's
    batches, of the running loss total after each batch, divided by the epoch's examples.
    Returns the plotted (train loss, test RMSE) pairs, one per epoch.
    """
    fn = "train_recsys_rating"
    checks.positive_int(fn, "num_epochs", num_epochs)
    timer, history = Timer(), []
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0, 2],
                        legend=["train loss", "test RMSE"])
    for epoch in range(num_epochs):
        metric, running, num_batches = Accumulator(3), 0.0, 0
        for values in train_iter:
            timer.start()
            batch_loss, n, size = step(values)
            running += batch_loss
            metric.add(running, n, size)
            num_batches += 1
            timer.stop()
        if num_batches == 0:
            raise ValueError(f"{fn}: train_iter gave no batch")
        test_rmse = float(evaluate())
        history.append((running / num_batches, test_rmse))
        animator.add(epoch + 1, history[-1])
    print(f"train loss {metric[0] / metric[1]:.3f}, test RMSE {test_rmse:.3f}")
    print(f"{metric[2] * num_epochs / timer.sum():.1f} examples/sec on {devices}")
    return history


def train_ranking_loop(step, evaluate, train_iter, num_epochs, eval_step, devices):
    """The loop of `train_ranking`: `step(batch)` trains on one batch and returns (its summed
    loss as a float, its number of examples, the elements of its first array); every
    `eval_step` epochs `evaluate()` gives (hit rate, AUC), plotted (ylim [0, 1]). Prints
    `train loss {l:.3f}, test hit rate {h:.3f}, test AUC {a:.3f}` and `{n:.1f} examples/sec
    on {devices}` (the train loss as in `train_rating_loop`; kept from the book: the timer
    is stopped after every batch but never restarted, so the speed counts from the start).
    Returns the plotted (epoch, hit rate, AUC) triples.
    """
    fn = "train_ranking"
    checks.positive_int(fn, "num_epochs", num_epochs)
    checks.positive_int(fn, "eval_step", eval_step)
    timer, history, hit_rate, auc = Timer(), [], 0.0, 0.0
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0, 1],
                        legend=["test hit rate", "test AUC"])
    for epoch in range(num_epochs):
        metric, running, num_batches = Accumulator(3), 0.0, 0
        for values in train_iter:
            batch_loss, n, size = step(values)
            running += batch_loss
            metric.add(running, n, size)
            num_batches += 1
            timer.stop()
        if num_batches == 0:
            raise ValueError(f"{fn}: train_iter gave no batch")
        if (epoch + 1) % eval_step == 0:
            hit_rate, auc = (float(v) for v in evaluate())
            history.append((epoch + 1, hit_rate, auc))
            animator.add(epoch + 1, (hit_rate, auc))
    print(f"train loss {metric[0] / metric[1]:.3f}, test hit rate {hit_rate:.3f}, "
          f"test AUC {auc:.3f}")
    print(f"{metric[2] * num_epochs / timer.sum():.1f} examples/sec on {devices}")
    return history


def check_loop(fn, num_epochs, evaluator, devices, eval_step=1):
    """The arguments every training loop of the chapter checks first: num_epochs and
    eval_step positive ints, evaluator a function, devices not empty. Returns the devices
    as a list (see `check_devices`)."""
    checks.positive_int(fn, "num_epochs", num_epochs)
    checks.positive_int(fn, "eval_step", eval_step)
    if not callable(evaluator):
        raise ValueError(f"{fn}: evaluator must be a function such as the book's evaluator, "
                         f"got {evaluator!r}")
    return check_devices(fn, devices)


def check_devices(fn, devices):
    """The devices as a non-empty list (a single device: a one-element list)."""
    devices = list(devices) if isinstance(devices, (list, tuple)) else [devices]
    if not devices:
        raise ValueError(f"{fn}: devices must name at least one device")
    return devices


# --- 16.6: ranking metrics -------------------------------------------------------------------

def hit_and_auc(rankedlist, test_matrix, k):
    """(hits, auc) of one user's ranked item list (best first).

    hits: how many of the first k items are test items (`test_matrix`: an iterable of the
    user's test items). auc: (L - 1 - p) / (L - 1), p the position of the first test item in
    the list of length L, 0 when no test item is in the list; a one-item list whose item is
    a test item has auc 1.0 (upstream divides by zero). k must be a non-negative int.
    """
    checks.non_negative_int("hit_and_auc", "k", k)
    test = set(test_matrix)
    flags = [item in test for item in rankedlist]
    hits = sum(flags[:k])
    if True not in flags:
        return hits, 0
    last = len(flags) - 1
    return hits, (last - flags.index(True)) / last if last else 1.0


def _as_mask(fn, name, per_user, num_users, num_items):
    """A (num_users, num_items) bool mask of a dict (or sequence) user -> items."""
    mask = np.zeros((num_users, num_items), bool)
    pairs = per_user.items() if isinstance(per_user, dict) else enumerate(per_user)
    users, items = [], []
    for u, its in pairs:
        its = np.asarray(list(its), np.int64).reshape(-1)
        users.append(np.full(len(its), int(u)))
        items.append(its)
    if users:
        users, items = np.concatenate(users), np.concatenate(items)
        if len(users) and (users.min() < 0 or users.max() >= num_users or items.min() < 0
                           or items.max() >= num_items):
            raise ValueError(f"{fn}: {name} holds users or items outside 0..num_users-1 = "
                             f"{num_users - 1} / 0..num_items-1 = {num_items - 1}")
        mask[users, items] = True
    return mask


def ranking_metrics(scores, test_input, candidates, k=50, chunk=4096):
    """Mean hit rate@k and mean AUC over users of a (num_users, num_items) score matrix.

    Each user u ranks the items not in `candidates[u]` (the training items; a user missing
    from it ranks every item) by descending score, equal scores in increasing item id (the
    order upstream's stable sort gave), and gets `hit_and_auc(ranked, test_input[u], k)` (a
    user missing from `test_input` has no test item: 0 and 0). Vectorized without sorting:
    a test item's position is the number of ranked items of the user that beat it (a higher
    score, or an equal one and a lower id), counted for `chunk` test items at a time.
    Returns (hit rate, AUC) as floats.
    """
    num_users, num_items = scores.shape
    fn = "evaluate_ranking"
    allowed = ~_as_mask(fn, "candidates", candidates, num_users, num_items)
    test_users, test_items = np.nonzero(
        _as_mask(fn, "test_input", test_input, num_users, num_items) & allowed)
    positions = np.empty(len(test_users), np.int64)
    ids = np.arange(num_items)
    for start in range(0, len(test_users), chunk):
        u, i = test_users[start:start + chunk], test_items[start:start + chunk]
        rows, own = scores[u], scores[u, i][:, None]
        beaten_by = (rows > own) | ((rows == own) & (ids < i[:, None]))
        positions[start:start + chunk] = (beaten_by & allowed[u]).sum(axis=1)
    hits_k = np.bincount(test_users, weights=positions < k, minlength=num_users)
    first = np.full(num_users, num_items, np.int64)
    np.minimum.at(first, test_users, positions)
    any_hit = first < num_items
    length = allowed.sum(axis=1)
    last = np.maximum(length - 1, 1)
    auc = np.where(any_hit, np.where(length > 1, (length - 1 - first) / last, 1.0), 0.0)
    return float(hits_k.mean()), float(auc.mean())


def score_all(score_fn, num_users, num_items, seq=None, batch=SCORE_BATCH):
    """The (num_users, num_items) matrix of `score_fn(users, items, seq_rows)` over every
    pair, scored in chunks of `batch` pairs (NumPy int64 ids; seq_rows = seq[users] or
    None); `score_fn` returns the chunk's scores as NumPy."""
    users = np.repeat(np.arange(num_users), num_items)
    items = np.tile(np.arange(num_items), num_users)
    seq = None if seq is None else np.asarray(seq)
    out = np.empty(num_users * num_items, np.float64)
    for start in range(0, len(users), batch):
        u, i = users[start:start + batch], items[start:start + batch]
        out[start:start + batch] = np.asarray(score_fn(
            u, i, None if seq is None else seq[u])).reshape(-1)
    return out.reshape(num_users, num_items)


def check_ranking_sizes(num_users, num_items):
    checks.positive_int("evaluate_ranking", "num_users", num_users)
    checks.positive_int("evaluate_ranking", "num_items", num_items)


# --- 16.8: click-through-rate data ------------------------------------------------------------

def read_ctr(data_path, feat_mapper=None, defaults=None, min_threshold=4, num_feat=34):
    """Parse a CTR file: lines of a label and `num_feat` categorical values, tab-separated
    (other lines skipped). Returns (labels (n,) float32, features (n, num_feat) int64 of
    indices within each field, feat_mapper, defaults, field_dims (num_feat,) int64,
    offsets (num_feat,) int64).

    Without a mapper (feat_mapper and defaults both None), field i (1-based, as upstream's
    keys) maps the values seen >= min_threshold times to 0..k_i-1 in order of first
    appearance in the file (upstream enumerated a set, an order that changes with Python's
    hash seed), and defaults[i] = k_i is the index of every other value. field_dims[i-1] =
    k_i + 1; offsets are the exclusive cumulative sums of field_dims.
    """
    fn = "CTRDataset"
    checks.positive_int(fn, "num_feat", num_feat)
    checks.non_negative_int(fn, "min_threshold", min_threshold)
    if (feat_mapper is None) != (defaults is None):
        raise ValueError(f"{fn}: give both feat_mapper and defaults (a test set takes the "
                         f"training set's), or neither")
    labels, rows = [], []
    with open(data_path) as f:
        for line in f:
            values = line.rstrip("\n").split("\t")
            if len(values) != num_feat + 1:
                continue
            labels.append(np.float32(values[0]))
            rows.append(values[1:])
    if feat_mapper is None:
        feat_mapper, defaults = {}, {}
        for i in range(1, num_feat + 1):
            column = [row[i - 1] for row in rows]
            counts = {}
            for v in column:
                counts[v] = counts.get(v, 0) + 1
            kept = [v for v, c in counts.items() if c >= min_threshold]  # first appearance
            feat_mapper[i] = {v: idx for idx, v in enumerate(kept)}
            defaults[i] = len(kept)
    features = np.array([[feat_mapper[i + 1].get(v, defaults[i + 1]) for i, v in
                          enumerate(row)] for row in rows], np.int64).reshape(-1, num_feat)
    field_dims = np.zeros(num_feat, np.int64)
    for i, mapping in feat_mapper.items():
        field_dims[i - 1] = len(mapping) + 1
    offsets = np.concatenate([[0], np.cumsum(field_dims)[:-1]]).astype(np.int64)
    return (np.asarray(labels, np.float32), features, feat_mapper, defaults, field_dims,
            offsets)


class CTRTable:
    """The framework-neutral part of `CTRDataset` (each backend adds `__getitem__`): the
    attributes upstream has (`NUM_FEATS, count, data, feat_mapper, defaults, field_dims,
    offsets`), with `data` a dict index -> {'x': the field values' indices + offsets
    (num_feat,) int64, 'y': [label]}; `features` (count, num_feat) and `labels` (count, 1)
    as arrays; `example(idx)` gives (indices + offsets, label (1,) float32) as NumPy."""

    def __init__(self, data_path, feat_mapper=None, defaults=None, min_threshold=4,
                 num_feat=34):
        labels, features, self.feat_mapper, self.defaults, self.field_dims, self.offsets = \
            read_ctr(data_path, feat_mapper, defaults, min_threshold, num_feat)
        self.NUM_FEATS, self.count = num_feat, len(labels)
        self.features = features + self.offsets
        self.labels = labels.reshape(-1, 1)
        self.data = {i: {"x": self.features[i], "y": [labels[i]]} for i in range(self.count)}

    def __len__(self):
        return self.count

    def example(self, idx):
        if not -self.count <= idx < self.count:
            raise IndexError(f"CTRDataset: index {idx} out of range for {self.count} examples")
        return self.features[idx], self.labels[idx]

