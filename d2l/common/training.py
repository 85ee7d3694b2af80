"""Framework-neutral parts of the chapter 3 training loop and prediction display."""

from . import checks
from .fashion_mnist import get_fashion_mnist_labels
from .plotting import Animator, show_images
from .tensors import to_numpy


def accuracy(y_hat, y):
    """Number of correct predictions, as a float.

    `y_hat` holds class scores (n, q) (the argmax over axis 1 is the prediction) or predicted
    labels of y's shape. Counted in NumPy: for the small tensors of a batch this is faster
    than a chain of framework ops (TensorFlow's eager ops cost about 50 µs each).
    """
    y_hat, y = to_numpy(y_hat), to_numpy(y)
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    if y_hat.shape != y.shape:
        raise ValueError(f"accuracy: predictions of shape {y_hat.shape} do not match labels y "
                         f"of shape {y.shape}")
    return float((y_hat.astype(y.dtype) == y).sum())


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
    X, y = next(iter(test_iter))
    trues = get_fashion_mnist_labels(to_numpy(y))
    preds = get_fashion_mnist_labels(to_numpy(net(X)).argmax(axis=1))
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    show_images(to_numpy(X)[:n].reshape((-1, 28, 28)), 1, n, titles=titles[0:n])
