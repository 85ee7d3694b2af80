"""The book's framework aliases for PyTorch: PyTorch's own functions and call signatures.

The function aliases are the `torch` functions themselves (`concat` is `torch.cat`: `dim=`
and its NumPy synonym `axis=` both work); the fluent ones (`reshape`, `reduce_sum`,
`argmax`, `astype`, ...) call the tensor's method with all the arguments given (`dim=` or
`axis=`, `keepdim=` or `keepdims=`). One spec decision: `meshgrid` defaults to 'xy'.
"""

import torch

from ..common import checks

__all__ = ["ones", "zeros", "arange", "meshgrid", "sin", "sinh", "cos", "cosh", "tanh",
           "linspace", "exp", "log", "tensor", "normal", "rand", "matmul", "int32", "float32",
           "concat", "stack", "abs", "eye", "numpy", "size", "reshape", "to", "reduce_sum",
           "argmax", "astype", "transpose"]

ones, zeros, arange = torch.ones, torch.zeros, torch.arange
sin, sinh, cos, cosh, tanh = torch.sin, torch.sinh, torch.cos, torch.cosh, torch.tanh
linspace, exp, log, abs, eye = torch.linspace, torch.exp, torch.log, torch.abs, torch.eye
tensor, normal, rand = torch.tensor, torch.normal, torch.rand
int32, float32 = torch.int32, torch.float32
concat, stack = torch.cat, torch.stack


def normal_samples(mean, std, shape):
    """Gaussian samples of `shape` (float32): the one spelling shared code (`d2l.common`) uses,
    since each framework's `normal` orders its arguments differently. Not a book alias."""
    return torch.normal(mean, std, shape)


def meshgrid(*tensors, indexing="xy"):
    """Coordinate grids with NumPy's default 'xy' indexing (PyTorch's own default is 'ij')."""
    return torch.meshgrid(*tensors, indexing=indexing)


def numpy(x, *args, **kwargs):
    """A NumPy copy of `x` (detached, moved to the CPU first)."""
    return x.detach().cpu().numpy(*args, **kwargs)


def size(x):
    """Number of elements, as a Python int."""
    return x.numel()


def reshape(x, *args, **kwargs):
    """`x.reshape`: the new shape as a tuple or as separate ints."""
    return x.reshape(*args, **kwargs)


def to(x, *args, **kwargs):
    """`x` on another device (or with another dtype)."""
    return x.to(*args, **kwargs)


def reduce_sum(x, *args, **kwargs):
    """`x.sum(dim=None, keepdim=False, dtype=None)`: sum over all elements or `dim` (`axis`)."""
    return x.sum(*args, **kwargs)


def argmax(x, *args, **kwargs):
    """`x.argmax(dim=None, keepdim=False)`: index (int64) of the largest element, of the
    flattened tensor (dim None) or along `dim` (`axis`)."""
    return x.argmax(*args, **kwargs)


def astype(x, *args, **kwargs):
    """`x.type(dtype, non_blocking=False)`: `x` cast to `dtype`."""
    return x.type(*args, **kwargs)


def transpose(x):
    """`x` with all its axes reversed (the matrix transpose for 2-D tensors; a 0-d `x` as
    it is)."""
    return x.permute(tuple(reversed(range(x.ndim))))


def matmul(input, other, *, out=None):
    """`torch.matmul`, with a ValueError naming the operands when their shapes do not fit."""
    checks.matmul_operands(input, other)
    return torch.matmul(input, other, out=out)
