"""The framework alias block: each framework's own calls, the same values.

Each backend's alias keeps its framework's call signature (argument order, keyword names,
defaults), because the book's cells of that framework call it that way: TensorFlow's
`normal` is `tf.random.normal(shape, mean, stddev)`, PyTorch's `normal` is
`torch.normal(mean, std, size)`. The entries state each call once, neutrally (NumPy's order
and meaning); `NEUTRAL_CALLS`, the per-backend call adapter, spells it the way each
framework's alias takes it, and the values agree.

Values are compared, not dtypes: `tensor`/`arange` of Python ints give float32 in MXNet,
int64 in PyTorch and int32 in TensorFlow; index results (`argmax`) are int64 everywhere.

Edge cases the frameworks define differently stay each framework's where the alias *is* the
framework's function (so that `d2l.argmax is tf.argmax` keeps holding for the book's cells):
`arange(5, 2)` is empty in MXNet and an error in PyTorch and TensorFlow; `argmax` of an empty
tensor raises each framework's own error. The edge strategies here draw only what the three
answer alike (empty axes, non-finite values, length-1 axes); the wrappers d2l writes itself
(`matmul`, `size`, `to`, ...) name the argument when they reject one.
"""

import numpy as np
from hypothesis import strategies as st

from .entry import EXACT, Entry, Reject, Tol
from .strategies import (
    array_and_axis,
    arrays,
    edge_arrays,
    edge_shapes,
    floats,
    matrices_for_product,
    reshapes,
    same_shape_arrays,
    shapes,
)

SECTION = "-"


def _fn(backend, name):
    return getattr(backend.d2l, name)


def _flat_argmax_tf(d2l, x, axis):
    # tf.argmax's axis None means axis 0, so the neutral "flattened" argmax flattens first.
    return d2l.argmax(x, axis=axis) if axis is not None else d2l.argmax(d2l.reshape(x, [-1]))


# The per-backend call adapter: NEUTRAL_CALLS[alias][framework](d2l, *neutral_args) makes the
# spec's neutral call in the framework's own spelling (d2l is the backend module). Aliases not
# listed are called alike in all three: ones/zeros(shape), arange(start, stop, step),
# linspace(start, stop, num), tensor(data), eye(n), meshgrid(x, y), matmul(a, b), the
# elementwise functions, astype(x, dtype), to(x, device), numpy/size/transpose(x).
NEUTRAL_CALLS = {
    "normal": {  # normal(mean, std, shape): Gaussian samples of `shape`
        "mxnet": lambda d2l, mean, std, shape: d2l.normal(loc=mean, scale=std, size=shape),
        "torch": lambda d2l, mean, std, shape: d2l.normal(mean=mean, std=std, size=shape),
        "tensorflow": lambda d2l, mean, std, shape: d2l.normal(shape, mean=mean, stddev=std),
    },
    "rand": {  # rand(shape): uniform samples in [0, 1)
        "mxnet": lambda d2l, shape: d2l.rand(*shape),
        "torch": lambda d2l, shape: d2l.rand(*shape),
        "tensorflow": lambda d2l, shape: d2l.rand(shape),
    },
    "concat": {  # concat(tensors, axis)
        "mxnet": lambda d2l, xs, axis: d2l.concat(xs, axis=axis),
        "torch": lambda d2l, xs, axis: d2l.concat(xs, dim=axis),
        "tensorflow": lambda d2l, xs, axis: d2l.concat(xs, axis=axis),
    },
    "stack": {  # stack(tensors, axis)
        "mxnet": lambda d2l, xs, axis: d2l.stack(xs, axis=axis),
        "torch": lambda d2l, xs, axis: d2l.stack(xs, dim=axis),
        "tensorflow": lambda d2l, xs, axis: d2l.stack(xs, axis=axis),
    },
    "reduce_sum": {  # reduce_sum(x, axis): axis None sums all elements
        "mxnet": lambda d2l, x, axis: d2l.reduce_sum(x, axis=axis),
        "torch": lambda d2l, x, axis: d2l.reduce_sum(x, dim=axis),
        "tensorflow": lambda d2l, x, axis: d2l.reduce_sum(x, axis=axis),
    },
    "argmax": {  # argmax(x, axis): axis None indexes the flattened tensor
        "mxnet": lambda d2l, x, axis: d2l.argmax(x, axis=axis),
        "torch": lambda d2l, x, axis: d2l.argmax(x, dim=axis),
        "tensorflow": _flat_argmax_tf,
    },
    "reshape": {  # reshape(x, shape); MXNet and PyTorch also take the ints separately
        "mxnet": lambda d2l, x, shape: d2l.reshape(x, *shape),
        "torch": lambda d2l, x, shape: d2l.reshape(x, *shape),
        "tensorflow": lambda d2l, x, shape: d2l.reshape(x, shape=shape),
    },
}


def call(backend, alias, *args):
    """The alias `alias` of `backend` called with the spec's neutral arguments `args`."""
    spelled = NEUTRAL_CALLS.get(alias, {}).get(backend.name)
    return spelled(backend.d2l, *args) if spelled else _fn(backend, alias)(*args)


UNARY_TOL = Tol(1e-5, 1e-5)


def _unary(name, reference, lo=-5.0, hi=5.0, tol=UNARY_TOL):
    return Entry(
        name, SECTION, f"{name}(x)",
        f"Elementwise {reference.__name__}; 0-d and empty tensors, NaN and ±inf as in NumPy.",
        reference=reference, inputs=lambda: st.tuples(arrays(lo=lo, hi=hi)),
        edges=lambda: st.tuples(edge_arrays(lo=-lo if lo > 0 else lo, hi=hi)),
        call=lambda b, x: b.numpy(_fn(b, name)(b.tensor(x))), tol=tol)


@st.composite
def _edge_axis(draw):
    """A non-empty, finite edge array (length-1 axes, 0-d) and one of its axes or None. Not
    specified, as MXNet differs from NumPy: its sum of an empty array fails inside its engine
    (NumPy: 0), and its compensated sum of [inf, inf] is NaN (NumPy: inf)."""
    x = draw(edge_arrays(min_side=1, non_finite=False))
    return x, draw(st.none() | st.integers(0, x.ndim - 1) if x.ndim else st.none())


@st.composite
def _empty_products(draw):
    """Matrix and vector products with zero-length axes (inner: a zero matrix results)."""
    n, k, m = (draw(st.integers(0, 2)) for _ in range(3))
    a_shape = draw(st.sampled_from([(n, k), (k,)]))
    b_shape = draw(st.sampled_from([(k, m), (k,)]))
    return (draw(edge_arrays(a_shape, -3, 3, non_finite=False)),
            draw(edge_arrays(b_shape, -3, 3, non_finite=False)))


@st.composite
def _empty_joins(draw):
    """One to three arrays of one shape with an empty or length-1 axis, and an axis."""
    shape = draw(edge_shapes(min_dims=1))
    xs = [draw(edge_arrays(shape)) for _ in range(draw(st.integers(1, 3)))]
    return xs, draw(st.integers(0, len(shape) - 1))


@st.composite
def _empty_reshapes(draw):
    """An empty array and another shape of zero elements."""
    x = draw(edge_arrays(edge_shapes(min_dims=1).filter(lambda s: 0 in s)))
    return x, draw(st.sampled_from([(0,), (0, 3), (2, 0)]))


def _call_list(name):
    return lambda b, xs, axis: b.numpy(call(b, name, [b.tensor(x) for x in xs], axis))


def _normal_probe(b):
    x = b.numpy(call(b, "normal", 1.5, 2.0, (4000,)))
    return [list(x.shape), float(x.mean()), float(x.std())]


def _rand_probe(b):
    x = b.numpy(call(b, "rand", (2000, 3)))
    return [list(x.shape), bool((x >= 0).all() and (x < 1).all()), float(x.mean())]


def _dtype_probe(b):
    x = b.tensor(np.array([1.7, -2.2], np.float32))
    as_int = b.d2l.astype(x, b.d2l.int32)
    back = b.d2l.astype(as_int, b.d2l.float32)
    return [b.dtype_name(as_int), b.numpy(as_int).tolist(), b.dtype_name(back)]


def _to_probe(b):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    return b.numpy(b.d2l.to(b.tensor(x), b.device))


def _numpy_probe(b):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = b.d2l.numpy(b.tensor(x))
    return [type(out).__name__, out]


ENTRIES = [
    Entry("ones", SECTION, "ones(shape)", "Tensor of ones of the given shape (a tuple).",
          reference=lambda shape: np.ones(shape), inputs=lambda: st.tuples(shapes()),
          edges=lambda: st.tuples(edge_shapes()),
          call=lambda b, shape: b.numpy(b.d2l.ones(shape)), tol=EXACT),
    Entry("zeros", SECTION, "zeros(shape)", "Tensor of zeros of the given shape (a tuple).",
          reference=lambda shape: np.zeros(shape), inputs=lambda: st.tuples(shapes()),
          edges=lambda: st.tuples(edge_shapes()),
          call=lambda b, shape: b.numpy(b.d2l.zeros(shape)), tol=EXACT),
    Entry("arange", SECTION, "arange(start, stop, step)",
          "Evenly spaced values in [start, stop); int arguments (dtype differs per framework). "
          "start == stop gives an empty tensor; start > stop with a positive step is "
          "framework-defined (empty in MXNet, an error in PyTorch and TensorFlow).",
          reference=lambda a, b, s: np.arange(a, b, s),
          inputs=lambda: st.tuples(st.integers(-20, 20), st.integers(-20, 20),
                                   st.integers(1, 5)).filter(lambda t: t[0] < t[1]),
          edges=lambda: st.tuples(st.integers(-3, 3), st.integers(1, 5)).map(
              lambda t: (t[0], t[0], t[1])),
          call=lambda b, a, stop, s: b.numpy(b.d2l.arange(a, stop, s)), tol=EXACT),
    Entry("meshgrid", SECTION, "meshgrid(x, y)",
          "Coordinate grids with NumPy's 'xy' indexing: both outputs have shape "
          "(len(y), len(x)); the first varies along columns. (PyTorch's native default is "
          "'ij'; the alias passes 'xy'.)",
          reference=lambda x, y: np.stack(np.meshgrid(x, y)),
          inputs=lambda: st.tuples(arrays(max_dims=1), arrays(max_dims=1)),
          edges=lambda: st.tuples(edge_arrays(min_dims=1, max_dims=1),
                                  edge_arrays(min_dims=1, max_dims=1)),
          call=lambda b, x, y: np.stack([b.numpy(g) for g in
                                         b.d2l.meshgrid(b.tensor(x), b.tensor(y))]),
          tol=EXACT),
    _unary("sin", np.sin), _unary("sinh", np.sinh), _unary("cos", np.cos),
    _unary("cosh", np.cosh), _unary("tanh", np.tanh),
    _unary("exp", np.exp), _unary("log", np.log, lo=1e-3, hi=100.0),
    _unary("abs", np.abs),
    Entry("linspace", SECTION, "linspace(start, stop, num)",
          "`num` evenly spaced values from start to stop, both included.",
          reference=lambda a, b, n: np.linspace(a, b, n),
          inputs=lambda: st.tuples(floats(-10, 10), floats(-10, 10), st.integers(2, 20)),
          edges=lambda: st.tuples(floats(-10, 10), floats(-10, 10), st.integers(0, 1)),
          call=lambda b, start, stop, n: b.numpy(b.d2l.linspace(start, stop, n)),
          tol=Tol(1e-5, 1e-5)),
    Entry("tensor", SECTION, "tensor(data, dtype=None)",
          "A tensor from (nested) Python lists; default dtypes differ (values are equal).",
          reference=lambda x: np.asarray(x, np.float32),
          inputs=lambda: st.tuples(arrays(max_dims=2).map(lambda a: a.tolist())),
          edges=lambda: st.tuples(edge_arrays(max_dims=2).map(lambda a: a.tolist())),
          call=lambda b, data: b.numpy(b.d2l.tensor(data)), tol=EXACT),
    Entry("normal", SECTION, "normal(mean, std, size)",
          "Gaussian samples of shape `size`, in each framework's own call: MXNet "
          "np.random.normal(loc=0.0, scale=1.0, size=None, dtype=None, ctx=None), PyTorch "
          "torch.normal(mean, std, size, *, dtype=None, device=None), TensorFlow "
          "tf.random.normal(shape, mean=0.0, stddev=1.0, dtype=tf.float32, seed=None, "
          "name=None).",
          probe=_normal_probe, expect=lambda: [[4000], 1.5, 2.0], tol=Tol(0.0, 0.15)),
    Entry("rand", SECTION, "rand(*dims) | TensorFlow: rand(shape, minval=0, maxval=None)",
          "Uniform samples in [0, 1) of the given shape: MXNet np.random.rand(*dims) and "
          "PyTorch torch.rand(*size) take the sides as separate ints, TensorFlow "
          "tf.random.uniform(shape, minval=0, maxval=None, dtype=tf.float32, seed=None, "
          "name=None) takes one shape.",
          probe=_rand_probe, expect=lambda: [[2000, 3], True, 0.5], tol=Tol(0.0, 0.03)),
    Entry("matmul", SECTION, "matmul(a, b)",
          "Matrix product of 1-D or 2-D operands (1-D act as vectors, as in NumPy's dot): "
          "MXNet np.dot, PyTorch torch.matmul, TensorFlow tf.matmul (transpose_a=, "
          "transpose_b=, ... keywords), extended to 1-D operands when called with just two. "
          "Operands whose inner axes differ raise ValueError naming them, in all three.",
          reference=np.dot, inputs=matrices_for_product, edges=_empty_products,
          call=lambda b, x, y: b.numpy(b.d2l.matmul(b.tensor(x), b.tensor(y))),
          tol=Tol(1e-5, 1e-5),
          rejects=(Reject("inner dimensions differ",
                          lambda b: (b.tensor(np.ones((2, 3), "f")),
                                     b.tensor(np.ones((2, 3), "f"))), match="b"),)),
    Entry("int32", SECTION, "int32", "The framework's int32 dtype (used with astype).",
          probe=_dtype_probe, expect=lambda: ["int32", [1, -2], "float32"], tol=EXACT),
    Entry("float32", SECTION, "float32", "The framework's float32 dtype (used with astype).",
          probe=_dtype_probe, expect=lambda: ["int32", [1, -2], "float32"], tol=EXACT),
    Entry("concat", SECTION, "concat(tensors, axis)",
          "Join tensors along an existing axis: np.concatenate(seq, axis=0), torch.cat("
          "tensors, dim=0) (keyword axis= too), tf.concat(values, axis) (axis required).",
          reference=lambda xs, axis: np.concatenate(xs, axis=axis),
          inputs=lambda: same_shape_arrays(), edges=_empty_joins, call=_call_list("concat"),
          tol=EXACT),
    Entry("stack", SECTION, "stack(tensors, axis=0)",
          "Join tensors along a new axis: np.stack(arrays, axis=0), torch.stack(tensors, "
          "dim=0) (keyword axis= too), tf.stack(values, axis=0).",
          reference=lambda xs, axis: np.stack(xs, axis=axis),
          inputs=lambda: same_shape_arrays(), edges=_empty_joins, call=_call_list("stack"),
          tol=EXACT),
    Entry("eye", SECTION, "eye(n)", "The n x n identity matrix.",
          reference=lambda n: np.eye(n), inputs=lambda: st.tuples(st.integers(1, 8)),
          edges=lambda: st.tuples(st.integers(0, 1)),
          call=lambda b, n: b.numpy(b.d2l.eye(n)), tol=EXACT),
    Entry("numpy", SECTION, "numpy(x)",
          "A NumPy ndarray copy of x (PyTorch: detached and moved to the CPU).",
          probe=_numpy_probe,
          expect=lambda: ["ndarray", np.arange(6, dtype=np.float32).reshape(2, 3)], tol=EXACT),
    Entry("size", SECTION, "size(x)", "Number of elements as a Python int.",
          reference=lambda x: x.size, inputs=lambda: st.tuples(arrays()),
          edges=lambda: st.tuples(edge_arrays()),
          call=lambda b, x: _python_int(b.d2l.size(b.tensor(x))), tol=EXACT),
    Entry("reshape", SECTION, "reshape(x, shape) | MXNet, PyTorch: reshape(x, *shape)",
          "x with a new shape: one tuple in all three (TensorFlow tf.reshape(tensor, shape, "
          "name=None)); MXNet's and PyTorch's x.reshape also take separate ints.",
          reference=lambda x, shape: np.stack([x.reshape(shape)] * 2),
          inputs=reshapes, edges=_empty_reshapes,
          call=lambda b, x, shape: np.stack([b.numpy(b.d2l.reshape(b.tensor(x), shape)),
                                             b.numpy(call(b, "reshape", b.tensor(x), shape))]),
          tol=EXACT),
    Entry("to", SECTION, "to(x, device)", "A copy of x on the given device.",
          probe=_to_probe, expect=lambda: np.arange(6, dtype=np.float32).reshape(2, 3),
          tol=EXACT),
    Entry("reduce_sum", SECTION, "reduce_sum(x, axis=None)",
          "Sum of all elements (0-d result) or along `axis`: x.sum(axis=None, keepdims="
          "False) in MXNet, x.sum(dim=None, keepdim=False) in PyTorch (axis=/keepdims= "
          "too), tf.reduce_sum(input_tensor, axis=None, keepdims=False) in TensorFlow.",
          reference=lambda x, axis: np.sum(x.astype(np.float64), axis=axis),
          inputs=array_and_axis, edges=_edge_axis,
          call=lambda b, x, axis: b.numpy(call(b, "reduce_sum", b.tensor(x), axis)),
          tol=Tol(1e-5, 1e-4)),
    Entry("argmax", SECTION, "argmax(x, axis=None)",
          "Index (int64) of the largest element of the flattened tensor (axis None) or along "
          "`axis`: x.argmax(axis=None) in MXNet, x.argmax(dim=None, keepdim=False) in "
          "PyTorch (axis= too). TensorFlow's alias is tf.argmax(input, axis=None, "
          "output_type=tf.int64): axis None means axis 0, as in the book's TensorFlow code, "
          "so the flattened index is argmax(reshape(x, [-1])) there. Being the frameworks' "
          "own functions, the aliases keep their own answers where NumPy's is not shared: "
          "argmax of an empty tensor is an error in all three (of different types), and "
          "with NaN TensorFlow may not pick the NaN; neither is specified here.",
          reference=lambda x, axis: np.argmax(x, axis=axis),
          inputs=lambda: array_and_axis(unique=True),
          call=lambda b, x, axis: b.numpy(call(b, "argmax", b.tensor(x), axis)), tol=EXACT),
    Entry("astype", SECTION, "astype(x, dtype)",
          "x cast to dtype; float to int32 truncates toward zero.",
          reference=lambda x: x.astype(np.int32), inputs=lambda: st.tuples(arrays()),
          edges=lambda: st.tuples(edge_arrays(non_finite=False)),
          call=lambda b, x: b.numpy(b.d2l.astype(b.tensor(x), b.d2l.int32)), tol=EXACT),
    Entry("transpose", SECTION, "transpose(x)",
          "x with all axes reversed (the matrix transpose of a 2-D tensor).",
          reference=lambda x: x.T, inputs=lambda: st.tuples(arrays(max_dims=2)),
          edges=lambda: st.tuples(edge_arrays(max_dims=2)),
          call=lambda b, x: b.numpy(b.d2l.transpose(b.tensor(x))), tol=EXACT),
]


def _python_int(n):
    if not isinstance(n, int):
        raise TypeError(f"size must return a Python int, got {type(n).__name__}")
    return n
