"""Chapter 13, Computer Vision, for TensorFlow."""

import weakref

import tensorflow as tf
from tensorflow import keras

from ..common import multidevice
from .computational_performance import (
    _correct,
    device_names,
    distribute,
    evaluate_accuracy_gpus,
    mirrored_strategy,
    replicas,
    split_batch,
)
from .deep_learning_computation import try_all_gpus

# --- 13.1 Image Augmentation ---
# The multi-device trainer every later chapter uses (the book has it for MXNet and PyTorch
# only). One device: a plain step there. Several: `tf.distribute.MirroredStrategy` runs the
# step on every device's shard and the optimizer sums the replicas' gradients. Either way the
# step follows the gradient of the loss summed over the global batch, as PyTorch's does.

__all__ = ["train_batch_ch13", "train_ch13"]

# net -> {(loss, trainer, device names): compiled step}
_STEPS = weakref.WeakKeyDictionary()


def _summed_loss(loss, pred, y):
    """The loss summed over a shard: a Keras loss per example (its unreduced `call`, label
    first), another callable as loss(pred, y); a scalar result is taken as the shard mean."""
    l = loss.call(y, pred) if isinstance(loss, keras.losses.Loss) else loss(pred, y)
    if l.shape.rank == 0:
        return l * tf.cast(tf.shape(y)[0], l.dtype)
    return tf.reduce_sum(l)


def _replica_step(net, loss, trainer):
    def step(X, y):
        with tf.GradientTape() as tape:
            pred = net(X, training=True)
            l = _summed_loss(loss, pred, y)
        grads = tape.gradient(l, net.trainable_variables)
        trainer.apply_gradients(zip(grads, net.trainable_variables))
        return l, _correct(pred, y)
    return step


def _compiled_step(net, loss, trainer, names):
    steps = _STEPS.setdefault(net, {})
    key = (id(loss), id(trainer), tuple(names))
    if key not in steps:
        step = _replica_step(net, loss, trainer)
        if len(names) == 1:
            steps[key] = tf.function(step, reduce_retracing=True)
        else:
            strategy = mirrored_strategy(names)

            def mirrored(X, y):
                per_replica = strategy.run(step, args=(X, y))
                return tuple(strategy.reduce("SUM", v, axis=None) for v in per_replica)

            steps[key] = tf.function(mirrored, reduce_retracing=True)
    return steps[key]


def train_batch_ch13(net, X, y, loss, trainer, devices):
    """Train on one minibatch with the gradient of the loss summed over the batch; returns
    (loss sum, number of correct predictions) as Python floats. One device: the step runs
    there. Several: the batch is split over them (`split_batch`) and trained by their
    MirroredStrategy, under whose scope (`mirrored_strategy(devices).scope()`) the net and
    the trainer must have been created."""
    names = device_names("train_batch_ch13", devices)
    if len(names) > 1 and replicas(net) is not mirrored_strategy(names):
        raise ValueError("train_batch_ch13: to train on several devices, net must be built "
                         "under d2l.mirrored_strategy(devices).scope()")
    step = _compiled_step(net, loss, trainer, names)
    if len(names) == 1:
        with tf.device(names[0]):
            l, correct = step(tf.identity(X), tf.identity(y))
    else:
        strategy = mirrored_strategy(names)
        X_shards, y_shards = split_batch(X, y, names)
        l, correct = step(distribute(strategy, X_shards), distribute(strategy, y_shards))
    return float(l), float(correct)


def _on_devices(net, trainer, names):
    """(network, optimizer) to train on `names`. A model is trained in place with `trainer`;
    on several devices it must have been built under their `mirrored_strategy` (with the
    optimizer). A builder `net()` is called on the device (one) or under the devices'
    strategy (several), where a fresh optimizer of `trainer`'s configuration is made too."""
    if isinstance(net, keras.Model):
        if len(names) > 1 and replicas(net) is not mirrored_strategy(names):
            raise ValueError("train_ch13: to train on several devices, net must be built "
                             "under d2l.mirrored_strategy(devices).scope() (MirroredStrategy "
                             "creates its variables), or be a function that builds it")
        return net, trainer
    if len(names) == 1:
        with tf.device(names[0]):
            return net(), trainer
    with mirrored_strategy(names).scope():
        return net(), trainer.__class__.from_config(trainer.get_config())


def train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs, devices=None):
    """Train with the Keras optimizer `trainer` on `devices`, data parallel over several;
    `net` is a model, trained in place (on several devices: built with the optimizer under
    `mirrored_strategy(devices).scope()`), or a function building one (called under the
    devices' strategy, with a fresh optimizer of `trainer`'s configuration). Plots train
    loss/accuracy five times per epoch and the test accuracy (`evaluate_accuracy_gpus`) per
    epoch; prints the final metrics and the examples/sec on the device names. Returns the
    trained model. `devices` defaults to `try_all_gpus()` at call time: MXNet and PyTorch
    evaluate it at import, as the book does, but here that would initialize TensorFlow's
    devices on `import d2l`, after which logical devices can no longer be configured."""
    names = device_names("train_ch13", try_all_gpus() if devices is None else devices)
    model, optimizer = _on_devices(net, trainer, names)

    def step(X, y):
        l, acc = train_batch_ch13(model, X, y, loss, optimizer, names)
        return l, acc, y.shape[0], tf.size(y)

    multidevice.train_ch13(step, lambda: evaluate_accuracy_gpus(model, test_iter),
                           train_iter, num_epochs, names)
    return model
