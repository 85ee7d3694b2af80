"""Chapter 5, Deep Learning Computation, for PyTorch: devices (section 5.6)."""

import torch

from ..common.devices import check_index

__all__ = ["try_gpu", "try_all_gpus"]


def try_gpu(i=0):
    """`torch.device('cuda:i')` if GPU i exists, else `torch.device('cpu')`."""
    check_index(i)
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def try_all_gpus():
    """Every GPU as a `torch.device`, or `[torch.device('cpu')]` when there is none."""
    devices = [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())]
    return devices if devices else [torch.device("cpu")]
