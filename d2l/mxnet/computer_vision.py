"""Chapter 13, Computer Vision, for MXNet."""

from mxnet import autograd

from ..common import multidevice
from ..common.training import accuracy
from .computational_performance import evaluate_accuracy_gpus, known_device, split_batch
from .deep_learning_computation import try_all_gpus

# --- 13.1 Image Augmentation ---
# The multi-device trainer every later chapter uses. Gluon does the data parallelism: the
# shards go to their contexts (`split_f`), each context runs forward/backward on its shard,
# and `trainer.step(batch_size)` sums the contexts' gradients in the kvstore, divides by the
# global batch size and updates every copy of the parameters.

__all__ = ["train_batch_ch13", "train_ch13"]


def train_batch_ch13(net, features, labels, loss, trainer, devices, split_f=split_batch):
    """Train on one minibatch split by `split_f` over `devices`; returns (loss sum, number of
    correct predictions) over the whole batch as Python floats. The step uses the gradient
    of the loss summed over the batch divided by `labels.shape[0]` (the batch mean)."""
    multidevice.check_devices("train_batch_ch13", devices, known_device)
    X_shards, y_shards = split_f(features, labels, devices)
    with autograd.record():
        pred_shards = [net(X_shard) for X_shard in X_shards]
        ls = [loss(pred_shard, y_shard) for pred_shard, y_shard in zip(pred_shards, y_shards)]
    for l in ls:
        l.backward()
    # ignore_stale_grad: parameters the net did not use in this step keep their values.
    trainer.step(labels.shape[0], ignore_stale_grad=True)
    train_loss_sum = sum(float(l.sum()) for l in ls)
    train_acc_sum = sum(accuracy(p, y) for p, y in zip(pred_shards, y_shards))
    return train_loss_sum, train_acc_sum


def train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs,
               devices=try_all_gpus(), split_f=split_batch):  # noqa: B008  (the book's default, at import)
    """Train `net` (initialized on `devices`) with `trainer` on batches split over
    `devices`, plotting train loss/accuracy five times per epoch and the test accuracy
    (`evaluate_accuracy_gpus`) per epoch; prints the final metrics and the examples/sec on
    `devices`. Returns None, as in the book."""
    multidevice.check_devices("train_ch13", devices, known_device)
    multidevice.check_distinct("train_ch13", devices)

    def step(features, labels):
        l, acc = train_batch_ch13(net, features, labels, loss, trainer, devices, split_f)
        return l, acc, labels.shape[0], labels.size

    multidevice.train_ch13(step, lambda: evaluate_accuracy_gpus(net, test_iter, split_f),
                           train_iter, num_epochs, devices)
