"""Chapter 5, Deep Learning Computation, for MXNet: devices (section 5.6)."""

from mxnet import npx

from ..common.devices import check_index

__all__ = ["try_gpu", "try_all_gpus"]


def try_gpu(i=0):
    """`npx.gpu(i)` if GPU i exists, else `npx.cpu()` (contexts print as gpu(i), cpu(0))."""
    check_index(i)
    return npx.gpu(i) if npx.num_gpus() >= i + 1 else npx.cpu()


def try_all_gpus():
    """Every GPU context, or `[npx.cpu()]` when there is none."""
    devices = [npx.gpu(i) for i in range(npx.num_gpus())]
    return devices if devices else [npx.cpu()]
