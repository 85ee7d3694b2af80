"""Chapter 11 loops and the 17.1 GAN steps beyond their spec entries: each framework's
optimizer conventions, the book's plotting schedule at its batch size, the printed line, the
real loader end to end, bad input, and Gluon's batch-mean GAN step."""

import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

from spec import generative_adversarial_networks as gan
from spec import optimization_algorithms as oa
from spec import support
from spec.book_optimizers import book_optimizer
from spec.entry import Tol, excess, within


@pytest.mark.parametrize("kind", sorted(oa.FRAMEWORK_RULES))
def test_framework_optimizer_follows_its_own_convention(backend, kind):
    """Where the built-in optimizer defines the step differently from the book (epsilon
    inside or outside the root, Adam's bias correction, Keras' AdaGrad accumulator, default
    epsilons), the trajectory follows the framework's convention and not the other one."""
    name, hp, rule = oa.FRAMEWORK_RULES[kind][backend.name]
    observed, _ = oa.run_concise(backend, kind, {backend.name: (name, hp)})
    assert within(observed[:4], oa.expected_trajectory(rule), oa.TRAIN_TOL)
    other = oa.expected_trajectory(oa.other_convention(rule))
    assert excess(observed[:4], other, oa.TRAIN_TOL) > 10


def test_train_ch11_at_the_books_batch_size_follows_the_reference(backend):
    """Batch size 10: a loss every 20 steps at x = n / 10 / 60 epochs, step by step as the
    NumPy reference; the printed line shows the last loss."""
    observed, printed = oa.run_train_ch11(backend, "adam", batch_size=10, num_epochs=1,
                                          rows=600)
    X, y = oa.airfoil(600)
    expected = oa.linreg_trajectory(oa.book_rule("adam"), X, y, 10, 1, *oa.initial_weights())
    assert observed[0] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert within(observed, expected, oa.TRAIN_TOL)
    match = re.fullmatch(r"loss: (\d+\.\d{3}), (\d+\.\d{3}) sec/epoch\n", printed)
    assert match and match[1] == f"{observed[1][-1]:.3f}"


def test_train_ch11_records_once_when_no_multiple_of_200_is_reached(backend):
    observed, printed = oa.run_train_ch11(backend, "sgd", batch_size=50, num_epochs=1,
                                          rows=150)
    X, y = oa.airfoil(150)
    w, b = oa.initial_weights()
    rule = oa.book_rule("sgd")
    params, states = [w.astype(float), b.astype(float)], rule.states([w, b])
    for i in range(0, 150, 50):
        err = (X[i:i + 50] @ params[0] + params[1])[:, 0] - y[i:i + 50]
        grads = [X[i:i + 50].T @ err[:, None] / 50, np.array([err.mean()])]
        params = rule.step(params, grads, states, 1)
    final_loss = np.mean(((X @ params[0] + params[1])[:, 0] - y) ** 2 / 2)
    assert observed[0] == [1.0]
    assert observed[1] == pytest.approx([final_loss], rel=1e-5)
    assert printed.startswith(f"loss: {final_loss:.3f}, ")


def test_train_ch11_on_the_real_loader_learns(backend):
    """The book's cell: get_data_ch11(10) (shuffled), SGD lr 0.05, one epoch: 7 losses (every
    200 of 1500 examples) falling to the book's level."""
    with support.shared_data_served(oa.AIRFOIL):
        data_iter, feature_dim = backend.d2l.get_data_ch11(10)
    trainer_fn, states, _ = book_optimizer(backend, "sgd", feature_dim)
    with redirect_stdout(io.StringIO()):
        times, losses = backend.d2l.train_ch11(trainer_fn, states, {"lr": 0.05}, data_iter,
                                               feature_dim, 1)
    assert len(losses) == len(times) == 7
    assert losses[-1] < 0.26 and losses[0] > losses[-1]
    assert all(b >= a for a, b in zip(times, times[1:]))


def test_get_data_ch11_batches_are_framework_tensors(backend):
    with support.shared_data_served(oa.AIRFOIL):
        data_iter, _ = backend.d2l.get_data_ch11(32, 100)
    X, y = next(iter(data_iter))
    kinds = {"mxnet": "mxnet.numpy", "torch": "torch", "tensorflow": "tensorflow"}
    assert type(X).__module__.startswith(kinds[backend.name])
    assert tuple(X.shape) == (32, 5) and tuple(y.shape) == (32,)


def test_bad_input_names_the_argument(backend):
    X, y = oa.airfoil(20)
    data = oa.batches(backend, X, y, 10)
    sgd, states, hp = book_optimizer(backend, "sgd", 5)
    with pytest.raises(ValueError, match="num_epochs"):
        backend.d2l.train_ch11(sgd, states, hp, data, 5, 0)
    with pytest.raises(ValueError, match="feature_dim"):
        backend.d2l.train_ch11(sgd, states, hp, data, 0)
    # A name Gluon does not know; an optimizer factory of the wrong arity (P calls
    # trainer_fn(params, **hyperparams), T trainer_fn(**hyperparams)).
    bad_trainer = {"mxnet": "no_such_optimizer", "torch": lambda: None,
                   "tensorflow": lambda params: None}[backend.name]
    with pytest.raises(ValueError, match="tr_name" if backend.name == "mxnet" else "trainer_fn"):
        backend.d2l.train_concise_ch11(bad_trainer, {}, data)
    with pytest.raises(ValueError, match="batch_size"):
        backend.d2l.get_data_ch11(batch_size=-1)


def test_train_2d_with_state_follows_the_books_trajectory(backend):
    """The 11.6 momentum trainer on f = 0.1 x1² + 2 x2² (state s1, s2 carried), exactly."""
    def momentum_2d(x1, x2, v1, v2):
        v1, v2 = 0.5 * v1 + 0.2 * x1, 0.5 * v2 + 4 * x2
        return x1 - 0.4 * v1, x2 - 0.4 * v2, v1, v2

    with redirect_stdout(io.StringIO()) as out:
        results = backend.d2l.train_2d(momentum_2d, steps=7)
    x1, x2, v1, v2, points = -5, -2, 0, 0, [(-5, -2)]
    for _ in range(7):
        x1, x2, v1, v2 = momentum_2d(x1, x2, v1, v2)
        points.append((x1, x2))
    assert results == points
    assert out.getvalue() == f"epoch 7, x1: {x1:f}, x2: {x2:f}\n"


def test_gluon_gan_step_averages_over_the_batch(backend):
    """With the same learning rates, Gluon's trainer.step(B) takes 1 / B of the step PyTorch
    and Keras take on the summed loss."""
    observed = gan.gan_step(backend, mean_scale=False)
    G, D = gan.gan_params()
    scale = 1 / gan.B if backend.name == "mxnet" else 1
    loss_D, D_after, loss_G, G_after = gan.gan_step_reference(
        G, D, gan.book_data(gan.B), gan.noise(gan.B), gan.LR_D * scale, gan.LR_G * scale)
    assert within(observed, [loss_D, D_after, loss_G, G_after, D_after], Tol(1e-4, 1e-5))


@pytest.mark.slow
@pytest.mark.parametrize("lr,batch_size,num_epochs,points", [
    (1, 1500, 10, 5), (0.005, 1, 2, 15), (0.4, 100, 2, 15), (0.05, 10, 2, 15)])
def test_books_11_5_runs_reach_its_loss(backend, lr, batch_size, num_epochs, points):
    """The book's train_sgd cells of 11.5 (gradient descent, SGD, minibatches of 100 and 10)
    on the real data: losses every 200 examples (every 2 epochs for full batches), ending
    near the book's 0.24-0.25."""
    with support.shared_data_served(oa.AIRFOIL):
        data_iter, feature_dim = backend.d2l.get_data_ch11(batch_size)
    trainer_fn, states, _ = book_optimizer(backend, "sgd", feature_dim)
    with redirect_stdout(io.StringIO()):
        _, losses = backend.d2l.train_ch11(trainer_fn, states, {"lr": lr}, data_iter,
                                           feature_dim, num_epochs)
    assert len(losses) == points
    assert losses[-1] < 0.27
