"""Call patterns of the book's own chapters that combine saved functions with the framework's
own pieces: section 4.4's polynomial regression through `train_epoch_ch3` (a one-output net,
labels of shape (n,), the framework's squared loss and optimizer), and the integer learning
rates the book passes to the saved trainers (`lr = 1` in sections 8.5-9.3)."""

import contextlib
import io

import numpy as np

from spec import canonical, reference
from spec import modern_rnns as s2s
from spec import recurrent_neural_networks as rnn
from spec.convolutional_neural_networks import run_train_ch6

# ------------------------------------------------------- 4.4: regression via train_epoch_ch3


def _framework_squared_loss(b):
    """The squared loss section 4.4 uses in each framework, and its value per example as a
    multiple of (y_hat - y)² / 2: Gluon's L2Loss is (y_hat - y)² / 2, PyTorch's MSELoss and
    Keras' MeanSquaredError are (y_hat - y)² (Keras averages over the batch)."""
    if b.name == "mxnet":
        return b.fw.gluon.loss.L2Loss(), 1.0
    if b.name == "torch":
        return b.fw.nn.MSELoss(reduction="none"), 2.0
    return b.fw.keras.losses.MeanSquaredError(), 2.0


def _polynomial_data(n=40, degree=4, seed=0):
    """Polynomial features x^i / i! of x ~ N(0, 1) (i < degree) and noisy labels (n,)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1))
    features = x ** np.arange(degree) / np.cumprod([1, *range(1, degree)])
    labels = features @ np.array([5.0, 1.2, -3.4, 5.6])[:degree] + rng.normal(0, 0.1, n)
    return features.astype(np.float32), labels.astype(np.float32)


def test_polynomial_regression_trains_through_train_epoch_ch3(backend):
    """Section 4.4's loop: labels (n,) in MXNet and TensorFlow, (n, 1) in PyTorch (whose
    book code reshapes them: `nn.MSELoss` would broadcast (n, 1) against (n,)), the
    framework's own squared loss and SGD; the returned mean losses follow NumPy SGD on the
    same batches, scaled to the framework loss, and fall epoch after epoch."""
    features, labels = _polynomial_data()
    if backend.name == "torch":
        labels = labels[:, None]
    params = canonical.init_params([4, 1], seed=2)
    lr, batch_size, num_epochs = 0.01, 10, 5
    loss, scale = _framework_squared_loss(backend)
    net = canonical.dense_stack(backend, params)
    d2l = backend.d2l
    train_iter = d2l.load_array((backend.tensor(features), backend.tensor(labels)), batch_size,
                                is_train=False)
    trainer = canonical.sgd_optimizer(backend, net, lr)
    history = [d2l.train_epoch_ch3(net, train_iter, loss, trainer) for _ in range(num_epochs)]

    batches = [(features[i:i + batch_size], labels[i:i + batch_size].reshape(-1))
               for i in range(0, len(features), batch_size)]
    expected, final = reference.train_epochs(params, batches, lr * scale, num_epochs, "squared")
    observed_losses = [h[0] for h in history]
    np.testing.assert_allclose(observed_losses, [scale * h[0] for h in expected], rtol=1e-4)
    assert observed_losses == sorted(observed_losses, reverse=True)
    assert all(0.0 <= h[1] <= 1.0 for h in history)
    np.testing.assert_allclose(d2l.export_params(net)["0.weight"], final["0.weight"],
                               rtol=1e-4, atol=1e-6)


def test_polynomial_regression_from_scratch_updater(backend):
    """The same regression with `linreg`, `squared_loss` and the from-scratch updater of each
    framework (`d2l.sgd` in a lambda in MXNet/PyTorch, `d2l.Updater` everywhere)."""
    features, labels = _polynomial_data()
    params = canonical.init_params([4, 1], seed=2)
    d2l, lr = backend.d2l, 0.05
    w, b = backend.param(params["0.weight"]), backend.param(params["0.bias"])
    train_iter = d2l.load_array((backend.tensor(features), backend.tensor(labels)), 10,
                                is_train=False)
    if backend.name == "tensorflow":
        updater = d2l.Updater([w, b], lr)
    else:
        def updater(batch_size):
            d2l.sgd([w, b], lr, batch_size)
    history = [d2l.train_epoch_ch3(lambda X: d2l.linreg(X, w, b), train_iter, d2l.squared_loss,
                                   updater) for _ in range(3)]
    batches = [(features[i:i + 10], labels[i:i + 10]) for i in range(0, 40, 10)]
    expected, final = reference.train_epochs(params, batches, lr, 3, "squared")
    np.testing.assert_allclose([h[0] for h in history], [h[0] for h in expected], rtol=1e-4)
    np.testing.assert_allclose(backend.numpy(w), final["0.weight"], rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------- integer learning rates


def _train_ch8_weights(b, lr):
    params = rnn.scratch_params(**rnn.TRAIN_SETUP)
    X = np.array(rnn.CORPUS[:60]).reshape(4, 15)
    Y = np.array(rnn.CORPUS[1:61]).reshape(4, 15)
    net = rnn.scratch_rnn(b, params)
    with contextlib.redirect_stdout(io.StringIO()):
        b.d2l.train_ch8(net, [(rnn.token_ids(b, X), rnn.token_ids(b, Y))], rnn.VOCAB, lr, 3,
                        rnn.train_ch8_device(b))
    return rnn.scratch_export(b, net)


def test_train_ch8_takes_the_books_integer_learning_rate(backend):
    """`lr = 1` as sections 8.5-9.3 pass it trains exactly like `lr = 1.0`."""
    with_int, with_float = _train_ch8_weights(backend, 1), _train_ch8_weights(backend, 1.0)
    for name in with_float:
        np.testing.assert_array_equal(with_int[name], with_float[name], err_msg=name)


def test_train_seq2seq_takes_an_integer_learning_rate(backend):
    params = s2s.seq2seq_params(s2s.TOY_SIZES)
    batches = [s2s.toy_batch(1, valid_lens=[5, 3, 2, 4])]
    with_int = s2s.run_train_seq2seq(backend, params, s2s.TOY_SIZES, batches, 1, 10)[0]
    with_float = s2s.run_train_seq2seq(backend, params, s2s.TOY_SIZES, batches, 1.0, 10)[0]
    np.testing.assert_array_equal(with_int, with_float)


def test_train_ch6_takes_an_integer_learning_rate(backend):
    rng = np.random.default_rng(0)
    images = rng.random((64, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, 64)
    params = canonical.init_model(canonical.LENET, (1, 28, 28), seed=0)
    runs = [run_train_ch6(backend, canonical.LENET, params, (1, 28, 28), (images, labels),
                          (images, labels), lr, 2, 32)[0] for lr in (1, 1.0)]
    np.testing.assert_array_equal(runs[0], runs[1])
