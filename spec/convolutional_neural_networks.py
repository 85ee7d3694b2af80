"""Chapter 6, Convolutional Neural Networks: corr2d (6.2) and evaluate_accuracy_gpu (6.6)."""

import contextlib
import importlib
import io
import re

import numpy as np
from hypothesis import strategies as st

from . import canonical, reference
from .entry import Entry, Invalid, Reject, Tol
from .strategies import arrays, edge_arrays


def corr2d_reference(X, K):
    """Y[i, j] = Σ_ab X[i + a, j + b] K[a, b] over all windows that fit ('valid'). K must be
    non-empty and fit inside X."""
    if K.size == 0 or K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        raise Invalid("K")
    windows = np.lib.stride_tricks.sliding_window_view(X.astype(np.float64), K.shape)
    return np.einsum("ijab,ab->ij", windows, K.astype(np.float64))


@st.composite
def _corr2d_inputs(draw):
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    return draw(arrays((h, w), -3, 3)), draw(arrays((kh, kw), -3, 3))


@st.composite
def _corr2d_edges(draw):
    """Empty and length-1 axes of X and K (an empty K, a K larger than X), K as large as X;
    NaN and ±inf in X; integer X and K."""
    if draw(st.booleans()):
        X = draw(edge_arrays(min_dims=2, max_dims=2))
        K = draw(edge_arrays(max_dims=2, min_dims=2, non_finite=False))
        return X, K
    dtype = draw(st.sampled_from([np.int32, np.int64]))
    X = draw(edge_arrays(min_dims=2, max_dims=2, non_finite=False))
    K = draw(edge_arrays(max_dims=2, min_dims=2, non_finite=False))
    return np.round(X).astype(dtype), np.round(K).astype(dtype)


def _edge_image():
    X = np.ones((6, 8), np.float32)
    X[:, 2:6] = 0
    return X


def _learn_edge_kernel(b, steps=40, lr=0.03):
    """Section 6.2's exercise with corr2d itself: learn K from X and Y = corr2d(X, [1, -1])."""
    X = b.tensor(_edge_image())
    Y = b.d2l.corr2d(X, b.tensor(np.array([[1.0, -1.0]], np.float32)))
    K = b.param(np.array([[0.3, 0.2]], np.float32))
    losses = [b.sgd_step(lambda: b.d2l.reduce_sum((b.d2l.corr2d(X, K) - Y) ** 2), [K], lr)
              for _ in range(steps)]
    return [b.numpy(K), losses[-1] < 1e-4 < losses[0]]


def _evaluate_gpu_probe(b):
    """A canonical softmax-regression net, batches on the CPU, device=try_gpu()."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(29, 1, 2, 3)).astype(np.float32)
    y = rng.integers(0, 3, 29)
    params = canonical.init_params([6, 3], 4)
    net = canonical.dense_stack(b, params, (1, 2, 3))
    it = b.d2l.load_array((b.images(X), b.labels(y)), 8, is_train=False)
    return b.d2l.evaluate_accuracy_gpu(net, it, b.d2l.try_gpu())


def _evaluate_gpu_expect():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(29, 1, 2, 3)).astype(np.float32)
    y = rng.integers(0, 3, 29)
    logits, _ = reference.forward(canonical.init_params([6, 3], 4), X)
    return reference.accuracy(logits, y) / len(y)


def _args(X_shape, K_shape):
    return lambda b: (b.tensor(np.ones(X_shape, "f")), b.tensor(np.ones(K_shape, "f")))


ENTRIES = [
    Entry("corr2d", "6.2", "corr2d(X, K)",
          "2-D cross-correlation of X (h, w) with K (kh, kw), no padding, stride 1: "
          "Y[i, j] = Σ_ab X[i+a, j+b] K[a, b], shape (h-kh+1, w-kw+1); one native "
          "convolution, differentiable in X and K in all three frameworks. An empty K, or "
          "one larger than X, raises ValueError naming K; NaN and ±inf in X reach exactly "
          "the outputs whose windows hold them. Integer X and K are computed in float32 "
          "(the book's MXNet and PyTorch versions fill a float32 buffer; native integer "
          "convolutions do not exist in MXNet and TensorFlow).",
          reference=corr2d_reference, inputs=_corr2d_inputs, edges=_corr2d_edges,
          call=lambda b, X, K: b.numpy(b.d2l.corr2d(b.tensor(X), b.tensor(K))),
          tol=Tol(1e-5, 1e-4),
          rejects=(Reject("kernel larger than the input", _args((2, 2), (3, 1)), match="K"),
                   Reject("empty kernel", _args((2, 2), (0, 1)), match="K"),
                   Reject("1-D input", _args((4,), (2, 2)), match="X"),
                   Reject("3-D kernel", _args((4, 4), (1, 2, 2)), match="K"))),
    Entry("corr2d (autograd)", "6.2", "corr2d(X, K) inside autograd",
          "Gradient descent through corr2d learns the edge-detection kernel [1, -1] of 6.2.",
          probe=_learn_edge_kernel, expect=lambda: [np.array([[1.0, -1.0]]), True],
          tol=Tol(0.0, 5e-3), book=False),
    Entry("evaluate_accuracy_gpu", "6.6", "evaluate_accuracy_gpu(net, data_iter, device=None)",
          "Accuracy over the iterator with every batch moved to `device` (default: where the "
          "net's parameters are; TensorFlow: where the batch is). An iterator with no "
          "examples raises ValueError naming data_iter.",
          probe=_evaluate_gpu_probe, expect=_evaluate_gpu_expect, tol=Tol(0.0, 0.0),
          rejects=(Reject("empty iterator", lambda b: (lambda X: X, [], b.d2l.try_gpu()),
                          match="data_iter"),)),
]


def _ch6_data(seed=5, n_train=96, n_test=40):
    """Separable 2 x 3 'images' and labels of 3 classes: (train X, y), (test X, y)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.5, (3, 6))

    def draw(n):
        y = rng.integers(0, 3, n)
        return (centres[y] + rng.normal(0, 1, (n, 6))).reshape(n, 1, 2, 3).astype(
            np.float32), y

    return draw(n_train), draw(n_test)


@contextlib.contextmanager
def canonical_init(b, params):
    """Make the backend's train_ch6 start from `params` instead of its Xavier draw."""
    module = importlib.import_module(f"d2l.{b.name}.convolutional_neural_networks")
    original = module._initialize

    def initialize(net, device):
        original(net, device)
        b.d2l.import_params(net, params)

    module._initialize = initialize
    try:
        yield
    finally:
        module._initialize = original


def run_train_ch6(b, layers, params, image_shape, train, test, lr, num_epochs, batch_size):
    """train_ch6 from canonical weights on unshuffled batches; returns the per-epoch
    (train loss, train acc, test acc) read back from its plot, and what it printed."""
    import matplotlib.pyplot as plt

    d2l = b.d2l
    train_iter = d2l.load_array((b.images(train[0]), b.labels(train[1])), batch_size, False)
    test_iter = d2l.load_array((b.images(test[0]), b.labels(test[1])), batch_size, False)
    before, printed = set(plt.get_fignums()), io.StringIO()
    with contextlib.redirect_stdout(printed):
        if b.name == "tensorflow":
            d2l.train_ch6(lambda: canonical.build(b, layers, params, image_shape), train_iter,
                          test_iter, num_epochs, lr, d2l.try_gpu())
        else:
            net = canonical.build(b, layers, params, image_shape)
            with canonical_init(b, params):
                d2l.train_ch6(net, train_iter, test_iter, num_epochs, lr, d2l.try_gpu())
    (fig_num,) = set(plt.get_fignums()) - before
    lines = plt.figure(fig_num).axes[0].get_lines()
    plt.close(fig_num)
    history = []
    for epoch in range(1, num_epochs + 1):
        at_end = [np.asarray(line.get_ydata())[np.asarray(line.get_xdata()) == epoch]
                  for line in lines]
        history.append([float(values[-1]) for values in at_end])
    return history, printed.getvalue()


_CH6_PRINTED = re.compile(r"(training on \S+\n)?loss \d+\.\d{3}, train acc \d\.\d{3}, "
                          r"test acc \d\.\d{3}\n\d+\.\d examples/sec on \S+\n$")


def _train_ch6_probe(b, lr=0.5, num_epochs=2):
    train, test = _ch6_data()
    params = canonical.init_params([6, 5, 3], 6)
    layers = canonical.dense_stack_layers([6, 5, 3])
    history, printed = run_train_ch6(b, layers, params, (1, 2, 3), train, test, lr,
                                     num_epochs, 16)
    return [history, bool(_CH6_PRINTED.match(printed))]


def _train_ch6_expect(lr=0.5, num_epochs=2):
    train, test = _ch6_data()
    params = canonical.init_params([6, 5, 3], 6)
    batches = [(train[0][i:i + 16], train[1][i:i + 16]) for i in range(0, len(train[1]), 16)]
    history = []
    for _ in range(num_epochs):
        [(loss, acc)], params = reference.train_epochs(params, batches, lr, 1)
        logits, _ = reference.forward(params, test[0])
        history.append([loss, acc, reference.accuracy(logits, test[1]) / len(test[1])])
    return [history, True]


def _callback_probe(b):
    """TrainCallback's hooks on their own: the plot gets the logs and the test accuracy,
    and the summary is printed after the last epoch."""
    import matplotlib.pyplot as plt

    train, test = _ch6_data()
    params = canonical.init_params([6, 3], 7)
    net = canonical.build(b, canonical.dense_stack_layers([6, 3]), params, (1, 2, 3))
    if b.name == "tensorflow":
        net.compile(loss=canonical.classification_loss(b), metrics=["accuracy"])
    it = b.d2l.load_array((b.images(test[0]), b.labels(test[1])), 8, False)
    callback = b.d2l.TrainCallback(net, it, it, 2, "somewhere")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for epoch, logs in enumerate(({"loss": 0.9, "accuracy": 0.5},
                                      {"loss": 0.7, "accuracy": 0.6})):
            callback.on_epoch_begin(epoch)
            callback.on_epoch_end(epoch, logs)
    plt.close(callback.animator.fig)
    return [callback.animator.Y, printed.getvalue().splitlines()[0],
            printed.getvalue().splitlines()[1].endswith("examples/sec on somewhere")]


def _callback_expect():
    _, test = _ch6_data()
    logits, _ = reference.forward(canonical.init_params([6, 3], 7), test[0])
    acc = reference.accuracy(logits, test[1]) / len(test[1])
    return [[[0.9, 0.7], [0.5, 0.6], [acc, acc]],
            f"loss 0.700, train acc 0.600, test acc {acc:.3f}", True]


ENTRIES += [
    Entry("TrainCallback", "6.6", "TrainCallback(net, train_iter, test_iter, num_epochs, "
          "device_name)",
          "Epoch hooks (a Keras callback in TensorFlow; the same hooks for hand-written loops "
          "in MXNet/PyTorch): time the epoch, plot logs['loss'], logs['accuracy'] and the "
          "test accuracy, print the two summary lines after the last epoch.",
          probe=_callback_probe, expect=_callback_expect, tol=Tol(1e-6, 1e-6)),
    Entry("train_ch6", "6.6",
          "M, P: train_ch6(net, train_iter, test_iter, num_epochs, lr, device) | "
          "T: train_ch6(net_fn, train_iter, test_iter, num_epochs, lr, device)",
          "SGD on the mean cross-entropy on `device`; per-epoch train loss, train accuracy "
          "and test accuracy plotted; prints 'loss …, train acc …, test acc …' and "
          "'… examples/sec on {device}' (PyTorch first 'training on {device}'). Checked from "
          "canonical weights (instead of the Xavier draw) against NumPy SGD.",
          probe=_train_ch6_probe, expect=_train_ch6_expect, tol=Tol(1e-4, 1e-5),
          rejects=(Reject("lr 0", lambda b: (None, None, None, 1, 0.0, None), match="lr"),)),
]
