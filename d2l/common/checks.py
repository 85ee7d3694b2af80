"""Argument checks shared by every backend, so bad input fails the same way everywhere."""

import math
import numbers

from .tensors import to_numpy


def positive_int(fn, name, value):
    """Raise ValueError unless `value` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{fn}: {name} must be a positive int, got {value!r}")


def residual_shortcut(block_shape, shortcut_shape):
    """Raise ValueError naming use_1x1conv when the residual branch's output and the shortcut
    (the input X) differ in a known size: the sum would fail or broadcast."""
    pairs = zip(tuple(block_shape), tuple(shortcut_shape))
    if len(block_shape) != len(shortcut_shape) or any(
            a is not None and b is not None and a != b for a, b in pairs):
        raise ValueError(f"Residual: the block's output has shape {tuple(block_shape)} but the "
                         f"shortcut X has {tuple(shortcut_shape)}; pass use_1x1conv=True when "
                         f"the channels or strides change")


def positive_ints(fn, **sizes):
    """Raise ValueError naming the first of the keyword `sizes` that is not an int >= 1."""
    for name, value in sizes.items():
        positive_int(fn, name, value)


def boolean(fn, name, value):
    """Raise ValueError unless `value` is True or False (a Python, NumPy or 0/1 int flag): a
    string such as 'no' would count as True."""
    is_flag = isinstance(value, numbers.Integral) or type(value).__name__ == "bool_"
    if not is_flag or value not in (0, 1):
        raise ValueError(f"{fn}: {name} must be True or False, got {value!r}")


def non_negative_int(fn, name, value):
    """Raise ValueError unless `value` is an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{fn}: {name} must be a non-negative int, got {value!r}")


def positive_number(fn, name, value):
    """Raise ValueError unless `value` is a finite real number > 0 (NaN and inf are not)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0
            or not math.isfinite(value)):
        raise ValueError(f"{fn}: {name} must be a positive finite number, got {value!r}")


def real_number(fn, name, value):
    """Raise ValueError unless `value` is a real number (infinities allowed, NaN not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{fn}: {name} must be a real number, got {value!r}")


def probability(fn, name, value):
    """Raise ValueError unless `value` is a real number in [0, 1] (NaN is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{fn}: {name} must be a number in [0, 1], got {value!r}")


def dropout(fn, value):
    """Raise ValueError unless the dropout probability `value` is a real number in [0, 1)
    (1 would zero every activation and scale them by 1 / 0; NaN is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{fn}: dropout must be a probability in [0, 1), got {value!r}")


def token_ids(fn, name, ids, vocab_size):
    """Raise ValueError unless every token id in `ids` (a tensor of any framework) lies in
    [0, vocab_size) (NaN does not): one-hot encodings and embeddings would otherwise give zero
    vectors or clip (MXNet, TensorFlow) or fail inside the framework (PyTorch). Reads the ids
    back: one small transfer per call."""
    ids = to_numpy(ids)
    if ids.size and not (ids.min() >= 0 and ids.max() < vocab_size):
        raise ValueError(f"{fn}: {name} holds token ids from {ids.min()} to {ids.max()}; they "
                         f"must lie in [0, vocab_size={vocab_size})")


def shape_of(x):
    """The shape of a tensor of any framework (or NumPy array) as a tuple of ints."""
    return tuple(int(d) for d in x.shape)


def same_size(fn, name_a, a, name_b, b):
    """Raise ValueError unless tensors `a` and `b` hold the same number of elements."""
    sa, sb = shape_of(a), shape_of(b)
    if _numel(sa) != _numel(sb):
        raise ValueError(f"{fn}: {name_a} of shape {sa} and {name_b} of shape {sb} must hold "
                         f"the same number of elements")


def matmul_operands(a, b):
    """Raise ValueError unless the product a @ b is defined: the last axis of `a` must be as
    long as the second-to-last axis of `b` (the only axis of a 1-D operand). 0-d operands
    (scalars, which MXNet's `dot` multiplies) are left to the framework."""
    sa, sb = shape_of(a) if hasattr(a, "shape") else (), shape_of(b) if hasattr(b, "shape") else ()
    if not sa or not sb:
        return
    inner = sb[-2] if len(sb) > 1 else sb[0]
    if sa[-1] != inner:
        raise ValueError(f"matmul: a of shape {sa} and b of shape {sb} do not multiply: a's last "
                         f"axis has {sa[-1]} entries, b's {'row' if len(sb) > 1 else 'only'} "
                         f"axis {inner}")


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n
