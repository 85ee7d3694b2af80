"""Saved functions whose code is the same in every framework once written against the alias
block (`matmul`, `reshape`, `argmax`, ...). Each takes the backend's alias module `ops` first;
`bind` fills it in, so a backend exposes them with the book's signatures. Only calls every
framework's alias spells alike are made here; Gaussian samples, whose argument order differs
per framework, come from the alias module's `normal_samples(mean, std, shape)`.
"""

import functools
import inspect

from . import checks


def bind(ops, *functions):
    """The given functions with `ops` filled in as their first argument: real functions with
    the originals' names, docstrings and the book's signatures (`linreg(X, w, b)`)."""
    return [_bind_one(ops, fn) for fn in functions]


def _bind_one(ops, fn):
    @functools.wraps(fn)
    def bound(*args, **kwargs):
        return fn(ops, *args, **kwargs)

    del bound.__wrapped__
    signature = inspect.signature(fn)
    bound.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])
    return bound


def synthetic_data(ops, w, b, num_examples):
    """Features X (num_examples, len(w)) ~ N(0, 1) and labels y = Xw + b + N(0, 0.01²) as a
    column (num_examples, 1), float32; `w` is a float tensor of shape (d,) or (d, 1)."""
    checks.non_negative_int("synthetic_data", "num_examples", num_examples)
    if len(w.shape) not in (1, 2) or len(w.shape) == 2 and w.shape[1] != 1:
        raise ValueError(f"synthetic_data: w must be a vector of shape (d,) or (d, 1), got "
                         f"shape {tuple(w.shape)}")
    X = ops.normal_samples(0, 1, (num_examples, len(w)))
    y = ops.matmul(X, w) + b
    y += ops.normal_samples(0, 0.01, y.shape)
    return X, ops.reshape(y, (-1, 1))


def linreg(ops, X, w, b):
    """The linear regression model X w + b; X (n, d), w (d, k) or (d,)."""
    if X.shape[-1] != w.shape[0]:
        raise ValueError(f"linreg: X has {X.shape[-1]} features but w has {w.shape[0]} rows")
    return ops.matmul(X, w) + b


def squared_loss(ops, y_hat, y):
    """Elementwise (y_hat - y)² / 2, with y reshaped to y_hat's shape; no reduction."""
    checks.same_size("squared_loss", "y_hat", y_hat, "y", y)
    return (y_hat - ops.reshape(y, y_hat.shape)) ** 2 / 2
