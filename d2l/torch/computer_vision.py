"""Chapter 13, Computer Vision, for PyTorch."""

from torch import nn

from ..common import multidevice
from ..common.training import accuracy
from .computational_performance import (
    all_reduce_sum,
    distributed,
    known_device,
    split_batch,
)
from .convolutional_neural_networks import evaluate_accuracy_gpu
from .deep_learning_computation import try_all_gpus

# --- 13.1 Image Augmentation ---
# The multi-device trainer every later chapter uses. Over several CUDA devices `train_ch13`
# wraps the net in `nn.DataParallel`, as the book does; in a process group (several CPU
# processes, see `run_data_parallel`) in `DistributedDataParallel`, every process training on
# its shard of the same global batch. Either way the step follows the gradient of the loss
# summed over the global batch, as one device does.

__all__ = ["train_batch_ch13", "train_ch13"]


def _to(X, device):
    return [x.to(device) for x in X] if isinstance(X, list) else X.to(device)


def train_batch_ch13(net, X, y, loss, trainer, devices):
    """Train on one minibatch: X (or each tensor of a list X) and y go to devices[0], the
    gradient of the summed loss (`loss` with reduction='none'; a loss that reduces to a scalar
    is taken as the batch mean) drives one `trainer.step()`. Returns (loss sum, 0-d tensor
    still attached to the graph; number of correct predictions, float). A
    DistributedDataParallel net trains on this process's shard of the batch (by rank) and the
    returned numbers are summed over the process group: those of the whole batch."""
    multidevice.check_devices("train_batch_ch13", devices, known_device)
    rank, world = distributed()
    if isinstance(net, nn.parallel.DistributedDataParallel) and world > 1:
        X_shards, y_shards = split_batch(X, y, [devices[0]] * world)
        X, y = X_shards[rank], y_shards[rank]
    X, y = _to(X, devices[0]), y.to(devices[0])
    net.train()
    trainer.zero_grad()
    pred = net(X)
    l = loss(pred, y)
    l_sum = l.sum() if l.dim() else l * y.shape[0]
    # DDP averages gradients over the processes: scaled by their number, the average of the
    # shards' summed-loss gradients is the gradient of the whole batch's summed loss.
    (l_sum * world).backward() if world > 1 else l_sum.backward()
    trainer.step()
    if world > 1:
        total_l, total_acc = all_reduce_sum([float(l_sum.detach()), accuracy(pred, y)])
        return l_sum.new_tensor(total_l), total_acc
    return l_sum, accuracy(pred, y)


def train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs,
               devices=try_all_gpus()):  # noqa: B008  (the book's default, at import)
    """Train `net` in place with `trainer` on `devices`: several CUDA devices through
    `nn.DataParallel(net, device_ids=devices)`; inside a process group (one device per
    process) through DistributedDataParallel. Plots train loss/accuracy five times per epoch
    and the test accuracy (`evaluate_accuracy_gpu`) per epoch; prints the final metrics and
    the examples/sec on `devices`. Returns None, as in the book."""
    multidevice.check_devices("train_ch13", devices, known_device)
    multidevice.check_distinct("train_ch13", devices)
    if distributed()[1] > 1:
        if len(devices) != 1:
            raise ValueError(f"train_ch13: in a process group each process trains on one "
                             f"device; devices holds {len(devices)}")
        ids = None if devices[0].type == "cpu" else [devices[0]]
        wrapped = nn.parallel.DistributedDataParallel(net.to(devices[0]), device_ids=ids)
    elif len(devices) > 1:
        if any(d.type != "cuda" for d in devices):
            raise ValueError("train_ch13: devices lists several devices that are not all CUDA "
                             "devices; nn.DataParallel needs CUDA (train on several CPUs with "
                             "one process each: run_data_parallel)")
        wrapped = nn.DataParallel(net, device_ids=devices).to(devices[0])
    else:
        wrapped = net.to(devices[0])

    def step(X, y):
        l, acc = train_batch_ch13(wrapped, X, y, loss, trainer, devices)
        return l.detach(), acc, y.shape[0], y.numel()

    multidevice.train_ch13(step, lambda: evaluate_accuracy_gpu(wrapped, test_iter),
                           train_iter, num_epochs, devices)
