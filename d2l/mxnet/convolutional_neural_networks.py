"""Chapter 6, Convolutional Neural Networks, for MXNet."""

from mxnet import autograd, gluon, init, npx

from ..common import checks, training
from ..common.bookkeeping import Accumulator
from ..common.convolution import check_corr2d
from ..common.training import accuracy

__all__ = ["corr2d", "evaluate_accuracy_gpu", "TrainCallback", "train_ch6"]


def corr2d(X, K):
    """2-D cross-correlation of X (h, w) with K (kh, kw): no padding, stride 1, so the output
    is (h - kh + 1, w - kw + 1); integer inputs are computed in float32. One native
    convolution; gradients flow to X and K."""
    check_corr2d(X, K)
    if X.dtype.kind != "f":
        X = X.astype("float32")
    (h, w), (kh, kw) = X.shape, K.shape
    Y = npx.convolution(X.reshape(1, 1, h, w), K.reshape(1, 1, kh, kw).astype(X.dtype),
                        kernel=(kh, kw), num_filter=1, no_bias=True)
    return Y[0, 0]


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """Accuracy of `net` over `data_iter`, each batch moved to `device` first (default: the
    context of the net's first parameter)."""
    if device is None:
        device = list(net.collect_params().values())[0].list_ctx()[0]
    metric = Accumulator(2)
    for X, y in data_iter:
        X, y = X.as_in_context(device), y.as_in_context(device)
        metric.add(accuracy(net(X), y), y.size)
    training.examples_seen("evaluate_accuracy_gpu", "data_iter", metric[1])
    return metric[0] / metric[1]


class TrainCallback(training.EpochReporter):
    """Epoch hooks like the TensorFlow version's Keras callback, for hand-written loops:
    `on_epoch_begin(epoch)`, `on_epoch_end(epoch, logs)` with logs 'loss' and 'accuracy'."""

    def test_accuracy(self):
        return evaluate_accuracy_gpu(self.net, self.test_iter)


def _initialize(net, device):
    """Xavier initialisation of every parameter on `device` (re-initialising if needed)."""
    net.initialize(force_reinit=True, ctx=device, init=init.Xavier())


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    """Train a classifier on `device` with SGD (`lr`) and softmax cross-entropy, plotting
    train loss/accuracy five times per epoch and test accuracy per epoch; prints the final
    metrics and examples/sec. Returns None."""
    checks.positive_int("train_ch6", "num_epochs", num_epochs)
    checks.positive_number("train_ch6", "lr", lr)
    _initialize(net, device)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})

    def step(X, y):
        X, y = X.as_in_context(device), y.as_in_context(device)
        with autograd.record():
            y_hat = net(X)
            l = loss(y_hat, y)
        l.backward()
        trainer.step(X.shape[0])
        return l.sum(), (y_hat.argmax(axis=1).astype(y.dtype) == y).sum()

    training.train_ch6(step, lambda: evaluate_accuracy_gpu(net, test_iter, device),
                       train_iter, num_epochs, device)
