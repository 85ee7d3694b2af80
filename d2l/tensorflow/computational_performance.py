"""Chapter 12, Computational Performance, for TensorFlow: splitting a minibatch over devices
(12.5), the chapter's ResNet-18 and data-parallel accuracy (12.6); the book has them for
MXNet and PyTorch only.

Data parallelism runs on `tf.distribute.MirroredStrategy`: the network's variables are
mirrored on every device (create it under `mirrored_strategy(devices).scope()`), each replica
runs on its shard, and the optimizer sums the replicas' gradients before the update. Several
logical CPU devices (`tf.config.set_logical_device_configuration`, before TensorFlow first
uses a device) work like several GPUs, which is how it is tested without one. A device is a
name ('/GPU:0', '/CPU:1') or what `try_gpu()` returns.
"""

import weakref

import tensorflow as tf
from tensorflow import keras

from ..common import multidevice
from ..common.bookkeeping import Accumulator
from ..common.training import accuracy, examples_seen
from .modern_cnns import Residual

__all__ = ["split_batch", "resnet18", "evaluate_accuracy_gpus", "mirrored_strategy"]


def device_name(device):
    """'/CPU:0' style name of a device name or `tf.device` object (None for anything else)."""
    name = getattr(device, "_device_name", device)
    if not isinstance(name, str):
        return None
    try:
        spec = tf.DeviceSpec.from_string(name)
    except (ValueError, TypeError):
        return None
    return f"/{(spec.device_type or '').upper()}:{spec.device_index or 0}"


def known_device(device):
    """Whether TensorFlow has `device` here (a logical device of that type and index)."""
    name = device_name(device)
    return name is not None and name in {device_name(d.name)
                                         for d in tf.config.list_logical_devices()}


def device_names(fn, devices):
    """The checked device names of `devices` (see `multidevice.check_devices`)."""
    multidevice.check_devices(fn, devices, known_device)
    return [device_name(d) for d in devices]


_STRATEGIES = {}


def mirrored_strategy(devices):
    """The `MirroredStrategy` over `devices` (one object per device list, so a network built
    under its scope and the steps that train it share it)."""
    names = tuple(device_names("mirrored_strategy", devices))
    multidevice.check_distinct("mirrored_strategy", names)
    if names not in _STRATEGIES:
        _STRATEGIES[names] = tf.distribute.MirroredStrategy(list(names))
    return _STRATEGIES[names]


def split_batch(X, y, devices):
    """Split features X (n, ...) and labels y (n, ...) along axis 0 into one shard per device,
    in order: shards of n // k or n // k + 1 examples, larger first, shard i placed on
    devices[i]. Returns (X_shards, y_shards) as lists; ValueError when n < len(devices) or the
    lengths differ."""
    names = device_names("split_batch", devices)
    sizes = multidevice.shard_sizes("split_batch", tuple(X.shape), tuple(y.shape), len(names))
    X_shards, y_shards = [], []
    for x, t, name in zip(tf.split(X, sizes), tf.split(y, sizes), names):
        with tf.device(name):
            X_shards.append(tf.identity(x))
            y_shards.append(tf.identity(t))
    return X_shards, y_shards


def _resnet_block(num_channels, num_residuals, first_block=False):
    return [Residual(num_channels, use_1x1conv=True, strides=2) if i == 0 and not first_block
            else Residual(num_channels) for i in range(num_residuals)]


def resnet18(num_classes):
    """ResNet-18 for small NHWC images: a 3x3 convolution (64 channels, stride 1, pad 1 on
    every side), batch norm (epsilon 1e-5, momentum 0.9 as in MXNet/PyTorch) and ReLU without
    max-pooling, four stages of two residual blocks (64, 128, 256, 512 channels; stages 2-4
    halve the size with a strided 1x1-shortcut block), global average pooling and a dense
    layer to `num_classes` (a Keras Sequential; input channels inferred)."""
    L = keras.layers
    blocks = [layer for channels, first in ((64, True), (128, False), (256, False),
                                            (512, False))
              for layer in _resnet_block(channels, 2, first)]
    return keras.Sequential([L.ZeroPadding2D(1), L.Conv2D(64, kernel_size=3, strides=1),
                             L.BatchNormalization(epsilon=1e-5, momentum=0.9),
                             L.Activation("relu"), *blocks, L.GlobalAveragePooling2D(),
                             L.Dense(num_classes)])


def replicas(net):
    """The MirroredStrategy that owns `net`'s variables, or None (one device)."""
    strategy = getattr(net, "distribute_strategy", None)
    if isinstance(strategy, tf.distribute.MirroredStrategy) and \
            strategy.num_replicas_in_sync > 1:
        return strategy
    return None


def distribute(strategy, shards):
    """Per-replica values from a list of shards (shard i to replica i)."""
    return strategy.experimental_distribute_values_from_function(
        lambda context: shards[context.replica_id_in_sync_group])


def _correct(pred, y):
    return tf.reduce_sum(tf.cast(tf.cast(tf.argmax(pred, axis=1), y.dtype) == y, tf.float32))


_COUNTERS = weakref.WeakKeyDictionary()  # net -> compiled data-parallel correct count


def _counter(net, strategy):
    if net not in _COUNTERS:
        _COUNTERS[net] = tf.function(lambda X, y: strategy.reduce("SUM", strategy.run(
            lambda x, t: _correct(net(x, training=False), t), args=(X, y)), axis=None),
            reduce_retracing=True)
    return _COUNTERS[net]


def evaluate_accuracy_gpus(net, data_iter, split_f=split_batch):
    """Accuracy of `net` over `data_iter`. A net built under a MirroredStrategy over several
    devices predicts every batch data parallel: split by `split_f` over the strategy's
    devices, one shard per replica, correct counts summed by the strategy. Otherwise each
    batch is predicted where it is."""
    strategy = replicas(net)
    metric = Accumulator(2)
    for X, y in data_iter:
        if strategy is None:
            metric.add(accuracy(net(X, training=False), y), tf.size(y))
            continue
        X_shards, y_shards = split_f(X, y, list(strategy.extended.worker_devices))
        metric.add(_counter(net, strategy)(distribute(strategy, X_shards),
                                           distribute(strategy, y_shards)), tf.size(y))
    examples_seen("evaluate_accuracy_gpus", "data_iter", metric[1])
    return metric[0] / metric[1]
