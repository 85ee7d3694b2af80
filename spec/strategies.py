"""Hypothesis strategies shared by the spec entries."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def floats(lo=-10.0, hi=10.0):
    lo, hi = float(np.float32(lo)), float(np.float32(hi))
    # No subnormals: TensorFlow and MXNet flush them to zero on CPU.
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=32)


def shapes(min_dims=1, max_dims=3, min_side=1, max_side=5):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(shape=None, lo=-10.0, hi=10.0, unique=False, **shape_kwargs):
    """float32 arrays of a given or drawn shape, with finite values in [lo, hi]."""
    return hnp.arrays(np.float32, shape if shape is not None else shapes(**shape_kwargs),
                      elements=floats(lo, hi), unique=unique)


@st.composite
def array_and_axis(draw, allow_none=True, unique=False, **shape_kwargs):
    """An array and an axis of it (or None for 'all axes')."""
    x = draw(arrays(unique=unique, **shape_kwargs))
    axes = st.integers(0, x.ndim - 1)
    return x, draw(st.none() | axes if allow_none else axes)


@st.composite
def matrices_for_product(draw):
    """(a, b) with a (n, k) or (k,) and b (k, m) or (k,), as in a matrix/vector product."""
    n, k, m = (draw(st.integers(1, 5)) for _ in range(3))
    a_shape = draw(st.sampled_from([(n, k), (k,)]))
    b_shape = draw(st.sampled_from([(k, m), (k,)]))
    return draw(arrays(a_shape, -3, 3)), draw(arrays(b_shape, -3, 3))


@st.composite
def same_shape_arrays(draw):
    """One to three arrays of one shape, and an axis of that shape."""
    shape = draw(shapes(max_dims=3))
    xs = [draw(arrays(shape)) for _ in range(draw(st.integers(1, 3)))]
    return xs, draw(st.integers(0, len(shape) - 1))


@st.composite
def reshapes(draw):
    """An array and a new shape with the same number of elements."""
    x = draw(arrays(max_dims=3))
    n = x.size
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    first = draw(st.sampled_from(divisors))
    return x, (first, n // first)


NON_FINITE = (float("nan"), float("inf"), float("-inf"))


def edge_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3):
    """Shapes with empty (0, unless min_side > 0) and length-1 axes among the others, 0-d
    when min_dims is 0."""
    return st.integers(min_dims, max_dims).flatmap(
        lambda n: st.tuples(*[st.integers(min_side, max_side)] * n))


def edge_arrays(shape=None, lo=-10.0, hi=10.0, non_finite=True, **shape_kwargs):
    """float32 arrays of a given or drawn edge shape (`edge_shapes`), with NaN and ±inf among
    finite values in [lo, hi] unless `non_finite` is False."""
    elements = floats(lo, hi) | st.sampled_from(NON_FINITE) if non_finite else floats(lo, hi)
    return hnp.arrays(np.float32, shape if shape is not None else edge_shapes(**shape_kwargs),
                      elements=elements)
