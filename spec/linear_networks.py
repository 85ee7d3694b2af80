"""Chapter 3, Linear Neural Networks: spec entries of sections 3.1-3.7."""

import os

import numpy as np
from hypothesis import strategies as st

from . import canonical, reference, support
from .entry import EXACT, Entry, Invalid, Reject, Tol
from .preliminaries import _lines, _plt
from .strategies import NON_FINITE, arrays, edge_arrays, floats

# ---------------------------------------------------------------- 3.1 Timer


def _timer_call(b, times):
    timer = b.d2l.Timer()
    elapsed = timer.stop()
    if not (isinstance(elapsed, float) and elapsed >= 0 and timer.times == [elapsed]):
        raise AssertionError(f"Timer.stop must record and return the elapsed seconds, "
                             f"got {elapsed!r} and times {timer.times!r}")
    timer.times = list(times)
    return [timer.avg(), timer.sum(), timer.cumsum()]


def _timer_reference(times):
    if not times:
        raise Invalid("times", ZeroDivisionError)
    return [float(np.mean(times)), float(np.sum(times)), np.cumsum(times).tolist()]


# The ten Fashion-MNIST classes in id order (section 3.5), spelled here so that the spec does
# not read them from the package it checks.
FASHION_MNIST_LABELS = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                        "sneaker", "bag", "ankle boot")

# ---------------------------------------------------------------- 3.2 from scratch


def _synthetic_probe(b):
    """Shapes, dtype and statistics of 10000 examples, scaled so that one absolute tolerance
    of 0.06 is at least six standard errors for each: 100 x the least-squares fit of (w, b)
    (standard error 0.01), the mean and std of X (0.005, 0.004) and 100 x the residual std
    (0.007), so a noise std below 0.0094 or above 0.0106 fails."""
    X, y = b.d2l.synthetic_data(b.tensor(np.array([2, -3.4], np.float32)), 4.2, 10000)
    Xn, yn = b.numpy(X), b.numpy(y)
    design = np.hstack([Xn, np.ones((len(Xn), 1))])
    fit, *_ = np.linalg.lstsq(design, yn[:, 0], rcond=None)
    noise = float((yn[:, 0] - design @ fit).std())
    return [list(Xn.shape), list(yn.shape), b.dtype_name(X), (100 * fit).tolist(),
            float(Xn.mean()), float(Xn.std()), 100 * noise]


@st.composite
def _linreg_inputs(draw):
    n, d = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    w_shape = draw(st.sampled_from([(d, 1), (d,)]))
    return draw(arrays((n, d), -3, 3)), draw(arrays(w_shape, -3, 3)), draw(floats(-3, 3))


@st.composite
def _loss_inputs(draw):
    n = draw(st.integers(1, 8))
    y_shape = draw(st.sampled_from([(n,), (n, 1)]))
    return draw(arrays((n, 1), -5, 5)), draw(arrays(y_shape, -5, 5))


@st.composite
def _sgd_inputs(draw):
    shapes = draw(st.lists(st.sampled_from([(2,), (3, 1), (2, 2)]), min_size=1, max_size=3))
    params = [draw(arrays(s, -3, 3)) for s in shapes]
    grads = [draw(arrays(s, -3, 3)) for s in shapes]
    return params, grads, draw(floats(0.001, 1.0)), draw(st.integers(1, 64))


def _sgd_reference(params, grads, lr, batch_size):
    """lr must be a positive finite number and batch_size a positive int (checked in this
    order); NaN and inf gradients propagate."""
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < np.inf:
        raise Invalid("lr")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise Invalid("batch_size")
    return [p - np.float32(lr) * g / batch_size for p, g in zip(params, grads)]


BAD_LR = (0.0, -0.5, float("nan"), float("inf"), "0.1", None, True)
BAD_BATCH_SIZE = (0, -3, 2.5, 4.0, True, "4", None)


@st.composite
def _sgd_edges(draw):
    """Empty parameter lists, empty and length-1 parameters, non-finite gradients, and one
    bad lr or batch_size at a time."""
    shapes = draw(st.lists(st.sampled_from([(0,), (1,), (1, 1), (2, 0)]), max_size=2))
    params = [draw(edge_arrays(s, non_finite=False)) for s in shapes]
    grads = [draw(edge_arrays(s)) for s in shapes]
    lr, batch_size = draw(floats(0.001, 1.0)), draw(st.integers(1, 8))
    bad = draw(st.sampled_from(["none", "lr", "batch_size"]))
    if bad == "lr":
        lr = draw(st.sampled_from(BAD_LR))
    elif bad == "batch_size":
        batch_size = draw(st.sampled_from(BAD_BATCH_SIZE))
    return params, grads, lr, batch_size


def _with_grads(b, params, grads):
    """Backend parameters holding `params` whose gradient buffers hold `grads`."""
    ps = [b.param(p) for p in params]
    if b.name == "mxnet":
        for p, g in zip(ps, grads):
            p.grad[:] = b.tensor(g)
    elif b.name == "torch":
        for p, g in zip(ps, grads):
            p.grad = b.tensor(g)
    return ps


def _sgd_call(b, params, grads, lr, batch_size):
    ps = _with_grads(b, params, grads)
    if b.name == "tensorflow":
        b.d2l.sgd(ps, [b.tensor(g) for g in grads], lr, batch_size)
    else:
        b.d2l.sgd(ps, lr, batch_size)
    return [b.numpy(p) for p in ps]


def _sgd_args(b, lr, batch_size):
    ps = _with_grads(b, [np.ones(2, "f")], [np.ones(2, "f")])
    if b.name == "tensorflow":
        return ps, [b.tensor(np.ones(2, "f"))], lr, batch_size
    return ps, lr, batch_size


def _ungraded_args(b):
    """A parameter the update cannot read a gradient of: M/P a parameter whose grad is None,
    T a grads list one short of params."""
    if b.name == "tensorflow":
        return [b.param(np.ones(2, "f")), b.param(np.ones(2, "f"))], [b.tensor(np.ones(2, "f"))], \
            0.1, 4
    param = b.param(np.ones(2, "f"))
    if b.name == "mxnet":
        param = b.tensor(np.ones(2, "f"))
    else:
        param.grad = None
    return [param], 0.1, 4


def _updater_call(b, params, grads, lr, batch_size):
    ps = _with_grads(b, params, grads)
    updater = b.d2l.Updater(ps, lr)
    if b.name == "tensorflow":
        updater(batch_size, [b.tensor(g) for g in grads])
    else:
        updater(batch_size)
    return [b.numpy(p) for p in ps]


# ---------------------------------------------------------------- 3.3 load_array


@st.composite
def _load_array_inputs(draw):
    n = draw(st.integers(1, 30))
    return (draw(arrays((n, draw(st.integers(1, 3))))), draw(arrays((n,))),
            draw(st.integers(1, 12)))


def _load_array_reference(X, y, batch_size):
    return [X, y, -(-len(X) // batch_size)]


def _load_array_call(b, X, y, batch_size):
    batches = list(b.d2l.load_array((b.tensor(X), b.tensor(y)), batch_size, is_train=False))
    return [np.concatenate([b.numpy(Xb) for Xb, _ in batches]),
            np.concatenate([b.numpy(yb) for _, yb in batches]), len(batches)]


@st.composite
def _load_array_edges(draw):
    """data_arrays as a tuple or list of 0-30 examples (empty arrays, one example, non-finite
    values), a bare array instead of a tuple, an empty tuple, a 0-d member, unequal
    lengths; batch_size larger than the data or invalid."""
    n = draw(st.integers(0, 3))
    arrays_ = [draw(edge_arrays((n,) + draw(st.sampled_from([(), (1,), (2, 0)]))))
               for _ in range(draw(st.integers(1, 3)))]
    form = draw(st.sampled_from(["tuple", "list", "bare", "empty", "0-d", "unequal"]))
    if form == "bare":
        data = arrays_[0]
    elif form == "empty":
        data = ()
    elif form == "0-d":
        data = (arrays_[0], np.float32(1))
    elif form == "unequal":
        data = (arrays_[0], np.zeros(n + 1, np.float32))
    else:
        data = (tuple if form == "tuple" else list)(arrays_)
    batch_size = draw(st.integers(1, 5) | st.sampled_from(BAD_BATCH_SIZE))
    return data, batch_size


def _load_array_edge_reference(data, batch_size):
    """Per array, its examples in order (all batches joined), then the number of batches."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise Invalid("batch_size")
    if not isinstance(data, (tuple, list)) or not data or any(np.ndim(a) == 0 for a in data):
        raise Invalid("data_arrays")
    if len({len(a) for a in data}) > 1:
        raise Invalid("data_arrays")
    return [list(data), -(-len(data[0]) // batch_size)]


def _load_array_edge_call(b, data, batch_size):
    """The batches of load_array joined back per array (a batch of a one-array tuple may come
    as the bare array, as in the book's Gluon code)."""
    given = data if isinstance(data, (tuple, list)) else [data]
    tensors = [b.tensor(a) for a in given]
    passed = type(data)(tensors) if isinstance(data, (tuple, list)) else tensors[0]
    batches = [batch if isinstance(batch, (tuple, list)) else (batch,)
               for batch in b.d2l.load_array(passed, batch_size, is_train=False)]
    joined = [np.concatenate([b.numpy(batch[i]) for batch in batches]) if batches else a[:0]
              for i, a in enumerate(given)]
    return [joined, len(batches)]


def _load_array_shuffle_probe(b):
    """is_train=True: each pass is a permutation of the examples, and passes differ."""
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    it = b.d2l.load_array((b.tensor(X), b.tensor(X[:, 0])), 6)
    passes = [np.concatenate([b.numpy(yb) for _, yb in it]) for _ in range(3)]
    pairs_kept = all(np.array_equal(b.numpy(Xb)[:, 0], b.numpy(yb)) for Xb, yb in it)
    return [sorted(p.tolist()) == X[:, 0].tolist() for p in passes] + [
        pairs_kept, any(not np.array_equal(passes[0], p) for p in passes[1:])]


# ---------------------------------------------------------------- 3.5 Fashion-MNIST


def _labels_call(b, ids):
    """A NumPy `ids` goes in as a tensor, a list as it is."""
    return b.d2l.get_fashion_mnist_labels(b.tensor(ids) if isinstance(ids, np.ndarray) else ids)


def _labels_reference(ids):
    ids = np.asarray(ids, dtype=np.float64)
    if ids.ndim != 1 or not np.all(np.isin(ids, np.arange(len(FASHION_MNIST_LABELS)))):
        raise Invalid("labels")
    return [FASHION_MNIST_LABELS[int(i)] for i in ids]


@st.composite
def _labels_edges(draw):
    """Ids out of range (negative, 10 and more), non-integral and non-finite float ids,
    empty and 2-D id arrays, a plain Python list of ints."""
    values = st.integers(-3, 13) | st.sampled_from([2.0, 2.5, *NON_FINITE])
    ids = draw(st.lists(values, max_size=4))
    form = draw(st.sampled_from(["int32", "float32", "2-D", "list"]))
    if form == "float32":
        return (np.asarray(ids, np.float32),)
    whole = [int(i) for i in ids if np.isfinite(i) and float(i).is_integer()]
    if form == "list":
        return (whole,)
    return (np.asarray(whole, np.int32).reshape((1, -1) if form == "2-D" else (-1,)),)


def _show_images_probe(b):
    plt = _plt()
    imgs = np.random.default_rng(0).uniform(0, 1, (5, 4, 6)).astype(np.float32)
    axes = b.d2l.show_images([b.tensor(i) for i in imgs], 2, 3, titles=list("abcde"))
    try:
        shown = [np.asarray(ax.images[0].get_array()) for ax in axes[:5]]
        return [len(axes), shown, [ax.get_title() for ax in axes],
                [ax.get_xaxis().get_visible() for ax in axes[:5]],
                list(axes[0].figure.get_size_inches())]
    finally:
        plt.close(axes[0].figure)


def _show_images_expect():
    imgs = np.random.default_rng(0).uniform(0, 1, (5, 4, 6)).astype(np.float32)
    return [6, list(imgs), list("abcde") + [""], [False] * 5, [4.5, 3.0]]


def _fashion_mnist_probe(b, resize=None):
    """First test batch (unshuffled), one shuffled training pass, and shapes/dtypes."""
    with support.fashion_mnist_files(n_train=50, n_test=30) as (train, _):
        train_iter, test_iter = b.d2l.load_data_fashion_mnist(8, resize=resize)
        X, y = next(iter(test_iter))
        seen = [b.numpy(yb) for _, yb in train_iter]
        return [b.from_images(X), b.numpy(y).astype(np.int64),
                b.dtype_name(X), b.dtype_name(y) in ("int32", "int64"),
                sorted(np.concatenate(seen).tolist()) == sorted(train[1].tolist()),
                len(list(test_iter))]


def _fashion_mnist_expect(resize=None):
    images, labels = support.synthetic_fashion_mnist(30, 1)
    X = images[:8].astype(np.float32) / 255
    if resize:
        X = reference.bilinear_resize(X, resize)
    return [X[:, None], labels[:8].astype(np.int64), "float32", True, True, 4]


# ---------------------------------------------------------------- 3.6 softmax regression


@st.composite
def _accuracy_inputs(draw):
    """Class scores (n, q), or a single column (n, 1) of predicted ids (what a one-output
    net gives), with labels (n,)."""
    n, q = draw(st.integers(1, 10)), draw(st.integers(2, 5))
    ids = st.lists(st.integers(0, q - 1), min_size=n, max_size=n)
    if draw(st.booleans()):
        y_hat = np.asarray(draw(ids), np.float32)[:, None]
    else:
        y_hat = draw(arrays((n, q), unique=True, lo=-100, hi=100))
    return y_hat, draw(ids)


def _accuracy_reference(y_hat, y):
    """reference.accuracy, after the shape check: one prediction per label."""
    y = np.asarray(y)
    if y_hat.ndim == 2 and y_hat.shape[1] > 1:
        predicted = y_hat.shape[:1]
    elif y_hat.shape == (len(y), 1) and y.ndim == 1:
        predicted = (len(y),)
    else:
        predicted = y_hat.shape
    if predicted != y.shape:
        raise Invalid("y")
    return reference.accuracy(y_hat, y)


@st.composite
def _accuracy_edges(draw):
    """No examples, one example, one class column, NaN and ±inf scores or predictions, labels
    of another length."""
    n, q = draw(st.integers(0, 3)), draw(st.integers(1, 3))
    y = draw(st.lists(st.integers(0, q - 1), min_size=n, max_size=n))
    shape = draw(st.sampled_from([(n, q), (n,)]))
    y_hat = draw(edge_arrays(shape, -2, 2) | edge_arrays(shape, 0, q - 1).map(np.round))
    if draw(st.booleans()):
        y = y + [0]
    return y_hat, y


@st.composite
def _linreg_edges(draw):
    """No examples, no features, one of each; NaN and ±inf inputs."""
    n, d = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    w_shape = draw(st.sampled_from([(d, 1), (d,)]))
    return (draw(edge_arrays((n, d))), draw(edge_arrays(w_shape)),
            draw(floats(-3, 3) | st.sampled_from(NON_FINITE)))


@st.composite
def _loss_edges(draw):
    """No examples, one example, NaN and ±inf; y of another size (ValueError naming y)."""
    n = draw(st.integers(0, 3))
    m = draw(st.sampled_from([n, n + 1]))
    return (draw(edge_arrays((n, 1))),
            draw(edge_arrays(draw(st.sampled_from([(m,), (m, 1)])))))


def _loss_reference(y_hat, y):
    if y_hat.size != y.size:
        raise Invalid("y")
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def _accuracy_call(b, y_hat, y):
    count = b.d2l.accuracy(b.tensor(y_hat), b.labels(y))
    if not isinstance(count, float):
        raise TypeError(f"accuracy must return a Python float, got {type(count).__name__}")
    return count


def _linear_net(b, W):
    Wt = b.tensor(W)
    return lambda X: b.d2l.matmul(b.d2l.reshape(X, (-1, W.shape[0])), Wt)


def _eval_data(seed=0, n=37, d=5, q=4):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, q, n),
            rng.normal(size=(d, q)).astype(np.float32))


def _evaluate_accuracy_probe(b):
    X, y, W = _eval_data()
    it = b.d2l.load_array((b.tensor(X), b.labels(y)), 8, is_train=False)
    return b.d2l.evaluate_accuracy(_linear_net(b, W), it)


def _evaluate_accuracy_expect():
    X, y, W = _eval_data()
    return reference.accuracy(X @ W, y) / len(y)


def _accumulator_call(b, rows):
    acc = b.d2l.Accumulator(3)
    for row in rows:
        acc.add(*[b.tensor(np.float32(v)) for v in row])
    values = list(acc.data) + [acc[0], list(acc[1:])]
    acc.reset()
    return values + [acc.data]


def _accumulator_reference(rows):
    sums = [float(sum(np.float32(r[i]) for r in rows if len(r) > i)) for i in range(3)]
    return sums + [sums[0], sums[1:], [0.0, 0.0, 0.0]]


def _train_data(seed=0, n=48, q=3, spread=1.5):
    """Images (n, 1, 2, 3) with class structure around q centres, and their labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, q, n)
    centres = rng.normal(0, spread, (q, 6))
    X = (centres[y] + rng.normal(0, 1, (n, 6))).reshape(n, 1, 2, 3).astype(np.float32)
    return X, y


def _regression_targets(X, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(6, 1))
    return (X.reshape(len(X), -1) @ w + rng.normal(0, 0.1, (len(X), 1))).astype(np.float32)


def _batches(X, y, batch_size=16):
    return [(X[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(X), batch_size)]


# The chapter 3-4 models from identical canonical weights: linear regression (3.3, squared
# loss), softmax regression (3.7) and an MLP (4.3), trained with the framework's optimizer.
MODELS = {"linear regression": ([6, 1], "squared"), "softmax regression": ([6, 3], "cross_entropy"),
          "mlp": ([6, 5, 3], "cross_entropy")}


def _train_epoch_check(model, lr=0.3, num_epochs=3):
    """The probe and expectation of train_epoch_ch3 for one of MODELS."""
    sizes, loss_kind = MODELS[model]

    def probe(b):
        X, y = _train_data()
        net = canonical.dense_stack(b, canonical.init_params(sizes), (1, 2, 3))
        if loss_kind == "squared":
            labels, loss = b.tensor(_regression_targets(X)), b.d2l.squared_loss
        else:
            labels, loss = b.labels(y), canonical.classification_loss(b)
        it = b.d2l.load_array((b.images(X), labels), 16, is_train=False)
        updater = canonical.sgd_optimizer(b, net, lr)
        history = [list(b.d2l.train_epoch_ch3(net, it, loss, updater))
                   for _ in range(num_epochs)]
        return [history, b.d2l.export_params(net)]

    def expect():
        X, y = _train_data()
        targets = _regression_targets(X) if loss_kind == "squared" else y
        history, final = reference.train_epochs(
            canonical.init_params(sizes), _batches(X, targets), lr, num_epochs,
            "squared" if loss_kind == "squared" else "cross_entropy")
        return [[list(h) for h in history], final]

    return {"probe": probe, "expect": expect}


def _regression_epoch_check(scratch, lr=0.1, num_epochs=3):
    """Section 4.4's pattern: a one-output linear net trained on labels of shape (n,) (not
    (n, 1)) with the squared loss, through the framework's SGD or (`scratch`) `d2l.Updater`
    around `linreg`; the accuracy column compares the (n, 1) outputs with the labels."""
    params = canonical.init_params([6, 1])

    def probe(b):
        X, _ = _train_data()
        y = _regression_targets(X)[:, 0]
        it = b.d2l.load_array((b.images(X), b.tensor(y)), 16, is_train=False)
        if scratch:
            w, bias = b.param(params["0.weight"]), b.param(params["0.bias"])

            def net(X):
                return b.d2l.linreg(b.d2l.reshape(X, (-1, 6)), w, bias)

            updater = b.d2l.Updater([w, bias], lr)
        else:
            net = canonical.dense_stack(b, params, (1, 2, 3))
            updater = canonical.sgd_optimizer(b, net, lr)
        history = [list(b.d2l.train_epoch_ch3(net, it, b.d2l.squared_loss, updater))
                   for _ in range(num_epochs)]
        final = ({"0.weight": b.numpy(w), "0.bias": b.numpy(bias)} if scratch
                 else b.d2l.export_params(net))
        return [history, final]

    def expect():
        X, _ = _train_data()
        history, final = reference.train_epochs(
            params, _batches(X, _regression_targets(X)[:, 0]), lr, num_epochs, "squared")
        return [[list(h) for h in history], final]

    return {"probe": probe, "expect": expect}


def _scratch_softmax_probe(b, lr=0.3, num_epochs=3):
    """The from-scratch path of 3.6: softmax regression, own cross-entropy, d2l.Updater."""
    X, y = _train_data()
    params = canonical.init_params([6, 3], 1)
    d2l = b.d2l
    W, bias = b.param(params["0.weight"]), b.param(params["0.bias"])

    def net(X):
        logits = d2l.matmul(d2l.reshape(X, (-1, 6)), W) + bias
        e = d2l.exp(logits - d2l.reshape(_row_max(b, logits), (-1, 1)))
        return e / d2l.reshape(d2l.reduce_sum(e, axis=1), (-1, 1))

    def cross_entropy(y_hat, y):
        return -d2l.log(_pick(b, y_hat, y))

    it = d2l.load_array((b.images(X), b.labels(y)), 16, is_train=False)
    updater = d2l.Updater([W, bias], lr)
    history = [list(d2l.train_epoch_ch3(net, it, cross_entropy, updater))
               for _ in range(num_epochs)]
    return [history, {"0.weight": b.numpy(W), "0.bias": b.numpy(bias)}]


def _row_max(b, t):
    if b.name == "torch":
        return b.fw.amax(t, dim=1)
    return t.max(axis=1) if b.name == "mxnet" else b.fw.reduce_max(t, axis=1)


def _pick(b, y_hat, y):
    """y_hat[i, y[i]] for every row i."""
    if b.name == "tensorflow":
        return b.fw.gather(y_hat, y, axis=1, batch_dims=1)
    rows = b.d2l.arange(y_hat.shape[0])
    return y_hat[rows.astype("int32") if b.name == "mxnet" else rows, y]


def _scratch_softmax_expect(lr=0.3, num_epochs=3):
    X, y = _train_data()
    history, final = reference.train_epochs(canonical.init_params([6, 3], 1), _batches(X, y),
                                            lr, num_epochs)
    return [[list(h) for h in history], final]


def _animator_probe(b):
    plt = _plt()
    animator = b.d2l.Animator(xlabel="epoch", xlim=[1, 3], legend=["a", "b"])
    try:
        for epoch in range(1, 4):
            animator.add(epoch, (b.tensor(np.float32(epoch / 10)),
                                 None if epoch < 3 else 0.5))
        ax = animator.axes[0]
        return [animator.X, animator.Y, _lines(ax), ax.get_xlabel(), list(ax.get_xlim()),
                [t.get_text() for t in ax.get_legend().get_texts()]]
    finally:
        plt.close(animator.fig)


def _animator_expect():
    y = [float(np.float32(e / 10)) for e in (1, 2, 3)]
    return [[[1.0, 2.0, 3.0], [3.0]], [y, [0.5]],
            [[[1.0, 2.0, 3.0], y, "-", "#1f77b4"], [[3.0], [0.5], "--", "#bf00bf"]],
            "epoch", [1.0, 3.0], ["a", "b"]]


def _train_ch3_probe(b):
    """train_ch3 on separable data passes the book's quality assertions and plots 3 curves."""
    plt = _plt()
    X, y = _train_data(n=96, spread=3.0)
    params = canonical.init_params([6, 3], 2)
    net = canonical.dense_stack(b, params, (1, 2, 3))
    train = b.d2l.load_array((b.images(X), b.labels(y)), 16)
    test = b.d2l.load_array((b.images(X), b.labels(y)), 16, is_train=False)
    before = set(plt.get_fignums())
    b.d2l.train_ch3(net, train, test, canonical.classification_loss(b), 4,
                    canonical.sgd_optimizer(b, net, 0.5))
    (fig_num,) = set(plt.get_fignums()) - before
    ax = plt.figure(fig_num).axes[0]
    try:
        return [len(ax.get_lines()), [len(line.get_xdata()) for line in ax.get_lines()],
                [t.get_text() for t in ax.get_legend().get_texts()], ax.get_xlabel()]
    finally:
        plt.close(fig_num)


def _predict_probe(b):
    plt = _plt()
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, (8, 1, 28, 28)).astype(np.float32)
    y = np.arange(8) % 10
    W = rng.normal(size=(784, 10)).astype(np.float32)
    it = b.d2l.load_array((b.images(X), b.labels(y)), 8, is_train=False)
    before = set(plt.get_fignums())
    b.d2l.predict_ch3(_linear_net(b, W), it, n=4)
    (fig_num,) = set(plt.get_fignums()) - before
    axes = plt.figure(fig_num).axes
    try:
        return [[ax.get_title() for ax in axes],
                [np.asarray(ax.images[0].get_array()) for ax in axes]]
    finally:
        plt.close(fig_num)


def _predict_expect():
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, (8, 1, 28, 28)).astype(np.float32)
    y = np.arange(8) % 10
    W = rng.normal(size=(784, 10)).astype(np.float32)
    pred = (X.reshape(8, -1) @ W).argmax(axis=1)
    titles = [FASHION_MNIST_LABELS[t] + "\n" + FASHION_MNIST_LABELS[p]
              for t, p in zip(y, pred)]
    return [titles[:4], list(X[:4, 0])]


TRAIN_TOL = Tol(1e-4, 1e-5)

ENTRIES = [
    Entry("Timer", "3.1", "Timer()",
          "Stopwatch: start() records the time, stop() appends and returns the elapsed "
          "seconds; avg(), sum(), cumsum() (a list) over `times`. With no times recorded, "
          "sum() is 0.0, cumsum() is [] and avg() raises the book's ZeroDivisionError "
          "(behaviour.md: Keep), with a message naming `times`.",
          reference=_timer_reference,
          inputs=lambda: st.tuples(st.lists(floats(0, 100), min_size=1, max_size=10)),
          edges=lambda: st.tuples(st.lists(floats(0, 1e6), max_size=2)),
          call=_timer_call, tol=Tol(1e-9, 1e-9)),
    Entry("synthetic_data", "3.2", "synthetic_data(w, b, num_examples)",
          "X ~ N(0, 1) of shape (n, len(w)); y = Xw + b + N(0, 0.01²) of shape (n, 1); "
          "float32. Checked statistically: least squares recovers (w, b), X has mean 0 and "
          "std 1, the residual std is 0.01.",
          probe=_synthetic_probe,
          expect=lambda: [[10000, 2], [10000, 1], "float32", [200.0, -340.0, 420.0], 0.0,
                          1.0, 1.0],
          tol=Tol(0.0, 0.06),
          rejects=(Reject("negative num_examples",
                          lambda b: (b.tensor(np.ones(2, "f")), 1.0, -1),
                          match="num_examples"),)),
    Entry("linreg", "3.2", "linreg(X, w, b)",
          "X @ w + b (broadcast), no reshaping. No examples give an empty result, no "
          "features give b; NaN and ±inf propagate as in NumPy.",
          reference=lambda X, w, bias: X @ w + np.float32(bias), inputs=_linreg_inputs,
          edges=_linreg_edges,
          call=lambda b, X, w, bias: b.numpy(b.d2l.linreg(b.tensor(X), b.tensor(w), bias)),
          tol=Tol(1e-5, 1e-5),
          rejects=(Reject("w rows differ from X features",
                          lambda b: (b.tensor(np.ones((3, 2), "f")),
                                     b.tensor(np.ones((3, 1), "f")), 0.0), match="w"),)),
    Entry("squared_loss", "3.2", "squared_loss(y_hat, y)",
          "(y_hat - reshape(y, y_hat.shape))² / 2, elementwise, no reduction; empty inputs "
          "give an empty result, NaN and ±inf propagate; y of another size raises "
          "ValueError naming y_hat and y.",
          reference=_loss_reference, inputs=_loss_inputs, edges=_loss_edges,
          call=lambda b, y_hat, y: b.numpy(b.d2l.squared_loss(b.tensor(y_hat), b.tensor(y))),
          tol=Tol(1e-5, 1e-5),
          rejects=(Reject("y and y_hat sizes differ",
                          lambda b: (b.tensor(np.ones((3, 1), "f")), b.tensor(np.ones(4, "f"))),
                          match="y_hat"),)),
    Entry("sgd", "3.2",
          "M, P: sgd(params, lr, batch_size) | T: sgd(params, grads, lr, batch_size)",
          "In place: p -= lr * grad / batch_size (M/P read p.grad; P then zeroes it; T takes "
          "the gradients). lr must be a positive finite number and batch_size a positive "
          "int, else ValueError naming it (wrong types too: '0.1', None, True, 2.5); an "
          "empty params list is a no-op; NaN and ±inf gradients propagate. A parameter "
          "without a gradient (M/P: grad None) or T grads not one per parameter of its "
          "shape: ValueError naming params or grads (upstream T zip() silently dropped the "
          "extra parameters).",
          reference=_sgd_reference, inputs=_sgd_inputs, edges=_sgd_edges, call=_sgd_call,
          tol=Tol(1e-6, 1e-6),
          rejects=(Reject("lr <= 0", lambda b: _sgd_args(b, 0.0, 4), match="lr"),
                   Reject("batch_size 0", lambda b: _sgd_args(b, 0.1, 0),
                          match="batch_size"),
                   Reject("a parameter without its gradient (M/P: grad None; T: grads one "
                          "short)", _ungraded_args, match="params"))),
    Entry("Updater", "3.6",
          "Updater(params, lr); M, P: updater(batch_size) | T: updater(batch_size, grads)",
          "Keeps params and lr; calling it runs sgd. Upstream TensorFlow-only; here in all "
          "three, each called the way its train_epoch_ch3 calls a custom updater. A bad lr "
          "raises ValueError naming Updater and lr when it is made, a bad batch_size when "
          "it is called; otherwise as sgd.",
          reference=_sgd_reference, inputs=_sgd_inputs, edges=_sgd_edges, call=_updater_call,
          tol=Tol(1e-6, 1e-6),
          rejects=(Reject("lr of wrong type", lambda b: ([], "0.1"), match="lr"),)),
    Entry("load_array", "3.3", "load_array(data_arrays, batch_size, is_train=True)",
          "Minibatches of a tuple of equally long arrays, last batch smaller; shuffled each "
          "pass when is_train (TensorFlow: 1000-example shuffle buffer).",
          reference=_load_array_reference, inputs=_load_array_inputs, call=_load_array_call,
          tol=EXACT,
          rejects=(Reject("arrays of different lengths",
                          lambda b: ((b.tensor(np.ones((3, 2), "f")),
                                      b.tensor(np.ones(4, "f"))), 2), match="data_arrays"),
                   Reject("batch_size 0", lambda b: ((b.tensor(np.ones(3, "f")),), 0),
                          match="batch_size"))),
    Entry("load_array (edge cases)", "3.3", "load_array(data_arrays, batch_size, False)",
          "data_arrays is a non-empty tuple (or list) of arrays, each with an example axis "
          "of one common length; a bare tensor (the book would batch its rows as separate "
          "arrays), an empty tuple, a 0-d member or unequal lengths raise ValueError naming "
          "data_arrays, a batch_size that is not a positive int ValueError naming "
          "batch_size (checked first). Zero examples give zero batches; non-finite values "
          "pass through. A batch of a one-array tuple is a 1-tuple (PyTorch, TensorFlow) "
          "or the bare array (MXNet, as Gluon's ArrayDataset gives it).",
          reference=_load_array_edge_reference,
          inputs=lambda: _load_array_inputs().map(lambda t: ((t[0], t[1]), t[2])),
          edges=_load_array_edges, call=_load_array_edge_call, tol=EXACT),
    Entry("load_array (shuffle)", "3.3", "load_array(..., is_train=True)",
          "Every shuffled pass is a permutation of the examples, pairs stay together, "
          "passes differ.", probe=_load_array_shuffle_probe,
          expect=lambda: [True, True, True, True, True], tol=EXACT),
    Entry("get_fashion_mnist_labels", "3.5", "get_fashion_mnist_labels(labels)",
          "Text labels of class ids: t-shirt, trouser, pullover, dress, coat, sandal, shirt, "
          "sneaker, bag, ankle boot. `labels` is a 1-D tensor (int or float dtype) or an "
          "iterable of ids; an id that is not a whole number 0-9 (negative, 10 or more, "
          "2.5, NaN, inf) and a 2-D `labels` raise ValueError naming labels; empty gives [].",
          reference=_labels_reference,
          inputs=lambda: st.tuples(st.lists(st.integers(0, 9), max_size=12).map(
              lambda ids: np.asarray(ids, np.int32))),
          edges=_labels_edges, call=_labels_call, tol=EXACT,
          rejects=(Reject("class id 10", lambda b: ([3, 10],), match="labels"),)),
    Entry("show_images", "3.5", "show_images(imgs, num_rows, num_cols, titles=None, scale=1.5)",
          "num_rows x num_cols grid (figure size cols*scale x rows*scale), ticks hidden, "
          "titles set; returns the flattened array of Axes.",
          probe=_show_images_probe, expect=_show_images_expect, tol=EXACT,
          rejects=(Reject("num_rows 0", lambda b: ([], 0, 2), match="num_rows"),
                   Reject("num_cols 2.0", lambda b: ([], 1, 2.0), match="num_cols"),
                   Reject("scale 0", lambda b: ([], 1, 1), kwargs=lambda b: {"scale": 0},
                          match="scale"),
                   Reject("fewer titles than images",
                          lambda b: ([np.zeros((2, 2))] * 3, 1, 3),
                          kwargs=lambda b: {"titles": ["a"]}, match="titles"))),
    Entry("get_dataloader_workers", "3.5", "get_dataloader_workers()",
          "Worker processes of the data loaders: the book's 4, or the CPU count when "
          "smaller (more workers than cores only slow loading; PyTorch warns) (MXNet: 0 on "
          "Windows; TensorFlow: parallel map calls).",
          probe=lambda b: b.d2l.get_dataloader_workers(),
          expect=lambda: min(4, os.cpu_count() or 1), tol=EXACT),
    Entry("load_data_fashion_mnist", "3.5", "load_data_fashion_mnist(batch_size, resize=None)",
          "(train_iter, test_iter); X float32 in [0, 1], NCHW (TensorFlow NHWC), labels int; "
          "train shuffled, test in file order; resize is bilinear (half-pixel, no "
          "antialiasing). Served from IDX files on a loopback server.",
          probe=_fashion_mnist_probe, expect=_fashion_mnist_expect, tol=Tol(0.0, 1e-6),
          rejects=(Reject("batch_size 0", lambda b: (0,), match="batch_size"),
                   Reject("batch_size 2.5", lambda b: (2.5,), match="batch_size"),
                   Reject("resize 0", lambda b: (4,), kwargs=lambda b: {"resize": 0},
                          match="resize"),
                   Reject("resize -28", lambda b: (4,), kwargs=lambda b: {"resize": -28},
                          match="resize"))),
    Entry("load_data_fashion_mnist (resize)", "3.5", "load_data_fashion_mnist(8, resize=12)",
          "Resized batches agree with the NumPy bilinear reference.",
          probe=lambda b: _fashion_mnist_probe(b, 12),
          expect=lambda: _fashion_mnist_expect(12), tol=Tol(0.0, 5e-6)),
    Entry("accuracy", "3.6", "accuracy(y_hat, y)",
          "Number of correct predictions as a Python float: the argmax over axis 1 when "
          "y_hat is 2-D with more than one column; otherwise one prediction per example, "
          "y's shape or a single column (n, 1) against labels (n,) (section 4.4's regression "
          "net), cast to y's dtype and compared. Never correct: a row of scores holding a "
          "NaN (NumPy's argmax would pick it) and a non-finite prediction; +inf is a "
          "score like any other. No examples give 0.0; predictions that do not match y "
          "one to one raise ValueError naming y.",
          reference=_accuracy_reference, inputs=_accuracy_inputs, edges=_accuracy_edges,
          call=_accuracy_call, tol=EXACT,
          rejects=(Reject("labels of another length",
                          lambda b: (b.tensor(np.eye(3, dtype="f")), b.labels([0, 1])),
                          match="y"),)),
    Entry("evaluate_accuracy", "3.6", "evaluate_accuracy(net, data_iter)",
          "Fraction of correct predictions over the whole iterator; an iterator with no "
          "examples raises ValueError naming data_iter (the book divides by zero).",
          probe=_evaluate_accuracy_probe, expect=_evaluate_accuracy_expect, tol=EXACT,
          rejects=(Reject("empty iterator", lambda b: (lambda X: X, []), match="data_iter"),)),
    Entry("Accumulator", "3.6", "Accumulator(n)",
          "n running float sums: add(*values) (extra values ignored, missing leave sums "
          "unchanged), reset(), indexing, attribute data. Values are numbers or one-element "
          "tensors (others raise ValueError naming args); NaN and ±inf are summed as floats.",
          reference=_accumulator_reference,
          inputs=lambda: st.tuples(st.lists(st.lists(floats(-100, 100), max_size=4),
                                            max_size=6)),
          edges=lambda: st.tuples(st.lists(st.lists(floats(-100, 100) | st.sampled_from(
              NON_FINITE), max_size=4), max_size=3)),
          call=_accumulator_call, tol=Tol(1e-5, 1e-4),
          rejects=(Reject("negative n", lambda b: (-1,), match="n"),
                   Reject("n 2.0", lambda b: (2.0,), match="n"))),
    *[Entry(f"train_epoch_ch3 ({model})", "3.6",
            "train_epoch_ch3(net, train_iter, loss, updater)",
            "One epoch; returns (Σ loss / N, Σ correct / N). From identical canonical weights "
            "and batches, the framework-optimizer path follows NumPy SGD on the batch-mean "
            "loss.", **_train_epoch_check(model), tol=TRAIN_TOL) for model in MODELS],
    *[Entry(f"train_epoch_ch3 (4.4 regression, {how})", "3.6",
            "train_epoch_ch3(net, train_iter, squared_loss, updater)",
            "Section 4.4 trains a one-output net on labels of shape (n,): the loss follows "
            "NumPy SGD on the squared loss, and accuracy reads the (n, 1) outputs as one "
            "prediction per example (equal to the label after a cast).",
            **_regression_epoch_check(how == "from scratch"), tol=TRAIN_TOL)
      for how in ("framework optimizer", "from scratch")],
    Entry("train_epoch_ch3 (scratch)", "3.6", "train_epoch_ch3(net, it, cross_entropy, Updater)",
          "Softmax regression from scratch with d2l.Updater: same trajectory as NumPy. A "
          "train_iter with no examples raises ValueError naming it (the book divides by "
          "zero).",
          probe=_scratch_softmax_probe, expect=_scratch_softmax_expect, tol=TRAIN_TOL,
          rejects=(Reject("empty train_iter", lambda b: (lambda X: X, [], None, None),
                          match="train_iter"),)),
    Entry("Animator", "3.6",
          "Animator(xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None, "
          "xscale='linear', yscale='linear', fmts=('-', 'm--', 'g-.', 'r:'), nrows=1, ncols=1, "
          "figsize=(3.5, 2.5))",
          "add(x, y) appends one point per curve (None skipped, tensors accepted), redraws "
          "axes[0] with the formats and re-applies the axes configuration. The first add "
          "fixes the number of curves: more y values later raise ValueError naming y. "
          "nrows/ncols must be positive ints and figsize two positive finite numbers "
          "(ValueError naming them).",
          probe=_animator_probe, expect=_animator_expect, tol=Tol(1e-7, 1e-7),
          rejects=(Reject("nrows 0", lambda b: (), kwargs=lambda b: {"nrows": 0},
                          match="nrows"),
                   Reject("figsize with a zero side", lambda b: (),
                          kwargs=lambda b: {"figsize": (0, 2)}, match="figsize"))),
    Entry("train_ch3", "3.6", "train_ch3(net, train_iter, test_iter, loss, num_epochs, updater)",
          "Trains num_epochs, plotting train loss/train acc/test acc per epoch; asserts "
          "train loss < 0.5 and accuracies in (0.7, 1]. Returns None.",
          probe=_train_ch3_probe,
          expect=lambda: [3, [4, 4, 4], ["train loss", "train acc", "test acc"], "epoch"],
          tol=EXACT,
          rejects=(Reject("num_epochs 0", lambda b: (None, [], [], None, 0, None),
                          match="num_epochs"),
                   Reject("num_epochs 2.5", lambda b: (None, [], [], None, 2.5, None),
                          match="num_epochs"))),
    Entry("predict_ch3", "3.6", "predict_ch3(net, test_iter, n=6)",
          "Shows the first n images of the first test batch titled 'true\\npredicted'; a "
          "test_iter with no batch raises ValueError naming it.",
          probe=_predict_probe, expect=_predict_expect, tol=Tol(0.0, 1e-7),
          rejects=(Reject("n 0", lambda b: (None, [], 0), match="n"),
                   Reject("empty test_iter", lambda b: (None, [], 6), match="test_iter"))),
]
