"""Chapter 6, Convolutional Neural Networks: corr2d (6.2) and evaluate_accuracy_gpu (6.6)."""

import numpy as np
from hypothesis import strategies as st

from . import canonical, reference
from .entry import Entry, Reject, Tol
from .strategies import arrays


def corr2d_reference(X, K):
    """Y[i, j] = Σ_ab X[i + a, j + b] K[a, b] over all windows that fit ('valid')."""
    windows = np.lib.stride_tricks.sliding_window_view(X.astype(np.float64), K.shape)
    return np.einsum("ijab,ab->ij", windows, K.astype(np.float64))


@st.composite
def _corr2d_inputs(draw):
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    return draw(arrays((h, w), -3, 3)), draw(arrays((kh, kw), -3, 3))


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
          "convolution, differentiable in X and K in all three frameworks.",
          reference=corr2d_reference, inputs=_corr2d_inputs,
          call=lambda b, X, K: b.numpy(b.d2l.corr2d(b.tensor(X), b.tensor(K))),
          tol=Tol(1e-5, 1e-4),
          rejects=(Reject("kernel larger than the input", _args((2, 2), (3, 1)), match="K"),
                   Reject("1-D input", _args((4,), (2, 2)), match="X"),
                   Reject("3-D kernel", _args((4, 4), (1, 2, 2)), match="K"))),
    Entry("corr2d (autograd)", "6.2", "corr2d(X, K) inside autograd",
          "Gradient descent through corr2d learns the edge-detection kernel [1, -1] of 6.2.",
          probe=_learn_edge_kernel, expect=lambda: [np.array([[1.0, -1.0]]), True],
          tol=Tol(0.0, 5e-3)),
    Entry("evaluate_accuracy_gpu", "6.6", "evaluate_accuracy_gpu(net, data_iter, device=None)",
          "Accuracy over the iterator with every batch moved to `device` (default: where the "
          "net's parameters are; TensorFlow: where the batch is).",
          probe=_evaluate_gpu_probe, expect=_evaluate_gpu_expect, tol=Tol(0.0, 0.0)),
]
