"""Chapter 12, Computational Performance, for MXNet: splitting a minibatch over devices
(12.5), the chapter's ResNet-18 and data-parallel accuracy (12.6).

Data parallelism runs on Gluon's own machinery: `gluon.utils.split_and_load` places the
shards, the parameters live on every context (`initialize(ctx=devices)`), and the Trainer's
kvstore sums the gradients of all contexts before the update. Several CPU contexts
(`npx.cpu(0)`, `npx.cpu(1)`) work like several GPUs, which is how it is tested without one.
"""

from mxnet import gluon, npx
from mxnet.gluon import nn

from ..common import multidevice
from ..common.bookkeeping import Accumulator
from ..common.training import accuracy, examples_seen
from .modern_cnns import Residual

__all__ = ["split_batch", "resnet18", "evaluate_accuracy_gpus"]


def known_device(device):
    """Whether MXNet has `device`: any CPU context, a GPU context below `num_gpus()`."""
    if not hasattr(device, "device_type"):
        return False
    if device.device_type == "gpu":
        return device.device_id < npx.num_gpus()
    return device.device_type.startswith("cpu")


def split_batch(X, y, devices):
    """Split features X (n, ...) and labels y (n, ...) along axis 0 into one shard per device
    (`split_and_load`), in order: shards of n // k or n // k + 1 examples, larger first.
    Returns (X_shards, y_shards); ValueError when n < len(devices) or the lengths differ."""
    multidevice.check_devices("split_batch", devices, known_device)
    multidevice.shard_sizes("split_batch", X.shape, y.shape, len(devices))
    return (gluon.utils.split_and_load(X, devices, even_split=False),
            gluon.utils.split_and_load(y, devices, even_split=False))


def _resnet_block(num_channels, num_residuals, first_block=False):
    blk = nn.Sequential()
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.add(Residual(num_channels, use_1x1conv=True, strides=2))
        else:
            blk.add(Residual(num_channels))
    return blk


def resnet18(num_classes):
    """ResNet-18 for small NCHW images: a 3x3 convolution (64 channels, stride 1, pad 1),
    batch norm and ReLU without max-pooling, four stages of two residual blocks (64, 128, 256,
    512 channels; stages 2-4 halve the size with a strided 1x1-shortcut block), global
    average pooling and a dense layer to `num_classes`. Input channels are inferred."""
    net = nn.Sequential()
    net.add(nn.Conv2D(64, kernel_size=3, strides=1, padding=1), nn.BatchNorm(),
            nn.Activation("relu"))
    net.add(_resnet_block(64, 2, first_block=True), _resnet_block(128, 2),
            _resnet_block(256, 2), _resnet_block(512, 2))
    net.add(nn.GlobalAvgPool2D(), nn.Dense(num_classes))
    return net


def evaluate_accuracy_gpus(net, data_iter, split_f=split_batch):
    """Accuracy of `net` over `data_iter` with every batch split by `split_f` over the
    contexts of the net's first parameter, each shard predicted on its own context."""
    devices = list(net.collect_params().values())[0].list_ctx()
    metric = Accumulator(2)
    for features, labels in data_iter:
        X_shards, y_shards = split_f(features, labels, devices)
        pred_shards = [net(X_shard) for X_shard in X_shards]
        metric.add(sum(accuracy(p, y) for p, y in zip(pred_shards, y_shards)), labels.size)
    examples_seen("evaluate_accuracy_gpus", "data_iter", metric[1])
    return metric[0] / metric[1]
