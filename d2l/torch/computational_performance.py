"""Chapter 12, Computational Performance, for PyTorch: splitting a minibatch over devices
(12.5), the chapter's ResNet-18 and data-parallel accuracy (12.6).

Data parallelism runs on PyTorch's own engines: `nn.DataParallel` over CUDA devices, as the
book does, and `nn.parallel.DistributedDataParallel` over processes. `run_data_parallel`
starts such processes on this machine (gloo backend over localhost), so training on several
CPUs works too: every process reads the same global batches and trains on its shard (split
by rank); DDP averages the gradients over the processes during `backward`.
"""

import os
import socket

import torch
import torch.distributed as dist
from torch import nn

from ..common import checks, multidevice
from ..common.bookkeeping import Accumulator
from ..common.training import accuracy, examples_seen
from .modern_cnns import Residual

__all__ = ["split_batch", "resnet18", "evaluate_accuracy_gpus", "run_data_parallel"]


def known_device(device):
    """Whether PyTorch has `device` here: the CPU, or a CUDA device below the device count."""
    if not isinstance(device, torch.device):
        return False
    if device.type == "cuda":
        return (device.index or 0) < torch.cuda.device_count()
    return device.type == "cpu"


def split_batch(X, y, devices):
    """Split features X (n, ...) and labels y (n, ...) along axis 0 into one shard per device,
    in order: shards of n // k or n // k + 1 examples, larger first, shard i moved to
    devices[i]. Returns (X_shards, y_shards) as lists; ValueError when n < len(devices) or the
    lengths differ."""
    multidevice.check_devices("split_batch", devices, known_device)
    multidevice.shard_sizes("split_batch", tuple(X.shape), tuple(y.shape), len(devices))
    k = len(devices)
    return ([x.to(d) for x, d in zip(torch.tensor_split(X, k), devices)],
            [t.to(d) for t, d in zip(torch.tensor_split(y, k), devices)])


def _resnet_block(in_channels, out_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(in_channels, out_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(out_channels, out_channels))
    return nn.Sequential(*blk)


def resnet18(num_classes, in_channels=1):
    """ResNet-18 for small NCHW images with `in_channels` channels: a 3x3 convolution (64
    channels, stride 1, pad 1), batch norm and ReLU without max-pooling, then the children
    resnet_block1..4 (two residual blocks each; 64, 128, 256, 512 channels; blocks 2-4 halve
    the size with a strided 1x1-shortcut block), global_avg_pool and fc (Flatten + Linear to
    `num_classes`)."""
    net = nn.Sequential(nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1),
                        nn.BatchNorm2d(64), nn.ReLU())
    net.add_module("resnet_block1", _resnet_block(64, 64, 2, first_block=True))
    net.add_module("resnet_block2", _resnet_block(64, 128, 2))
    net.add_module("resnet_block3", _resnet_block(128, 256, 2))
    net.add_module("resnet_block4", _resnet_block(256, 512, 2))
    net.add_module("global_avg_pool", nn.AdaptiveAvgPool2d((1, 1)))
    net.add_module("fc", nn.Sequential(nn.Flatten(), nn.Linear(512, num_classes)))
    return net


def distributed():
    """(rank, world size) of this process's group, or (0, 1) outside one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def net_devices(net):
    """The devices `net` runs on: a DataParallel's device ids, else its parameters' device."""
    if isinstance(net, nn.DataParallel):
        return [torch.device("cuda", i) if isinstance(i, int) else torch.device(i)
                for i in net.device_ids]
    return [next(net.parameters()).device]


def evaluate_accuracy_gpus(net, data_iter, split_f=split_batch):
    """Accuracy of `net` over `data_iter`, data parallel. A DataParallel net predicts each
    whole batch (it scatters it over its devices itself). In a process group (see
    `run_data_parallel`) every process predicts its shard of each batch (`split_f` over the
    group, taken by rank) and the correct counts are summed over the group. Otherwise each
    batch is predicted on the device of the net's parameters."""
    devices = net_devices(net)
    rank, world = distributed()
    if isinstance(net, nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            if world > 1:
                X_shards, y_shards = split_f(X, y, devices * world)
                X, y = X_shards[rank], y_shards[rank]
            else:
                X, y = X.to(devices[0]), y.to(devices[0])
            metric.add(accuracy(net(X), y), y.numel())
    counts = all_reduce_sum(metric.data)
    examples_seen("evaluate_accuracy_gpus", "data_iter", counts[1])
    return counts[0] / counts[1]


def all_reduce_sum(values):
    """The sums of `values` (floats) over the process group (unchanged outside one)."""
    if distributed()[1] == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process(rank, world_size, port, fn, args, results):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    # The machine's cores are shared by the processes: one intra-op pool each would
    # oversubscribe them.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        result = fn(rank, world_size, *args)
        if rank == 0:
            results.put(result)
        dist.barrier()  # no process leaves while another still talks to it
    finally:
        dist.destroy_process_group()


def run_data_parallel(fn, num_processes, *args, start_method="spawn"):
    """Run `fn(rank, world_size, *args)` in `num_processes` new processes of one gloo process
    group on this machine (torch.multiprocessing; `start_method` 'spawn', or 'fork' where
    the parent has not used threads that a fork would break) and return rank 0's result.
    With 'spawn', `fn` must be importable (a module-level function). Inside it, `train_ch13`
    and `evaluate_accuracy_gpus` train and evaluate data parallel over the processes."""
    from torch import multiprocessing

    checks.positive_int("run_data_parallel", "num_processes", num_processes)
    if start_method not in ("spawn", "fork"):
        raise ValueError(f"run_data_parallel: start_method must be 'spawn' or 'fork', got "
                         f"{start_method!r}")
    results = multiprocessing.get_context(start_method).SimpleQueue()
    multiprocessing.start_processes(
        _process, args=(num_processes, _free_port(), fn, args, results),
        nprocs=num_processes, start_method=start_method)
    return results.get()
