"""train_ch3 end to end on Fashion-MNIST-format data served through the real loader, the
book's quality assertions, and the canonical parameter export/import."""

import io
from contextlib import redirect_stdout

import numpy as np
import pytest

from spec import canonical, reference, support


def test_train_ch3_learns_fashion_mnist_format_data(backend):
    """The book's concise softmax regression (3.7) reaches the book's bars on learnable
    Fashion-MNIST-format images loaded by load_data_fashion_mnist."""
    d2l = backend.d2l
    with support.fashion_mnist_files(n_train=1200, n_test=300):
        train_iter, test_iter = d2l.load_data_fashion_mnist(64)
        net = canonical.dense_stack(backend, canonical.init_params([784, 10], seed=5),
                                   (1, 28, 28))
        printed = io.StringIO()
        with redirect_stdout(printed):
            result = d2l.train_ch3(net, train_iter, test_iter,
                                   canonical.classification_loss(backend), 3,
                                   canonical.sgd_optimizer(backend, net, 0.1))
        assert result is None and printed.getvalue() == ""
        assert d2l.evaluate_accuracy(net, test_iter) > 0.8


def test_train_ch3_asserts_the_quality_bars(backend):
    """Random labels cannot be learnt: train_ch3 fails its final assertion."""
    d2l = backend.d2l
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 1, 2, 3)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    it = d2l.load_array((backend.images(X), backend.labels(y)), 16)
    net = canonical.dense_stack(backend, canonical.init_params([6, 3]), (1, 2, 3))
    with pytest.raises(AssertionError):
        d2l.train_ch3(net, it, it, canonical.classification_loss(backend), 1,
                      canonical.sgd_optimizer(backend, net, 0.01))


@pytest.mark.parametrize("sizes", [[6, 1], [6, 3], [6, 5, 4, 3]])
def test_canonical_params_round_trip_and_forward(backend, sizes):
    params = canonical.init_params(sizes, seed=3)
    net = canonical.dense_stack(backend, params, (1, 2, 3))
    X = np.random.default_rng(1).normal(size=(7, 1, 2, 3)).astype(np.float32)
    out = backend.numpy(net(backend.images(X)))
    np.testing.assert_allclose(out, reference.forward(params, X)[0], rtol=1e-5, atol=1e-5)
    exported = backend.d2l.export_params(net)
    assert exported.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(exported[k], params[k])


def test_import_params_rejects_wrong_keys_and_shapes(backend):
    params = canonical.init_params([6, 5, 3])
    net = canonical.dense_stack(backend, params, (1, 2, 3))
    with pytest.raises(ValueError, match="keys"):
        backend.d2l.import_params(net, {"0.weight": params["0.weight"]})
    bad = dict(params, **{"1.weight": np.zeros((5, 4), np.float32)})
    with pytest.raises(ValueError, match="1.weight"):
        backend.d2l.import_params(net, bad)


@pytest.mark.slow
def test_train_ch3_with_the_books_settings(backend):
    """Section 3.7 as printed: 60000 training images, batch 256, lr 0.1, 10 epochs."""
    d2l = backend.d2l
    with support.fashion_mnist_files(n_train=60000, n_test=10000):
        train_iter, test_iter = d2l.load_data_fashion_mnist(256)
        net = canonical.dense_stack(backend, canonical.init_params([784, 10], seed=0),
                                   (1, 28, 28))
        d2l.train_ch3(net, train_iter, test_iter, canonical.classification_loss(backend), 10,
                      canonical.sgd_optimizer(backend, net, 0.1))
