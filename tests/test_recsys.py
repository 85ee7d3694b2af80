"""Chapter 16, Recommender Systems, in every framework: behaviour the spec entries do not pin
(hand-checked splits and rankings, loaders' layouts and dtypes, training that learns from
generated MovieLens-format data, CTR files), on generated data served over loopback."""

import contextlib
import io
import os

import numpy as np
import pytest

from d2l.common import recsys
from spec import recommender_systems as rs

ID_DTYPES = {"mxnet": "float32", "torch": "int64", "tensorflow": "int32"}


def _silent(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = fn(*args, **kwargs)
    return result, out.getvalue()


# --- 16.2 -------------------------------------------------------------------------------------

def test_seq_aware_split_by_hand(backend):
    """User 1's latest rows tie at t=5 (the first of them is the test row); user 2's only
    row is its test row, so user 2 has no training row; test rows in order of appearance."""
    rows = [[2, 7, 1, 3], [1, 1, 5, 5], [1, 2, 4, 1], [1, 3, 3, 5], [1, 4, 2, 0]]
    train, test = backend.d2l.split_data_ml100k(rs.frame(rows), 2, 7, "seq-aware")
    assert test.values.tolist() == [[2, 7, 1, 3], [1, 1, 5, 5]]
    assert train.values.tolist() == [[1, 4, 2, 0], [1, 2, 4, 1], [1, 3, 3, 5]]


def test_random_split_is_seeded_and_keeps_rows(backend):
    rows = rs.synthetic_ratings()
    np.random.seed(7)
    train, test = backend.d2l.split_data_ml100k(rs.frame(rows), 12, 20, "random", 0.25)
    np.random.seed(7)
    again, _ = backend.d2l.split_data_ml100k(rs.frame(rows), 12, 20, "random", 0.25)
    assert train.values.tolist() == again.values.tolist()
    assert sorted(train.values.tolist() + test.values.tolist()) == sorted(rows.tolist())
    assert 0.1 < len(test) / len(rows) < 0.4


def test_load_data_feedback_matrices(backend):
    rows = [[1, 3, 4, 0], [2, 1, 5, 1], [1, 2, 2, 2]]
    users, items, scores, inter = backend.d2l.load_data_ml100k(rs.frame(rows), 2, 3)
    assert (users, items, scores) == ([0, 1, 0], [2, 0, 1], [4, 5, 2])
    assert backend.dtype_name(inter) == "float32"
    assert backend.numpy(inter).tolist() == [[0, 5], [2, 0], [4, 0]]
    _, _, scores, inter = backend.d2l.load_data_ml100k(rs.frame(rows), 2, 3, "implicit")
    assert scores == [1, 1, 1] and inter == {0: [2, 1], 1: [0]}


def test_split_and_load_batches_in_the_framework_loader(backend):
    rows = rs.synthetic_ratings(**rs.LOADER_ROWS)
    with rs.ml100k_served(rs.ratings_text(rows)):
        np.random.seed(0)
        num_users, num_items, train_iter, test_iter = backend.d2l.split_and_load_ml100k(
            "random", "implicit", 0.2, 10)
    batch = next(iter(train_iter))
    assert [backend.dtype_name(t) for t in batch] == [ID_DTYPES[backend.name]] * 2 + [
        "float32"]
    assert [int(t.shape[0]) for t in batch] == [10] * 3
    assert set(backend.numpy(batch[2]).tolist()) == {1.0}  # implicit feedback
    test_rows = sum(int(b[0].shape[0]) for b in test_iter)
    np.random.seed(0)
    expected_test = np.random.uniform(0, 1, len(rows)) >= 0.8
    assert (num_users, test_rows) == (12, int(expected_test.sum()))


def test_read_data_ml100k_on_a_missing_column_names_the_file(backend):
    with rs.ml100k_served("1\t2\t3\n"), pytest.raises(ValueError, match="u.data"):
        backend.d2l.read_data_ml100k()


# --- 16.3 -------------------------------------------------------------------------------------

def _native_rating_loss(b):
    """The loss a reader passes in each framework: Gluon's L2Loss, PyTorch's MSELoss,
    Keras' MeanSquaredError (called target first)."""
    if b.name == "mxnet":
        from mxnet import gluon

        return gluon.loss.L2Loss()
    if b.name == "torch":
        return b.fw.nn.MSELoss()
    from tensorflow import keras

    return keras.losses.MeanSquaredError()


def _adam(b, net, lr):
    if b.name == "mxnet":
        from mxnet import gluon

        return gluon.Trainer(net.collect_params(), "adam", {"learning_rate": lr})
    if b.name == "torch":
        return b.fw.optim.Adam(net.parameters(), lr=lr)
    from tensorflow import keras

    return keras.optimizers.Adam(learning_rate=lr)


def test_matrix_factorization_lowers_test_rmse(backend):
    """The book's MF with the framework's own loss and Adam, trained through
    split_and_load_ml100k's loaders on generated ratings of rank 3: the test RMSE falls
    well below that of the initial weights and below predicting the training mean."""
    rows = rs.synthetic_ratings(40, 60, per_user=30, seed=2)
    with rs.ml100k_served(rs.ratings_text(rows)):
        np.random.seed(1)
        num_users, num_items, train_iter, test_iter = backend.d2l.split_and_load_ml100k(
            "random", "explicit", 0.1, 64)
    params = rs.mf_params(3, num_users, num_items, seed=0)
    net = rs.build_model(backend, "mf", params, 3, num_users, num_items)
    evaluator = rs.rmse_evaluator(backend)
    before = evaluator(net, test_iter, None)
    _, printed = _silent(backend.d2l.train_recsys_rating, net, train_iter, test_iter,
                         _native_rating_loss(backend), _adam(backend, net, 0.05), 12,
                         backend.d2l.try_all_gpus(), evaluator)  # the book's call
    after = evaluator(net, test_iter, None)
    test_ratings = np.concatenate([backend.numpy(r) for _, _, r in test_iter])
    baseline = np.sqrt(np.mean((test_ratings - rows[:, 2].mean()) ** 2))
    assert after < 0.6 * before and after < 0.9 * baseline, (before, after, baseline)
    assert printed.splitlines()[0].endswith(f"test RMSE {after:.3f}")


def test_single_array_batches_are_input_and_target(backend):
    """AutoRec's call: batches of one array (rows of the interaction matrix) are both the
    net's input and its target, and kwargs['inter_mat'] reaches the evaluator."""
    seen = []

    def evaluator(net, test_iter, inter_mat, devices):
        seen.append(inter_mat)
        return 1.0

    net, loss, trainer = _linear_autoencoder(backend)
    batches = [backend.tensor(np.eye(4, dtype=np.float32))]
    _silent(backend.d2l.train_recsys_rating, net, batches, None, loss, trainer, 2,
            [backend.device], evaluator, inter_mat="M")
    assert seen == ["M", "M"]


def _linear_autoencoder(b):
    if b.name == "mxnet":
        from mxnet import gluon

        net = gluon.nn.Dense(4, in_units=4)
        net.initialize()
        return net, gluon.loss.L2Loss(), gluon.Trainer(net.collect_params(), "sgd",
                                                       {"learning_rate": 0.1})
    if b.name == "torch":
        net = b.fw.nn.Linear(4, 4)
        return net, b.fw.nn.MSELoss(), b.fw.optim.SGD(net.parameters(), lr=0.1)
    from tensorflow import keras

    net = keras.layers.Dense(4)
    net.build((None, 4))
    return net, keras.losses.MeanSquaredError(), keras.optimizers.SGD(learning_rate=0.1)


# --- 16.5 / 16.6 ------------------------------------------------------------------------------

def test_bpr_loss_stays_finite_for_large_scores(backend):
    pos, neg = np.array([[300.0], [-300.0]], np.float32), np.array([[-300.0], [300.0]],
                                                                   np.float32)
    out = backend.numpy(backend.d2l.BPRLoss()(backend.tensor(pos), backend.tensor(neg)))
    assert out.shape == (1, 1) and np.allclose(out, 600.0)


def test_hit_and_auc_by_hand():
    assert recsys.hit_and_auc([4, 2, 7, 1], [7], 2) == (0, (3 - 2) / 3)
    assert recsys.hit_and_auc([4, 2, 7, 1], [2, 1], 2) == (1, 2 / 3)
    assert recsys.hit_and_auc([4, 2], [9], 5) == (0, 0)
    assert recsys.hit_and_auc([5], [5], 1) == (1, 1.0)
    with pytest.raises(ValueError, match="k"):
        recsys.hit_and_auc([1], [1], -1)


def test_evaluate_ranking_by_hand(backend):
    """3 users x 60 items. User 0: training items 59, 58; test item 57 ranked first of 58
    -> hit, AUC 1. User 1: test item 0 (lowest score) -> no hit in the top 50, AUC 0. User 2:
    no test item. Ties (user 1's items 1-59 all score 5) rank lower item ids first: the
    universe is the 60 items (upstream ranked only range(num_users) = 3 items)."""
    table = np.tile(np.arange(60, dtype=np.float32), (3, 1))
    table[1] = 5.0
    table[1, 0] = -1.0
    seq = np.arange(6).reshape(3, 2)
    for s in (None, seq):
        hit, auc = backend.d2l.evaluate_ranking(rs.TableNet(backend, table, seq),
                                                {0: [57], 1: [0]}, s, {0: [59, 58], 1: []},
                                                3, 60, [backend.device])
        assert (hit, auc) == pytest.approx(((1 + 0 + 0) / 3, (1.0 + 0.0 + 0.0) / 3))
    # a tie decided by item id: user 1's test item 3 is 3rd of 60 (items 1, 2, 3 tie first)
    hit, auc = backend.d2l.evaluate_ranking(rs.TableNet(backend, table), {1: [3]}, None, {},
                                            3, 60, [backend.device])
    assert (hit, auc) == pytest.approx((1 / 3, (59 - 2) / 59 / 3))


def test_neumf_training_raises_hit_rate(backend):
    """The book's NeuMF with BPRLoss, Adam and fresh negatives each
    epoch on implicit feedback with group structure (30 users, 150 items, 3 groups; one
    held-out liked item per user): hit@50 rises well above the initial weights' (chance:
    50 of the 136 unseen items), evaluated with evaluate_ranking as train_ranking does, and
    the BPR loss of the training pairs against fresh negatives falls."""
    num_users, num_items, factors, hiddens = 30, 150, 8, (16, 8)
    rng = np.random.default_rng(0)
    candidates, test_input = {}, {}
    for u in range(num_users):
        liked = [i for i in rng.permutation(num_items) if i % 3 == u % 3]
        test_input[u], candidates[u] = liked[:1], liked[1:15]
    net = rs.build_model(backend, "neumf", rs.neumf_params(factors, num_users, num_items,
                                                           hiddens, seed=1, scale=0.1),
                         factors, num_users, num_items, hiddens)
    devices = [backend.device]
    before, _ = backend.d2l.evaluate_ranking(net, test_input, None, candidates, num_users,
                                             num_items, devices)
    triples = next(iter(_negatives(backend, candidates, num_items, np.random.default_rng(9),
                                   batch_size=1000)))
    loss_before = _bpr(backend, net, triples)
    (_, printed) = _silent(backend.d2l.train_ranking, net, _negatives(
        backend, candidates, num_items, rng), test_input, backend.d2l.BPRLoss(),
        _adam(backend, net, 0.01), None, num_users, num_items, 12, devices,
        backend.d2l.evaluate_ranking, candidates, 6)
    after, auc = backend.d2l.evaluate_ranking(net, test_input, None, candidates, num_users,
                                              num_items, devices)
    assert after > before + 0.25 and auc > 0.7, (before, after, auc)
    assert _bpr(backend, net, triples) < 0.7 * loss_before
    assert f"test hit rate {after:.3f}, test AUC {auc:.3f}" in printed


def _bpr(b, net, triples):
    """The mean BPR loss of (users, items, negatives) under net, in NumPy."""
    users, items, negatives = triples
    pos, neg = rs.predict(b, net, users, items), rs.predict(b, net, users, negatives)
    return float(np.logaddexp(0, neg - pos).mean())


class _negatives:
    """Batches of (users, items, negatives) with negatives drawn afresh every epoch (the
    book's PRDataset), in the framework's id dtype."""

    def __init__(self, b, candidates, num_items, rng, batch_size=35):
        self.b, self.rng, self.batch_size = b, rng, batch_size
        self.pairs = np.array([(u, i) for u, its in candidates.items() for i in its])
        self.others = {u: np.setdiff1d(np.arange(num_items), its)
                       for u, its in candidates.items()}

    def __iter__(self):
        pairs = self.pairs[self.rng.permutation(len(self.pairs))]
        neg = np.array([self.rng.choice(self.others[u]) for u in pairs[:, 0]])
        for s in range(0, len(pairs), self.batch_size):
            yield [rs.ids(self.b, a[s:s + self.batch_size])
                   for a in (pairs[:, 0], pairs[:, 1], neg)]


# --- 16.8 -------------------------------------------------------------------------------------

def test_ctr_dataset_threshold_and_loader(backend, tmp_path):
    """min_threshold 2: field 1's values a (3x), b (2x) are kept in order of appearance, c
    (1x) is unknown -> index 2; field 2 keeps only x. The malformed line is skipped; the
    examples batch in the framework's loader."""
    path = tmp_path / "train.csv"
    path.write_text("1\ta\tx\n0\tb\tx\nbad line\n1\ta\ty\n0\tc\tx\n1\tb\tz\n1\ta\tx\n")
    ds = backend.d2l.CTRDataset(str(path), min_threshold=2, num_feat=2)
    assert len(ds) == 6 and ds.field_dims.tolist() == [3, 2] and ds.offsets.tolist() == [0, 3]
    x, y = ds[3]
    assert backend.numpy(x).tolist() == [2, 3] and backend.numpy(y).tolist() == [0.0]
    assert backend.dtype_name(x) == "int64" and backend.dtype_name(y) == "float32"
    if backend.name == "mxnet":
        from mxnet import gluon

        batch = next(iter(gluon.data.DataLoader(ds, batch_size=4)))
    elif backend.name == "torch":
        batch = next(iter(backend.fw.utils.data.DataLoader(ds, batch_size=4)))
    else:
        import tensorflow as tf

        batch = next(iter(tf.data.Dataset.from_tensor_slices((ds.features, ds.labels))
                          .batch(4)))
    assert [list(backend.numpy(t).shape) for t in batch] == [[4, 2], [4, 1]]
    assert backend.numpy(batch[0]).tolist() == [[0, 3], [1, 3], [0, 4], [2, 3]]


def test_ctr_dataset_through_download_extract(backend):
    with rs.ctr_served(rs.ctr_lines(40, 0), rs.ctr_lines(10, 1)):
        folder = backend.d2l.download_extract("ctr")
        ds = backend.d2l.CTRDataset(os.path.join(folder, "train.csv"))
    assert len(ds) == 40 and ds.NUM_FEATS == 34 and len(ds.data) == 40
    assert (ds.field_dims >= 1).all() and ds.offsets[-1] + ds.field_dims[-1] == sum(
        ds.field_dims)


@pytest.mark.slow
def test_evaluate_ranking_at_movielens_size(backend):
    """943 users x 1682 items, the book's NeuMF (10 factors, hiddens 10, 10, 10): the
    vectorized evaluation equals the plain-loop NumPy ranking of the NumPy scores."""
    FACTORS, NUM_USERS, NUM_ITEMS, HIDDENS = rs.MOVIELENS_SIZES
    params = rs.neumf_params(FACTORS, NUM_USERS, NUM_ITEMS, HIDDENS, seed=0)
    net = rs.build_model(backend, "neumf", params, FACTORS, NUM_USERS, NUM_ITEMS, HIDDENS)
    candidates, test_input = rs.movielens_ranking_data()
    got = backend.d2l.evaluate_ranking(net, test_input, None, candidates, NUM_USERS, NUM_ITEMS,
                                       [backend.device])
    expected = rs.ranking_reference(rs.neumf_scores(params, NUM_USERS, NUM_ITEMS), test_input,
                                    candidates)
    assert got == pytest.approx(expected, abs=2e-3)
