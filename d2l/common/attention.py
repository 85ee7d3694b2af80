"""Framework-neutral parts of chapter 10: argument checks shared by the three backends (so bad
shapes fail with the same ValueError everywhere) and the sinusoid table of section 10.6.

Shapes may hold None for dimensions a TensorFlow graph does not know yet; such dimensions
are not checked.
"""

import numpy as np

from . import checks


def _dims(x):
    """The shape of a tensor as a tuple of ints (None where unknown)."""
    return tuple(None if d is None else int(d) for d in x.shape)


def _matches(shape, expected):
    return len(shape) == len(expected) and all(
        a is None or b is None or a == b for a, b in zip(shape, expected))


def check_masked_softmax(X, valid_lens):
    """X (batch, n_k) or (batch, n_q, n_k); valid_lens None, (batch,) or, for 3-D X,
    (batch, n_q)."""
    x = _dims(X)
    if len(x) not in (2, 3):
        raise ValueError(f"masked_softmax: X must be 2-D (batch, n_k) or 3-D (batch, n_q, n_k), "
                         f"got shape {x}")
    if valid_lens is None:
        return
    lens = _dims(valid_lens)
    allowed = [x[:1]] + ([x[:2]] if len(x) == 3 else [])
    if not any(_matches(lens, shape) for shape in allowed):
        wanted = " or ".join(str(s) for s in allowed)
        raise ValueError(f"masked_softmax: valid_lens must have shape {wanted} for X of shape "
                         f"{x}, got shape {lens}")


def check_attention_inputs(fn, queries, keys, values, same_depth):
    """queries (b, n_q, d_q), keys (b, n_k, d_k), values (b, n_k, d_v): one batch size, one
    number of key-value pairs, and (`same_depth`, for dot products) d_q == d_k."""
    q, k, v = _dims(queries), _dims(keys), _dims(values)
    for name, shape in (("queries", q), ("keys", k), ("values", v)):
        if len(shape) != 3:
            raise ValueError(f"{fn}: {name} must be 3-D (batch, n, d), got shape {shape}")
    if not _matches(k[:2], v[:2]):
        raise ValueError(f"{fn}: keys {k} and values {v} must have the same batch size and "
                         f"number of pairs")
    if not _matches(q[:1], k[:1]):
        raise ValueError(f"{fn}: queries {q} and keys {k} must have the same batch size")
    if same_depth and not _matches(q[2:], k[2:]):
        raise ValueError(f"{fn}: queries {q} and keys {k} must have the same last dimension "
                         f"for a dot product")


def check_heads(fn, num_hiddens, num_heads):
    """num_hiddens and num_heads positive ints, num_hiddens divisible by num_heads."""
    checks.positive_int(fn, "num_hiddens", num_hiddens)
    checks.positive_int(fn, "num_heads", num_heads)
    if num_hiddens % num_heads:
        raise ValueError(f"{fn}: num_hiddens ({num_hiddens}) must be divisible by num_heads "
                         f"({num_heads})")


def check_transpose_qkv(X, num_heads):
    """X (batch, n, num_hiddens) with num_hiddens divisible by num_heads."""
    checks.positive_int("transpose_qkv", "num_heads", num_heads)
    x = _dims(X)
    if len(x) != 3 or (x[2] is not None and x[2] % num_heads):
        raise ValueError(f"transpose_qkv: X must be 3-D (batch, n, num_hiddens) with "
                         f"num_hiddens divisible by num_heads={num_heads}, got shape {x}")


def check_transpose_output(X, num_heads):
    """X (batch * num_heads, n, d)."""
    checks.positive_int("transpose_output", "num_heads", num_heads)
    x = _dims(X)
    if len(x) != 3 or (x[0] is not None and x[0] % num_heads):
        raise ValueError(f"transpose_output: X must be 3-D (batch * num_heads, n, d) with the "
                         f"first axis divisible by num_heads={num_heads}, got shape {x}")


def check_same_shape(fn, name_a, a, name_b, b):
    """Raise ValueError unless tensors `a` and `b` have the same shape."""
    sa, sb = _dims(a), _dims(b)
    if not _matches(sa, sb):
        raise ValueError(f"{fn}: {name_a} of shape {sa} and {name_b} of shape {sb} must have "
                         f"the same shape")


def positional_encoding_table(num_hiddens, max_len):
    """P (1, max_len, num_hiddens), float64: P[0, i, 2j] = sin(i / 10000^(2j/num_hiddens)),
    P[0, i, 2j+1] = cos(i / 10000^(2j/num_hiddens)). num_hiddens must be even (as upstream)."""
    checks.positive_int("PositionalEncoding", "num_hiddens", num_hiddens)
    checks.positive_int("PositionalEncoding", "max_len", max_len)
    if num_hiddens % 2:
        raise ValueError(f"PositionalEncoding: num_hiddens must be even (sin and cos columns "
                         f"alternate), got {num_hiddens}")
    angles = np.arange(max_len)[:, None] / np.power(
        10000.0, np.arange(0, num_hiddens, 2) / num_hiddens)
    table = np.empty((1, max_len, num_hiddens))
    table[0, :, 0::2], table[0, :, 1::2] = np.sin(angles), np.cos(angles)
    return table


def check_positions(X, num_hiddens, max_len):
    """X (batch, steps, num_hiddens) with steps <= max_len."""
    x = _dims(X)
    if len(x) != 3 or not _matches(x[2:], (num_hiddens,)):
        raise ValueError(f"PositionalEncoding: X must be (batch, steps, num_hiddens="
                         f"{num_hiddens}), got shape {x}")
    if x[1] is not None and x[1] > max_len:
        raise ValueError(f"PositionalEncoding: X has {x[1]} steps, more than max_len={max_len}")
