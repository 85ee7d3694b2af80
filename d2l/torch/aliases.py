"""The book's framework aliases for PyTorch, with the meanings the spec gives them."""

import torch

__all__ = ["ones", "zeros", "arange", "meshgrid", "sin", "sinh", "cos", "cosh", "tanh",
           "linspace", "exp", "log", "tensor", "normal", "rand", "matmul", "int32", "float32",
           "concat", "stack", "abs", "eye", "numpy", "size", "reshape", "to", "reduce_sum",
           "argmax", "astype", "transpose"]

ones, zeros, arange = torch.ones, torch.zeros, torch.arange
sin, sinh, cos, cosh, tanh = torch.sin, torch.sinh, torch.cos, torch.cosh, torch.tanh
linspace, exp, log, abs, eye = torch.linspace, torch.exp, torch.log, torch.abs, torch.eye
tensor, normal, rand, matmul = torch.tensor, torch.normal, torch.rand, torch.matmul
int32, float32 = torch.int32, torch.float32


def meshgrid(*tensors, indexing="xy"):
    """Coordinate grids with NumPy's default 'xy' indexing (PyTorch's own default is 'ij')."""
    return torch.meshgrid(*tensors, indexing=indexing)


def concat(tensors, axis=0):
    """Join tensors along an existing axis."""
    return torch.cat(tensors, dim=axis)


def stack(tensors, axis=0):
    """Join tensors along a new axis."""
    return torch.stack(tensors, dim=axis)


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
    """Sum over all elements, or over `axis` (keyword `keepdims` works)."""
    return x.sum(*args, **kwargs)


def argmax(x, *args, **kwargs):
    """Index of the largest element, over the flattened tensor or along `axis`."""
    return x.argmax(*args, **kwargs)


def astype(x, dtype):
    """`x` cast to `dtype`."""
    return x.type(dtype)


def transpose(x):
    """`x` with all its axes reversed (the matrix transpose for 2-D tensors)."""
    return x.permute(*reversed(range(x.ndim)))
