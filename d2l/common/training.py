"""Framework-neutral parts of the chapter 3 training loop and prediction display."""

import numpy as np

from . import checks
from .bookkeeping import Timer
from .fashion_mnist import get_fashion_mnist_labels
from .plotting import Animator, show_images
from .tensors import to_numpy

CH6_LEGEND = ["train loss", "train acc", "test acc"]


def accuracy(y_hat, y):
    """Number of correct predictions, as a float.

    `y_hat` holds class scores (n, q) with q > 1 (the argmax over axis 1 is the prediction)
    or one prediction per example: y's shape, or a single column (n, 1) against labels (n,)
    (the one-output regression net of section 4.4 trained through `train_epoch_ch3`).
    Predictions are cast to y's dtype and compared for equality. Never correct: a row of
    scores holding a NaN (a diverged model; NumPy's argmax would pick the NaN), and a
    non-finite prediction (its cast to an integer label is undefined). Counted in NumPy: for
    the small tensors of a batch this is faster than a chain of framework ops (TensorFlow's
    eager ops cost about 50 µs each).
    """
    y_hat, y = to_numpy(y_hat), to_numpy(y)
    scores_shape = y_hat.shape
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        valid = ~np.isnan(y_hat).any(axis=1)
        y_hat = y_hat.argmax(axis=1)
    else:
        if y_hat.ndim == 2 and y.ndim == 1 and len(y_hat) == len(y):
            y_hat = y_hat[:, 0]
        valid = np.isfinite(y_hat)
    if y_hat.shape != y.shape:
        raise ValueError(f"accuracy: the predictions of y_hat (shape {scores_shape}) have "
                         f"shape {y_hat.shape}, which does not match the labels y of shape "
                         f"{y.shape}")
    with np.errstate(invalid="ignore"):
        return float(((y_hat.astype(y.dtype) == y) & valid).sum())


def check_sgd(fn, lr, batch_size=1):
    """The arguments of `sgd` and `Updater` (named `fn` in errors): lr a positive finite
    number, batch_size a positive int."""
    checks.positive_number(fn, "lr", lr)
    checks.positive_int(fn, "batch_size", batch_size)


def check_gradients(fn, params, grads=None):
    """Raise ValueError naming `params` (of `fn`) when a parameter has no gradient buffer
    (MXNet, PyTorch: `p.grad` is None), or naming `grads` (TensorFlow) unless it holds one
    gradient of each parameter's shape."""
    if grads is None:
        for i, param in enumerate(params):
            if param.grad is None:
                raise ValueError(f"{fn}: params[{i}] has no gradient (grad is None): attach "
                                 f"a gradient and run backward() before the update")
        return
    grads = list(grads)
    if len(grads) != len(params):
        raise ValueError(f"{fn}: grads must hold one gradient per parameter, got {len(grads)} "
                         f"grads for {len(params)} params")
    for i, (param, grad) in enumerate(zip(params, grads)):
        if grad is None or tuple(grad.shape) != tuple(param.shape):
            got = "None" if grad is None else f"shape {tuple(grad.shape)}"
            raise ValueError(f"{fn}: grads[{i}] must have the shape of params[{i}], "
                             f"{tuple(param.shape)}, got {got}")


def check_data_arrays(data_arrays):
    """Raise ValueError unless `data_arrays` (of `load_array`) is a non-empty tuple or list of
    arrays (tensors, NumPy arrays or lists) with an example axis (axis 0) of one length."""
    if not isinstance(data_arrays, (tuple, list)) or not data_arrays:
        got = "an empty sequence" if isinstance(data_arrays, (tuple, list)) else type(
            data_arrays).__name__
        raise ValueError(f"load_array: data_arrays must be a non-empty tuple of arrays, e.g. "
                         f"(features, labels) or (X,), got {got}")
    shapes = [checks.shape_of(a) if hasattr(a, "shape") else np.shape(a) for a in data_arrays]
    if any(len(shape) == 0 for shape in shapes):
        raise ValueError(f"load_array: every array of data_arrays needs an example axis (axis "
                         f"0), got shapes {shapes}")
    if len({shape[0] for shape in shapes}) > 1:
        raise ValueError(f"load_array: data_arrays must have the same length along axis 0, got "
                         f"{[shape[0] for shape in shapes]}")


def examples_seen(fn, name, count):
    """Raise ValueError when the iterator `name` of `fn` gave no examples (`count` 0), so a
    mean over it is undefined (the book divides by zero)."""
    if count == 0:
        raise ValueError(f"{fn}: {name} gave no examples (an empty iterator or empty batches)")


def train_ch3(train_epoch_ch3, evaluate_accuracy, net, train_iter, test_iter, loss,
              num_epochs, updater):
    """The loop of `train_ch3`, given the backend's epoch and evaluation functions.

    Plots train loss, train accuracy and test accuracy per epoch, then asserts the quality the
    book expects (train loss < 0.5, train and test accuracy in (0.7, 1]).
    """
    checks.positive_int("train_ch3", "num_epochs", num_epochs)
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0.3, 0.9],
                        legend=["train loss", "train acc", "test acc"])
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        animator.add(epoch + 1, train_metrics + (test_acc,))
    train_loss, train_acc = train_metrics
    assert train_loss < 0.5, train_loss
    assert 1 >= train_acc > 0.7, train_acc
    assert 1 >= test_acc > 0.7, test_acc


def predict_ch3(net, test_iter, n=6):
    """Show the first `n` images of the first test batch, titled with true and predicted labels.

    Assumes 28 x 28 single-channel images (Fashion-MNIST) and a `net` returning class scores.
    """
    checks.positive_int("predict_ch3", "n", n)
    X, y = next(iter(test_iter), (None, None))
    if X is None:
        raise ValueError("predict_ch3: test_iter gave no batch")
    trues = get_fashion_mnist_labels(to_numpy(y))
    preds = get_fashion_mnist_labels(to_numpy(net(X)).argmax(axis=1))
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    show_images(to_numpy(X)[:n].reshape((-1, 28, 28)), 1, n, titles=titles[0:n])


def print_ch6_summary(train_l, train_acc, test_acc, examples_per_sec, device):
    """The two lines `train_ch6` prints when it finishes."""
    print(f"loss {train_l:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}")
    print(f"{examples_per_sec:.1f} examples/sec on {device}")


def train_ch6(step, evaluate, train_iter, num_epochs, device):
    """The loop of `train_ch6` (MXNet, PyTorch), given the backend's per-batch `step` and
    per-epoch `evaluate`.

    `step(X, y)` trains on one batch and returns its summed loss and its number of correct
    predictions as framework scalars: they are added up on the device and converted to
    Python numbers only at the five plot points per epoch (every `max(1, num_batches // 5)`
    batches, and the last), so an asynchronous engine is not stopped after every batch. The
    test accuracy is plotted once per epoch; the timer covers the training steps (and their
    completion at the plot points). Prints the final loss/accuracies and the examples per
    second on `device`.
    """
    checks.positive_int("train_ch6", "num_epochs", num_epochs)
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], legend=CH6_LEGEND)
    timer, num_batches = Timer(), len(train_iter)
    every = max(1, num_batches // 5)
    for epoch in range(num_epochs):
        loss_sum, correct, n = 0.0, 0.0, 0
        for i, (X, y) in enumerate(train_iter):
            timer.start()
            batch_loss, batch_correct = step(X, y)
            loss_sum, correct, n = loss_sum + batch_loss, correct + batch_correct, n + len(y)
            plot_now = (i + 1) % every == 0 or i == num_batches - 1
            if plot_now:
                train_l, train_acc = float(loss_sum) / n, float(correct) / n
            timer.stop()
            if plot_now:
                animator.add(epoch + (i + 1) / num_batches, (train_l, train_acc, None))
        test_acc = evaluate()
        animator.add(epoch + 1, (None, None, test_acc))
    print_ch6_summary(train_l, train_acc, test_acc, n * num_epochs / timer.sum(), device)


class EpochReporter:
    """The epoch hooks of `TrainCallback` (section 6.6): time each epoch, plot the epoch's
    train loss and accuracy (from `logs`) with the test accuracy, and print the summary after
    the last epoch. Backends subclass it with `test_accuracy()`."""

    def __init__(self, net, train_iter, test_iter, num_epochs, device_name):
        self.timer = Timer()
        self.animator = Animator(xlabel="epoch", xlim=[1, num_epochs], legend=CH6_LEGEND)
        self.net, self.train_iter, self.test_iter = net, train_iter, test_iter
        self.num_epochs, self.device_name = num_epochs, device_name

    def on_epoch_begin(self, epoch, logs=None):
        self.timer.start()

    def on_epoch_end(self, epoch, logs=None):
        self.timer.stop()
        test_acc = self.test_accuracy()
        self.animator.add(epoch + 1, (logs["loss"], logs["accuracy"], test_acc))
        if epoch == self.num_epochs - 1:
            X, _ = next(iter(self.train_iter))
            examples = X.shape[0] * len(self.train_iter)
            print_ch6_summary(logs["loss"], logs["accuracy"], test_acc,
                              examples / self.timer.avg(), self.device_name)
