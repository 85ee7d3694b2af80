"""Each backend's aliases take the calls its own framework's book code makes: the framework's
argument order, keyword names and defaults (design.md: aliases keep each framework's call
signature; the spec's `NEUTRAL_CALLS` translates between them). Tests of a framework that is
not under test here are skipped."""

import numpy as np
import pytest

from spec import backends
from spec.aliases import NEUTRAL_CALLS, call


def _framework(name):
    found = [b for b in backends.active() if b.name == name]
    if not found:
        pytest.skip(f"{name} is not under test in this environment")
    return found[0]


@pytest.fixture
def mx():
    return _framework("mxnet")


@pytest.fixture
def pt():
    return _framework("torch")


@pytest.fixture
def tf():
    return _framework("tensorflow")


def _np(b, t):
    return b.numpy(t)


def _assert_gaussian(x, shape, mean, std):
    """Samples of `shape` whose mean and standard deviation are those asked for (each within a
    few standard errors for the sample sizes used here)."""
    assert x.shape == shape
    assert abs(x.mean() - mean) < 0.1 * std
    assert abs(x.std() / std - 1) < 0.1


MATRIX = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], np.float32)


# TensorFlow: tf.random.normal, tf.random.uniform, tf.argmax, tf.reshape, tf.matmul, ...


def test_tensorflow_normal_is_tf_random_normal(tf):
    d2l, fw = tf.d2l, tf.fw
    fw.random.set_seed(0)
    assert tuple(d2l.normal((3, 3, 3), 0, 1).shape) == (3, 3, 3)
    _assert_gaussian(_np(tf, d2l.normal([256, 256], 0, 1)), (256, 256), 0.0, 1.0)
    small = d2l.normal(shape=[2000], stddev=0.01, mean=0, dtype=fw.float32)
    assert small.dtype == fw.float32
    _assert_gaussian(_np(tf, small), (2000,), 0.0, 0.01)
    _assert_gaussian(_np(tf, d2l.normal((4000,), 5.0)), (4000,), 5.0, 1.0)  # stddev=1.0
    assert d2l.normal((2,), dtype=fw.float64).dtype == fw.float64
    fw.random.set_seed(7)
    first = _np(tf, d2l.normal((5,), seed=3))
    fw.random.set_seed(7)
    np.testing.assert_array_equal(first, _np(tf, d2l.normal((5,), seed=3)))


def test_tensorflow_rand_is_tf_random_uniform(tf):
    d2l, fw = tf.d2l, tf.fw
    fw.random.set_seed(0)
    x = _np(tf, d2l.rand((200, 3)))
    assert x.shape == (200, 3) and x.dtype == np.float32 and (x >= 0).all() and (x < 1).all()
    y = _np(tf, d2l.rand([4000], 2, 5))
    assert (y >= 2).all() and (y < 5).all() and abs(y.mean() - 3.5) < 0.1
    z = _np(tf, d2l.rand(shape=(50,), minval=0, maxval=10, dtype=fw.int32))
    assert z.dtype == np.int32 and set(z.tolist()) <= set(range(10))


def test_tensorflow_argmax_is_tf_argmax(tf):
    d2l, fw = tf.d2l, tf.fw
    x = tf.tensor(MATRIX)
    first = d2l.argmax(x)  # tf.argmax: axis None means axis 0
    assert first.dtype == fw.int64 and _np(tf, first).tolist() == [1, 0, 1]
    assert _np(tf, d2l.argmax(x, 1)).tolist() == [1, 0]
    rows = d2l.argmax(x, axis=1, output_type=fw.int32)
    assert rows.dtype == fw.int32 and _np(tf, rows).tolist() == [1, 0]
    assert int(d2l.argmax(d2l.reshape(x, [-1]))) == 3


def test_tensorflow_matmul_takes_tf_matmul_keywords_and_vectors(tf):
    d2l = tf.d2l
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(12, dtype=np.float32).reshape(4, 3)
    ta, tb = tf.tensor(a), tf.tensor(b)
    np.testing.assert_allclose(_np(tf, d2l.matmul(ta, tb, transpose_b=True)), a @ b.T)
    np.testing.assert_allclose(_np(tf, d2l.matmul(ta, ta, transpose_a=True)), a.T @ a)
    np.testing.assert_allclose(_np(tf, d2l.matmul(a=ta, b=tb, transpose_b=True)), a @ b.T)
    v2, v3 = np.array([2, 1], np.float32), np.array([1, -2, 3], np.float32)
    v4 = np.array([1, 0, -1, 2], np.float32)
    batch = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for left, right in [(a, v3), (v2, a), (v3, v3), (batch, v4), (v3, batch)]:
        got = _np(tf, d2l.matmul(tf.tensor(left), tf.tensor(right)))
        np.testing.assert_allclose(got, np.matmul(left, right), rtol=1e-6)


def test_tensorflow_reshape_is_tf_reshape(tf):
    d2l = tf.d2l
    x = tf.tensor(np.arange(6, dtype=np.float32))
    assert tuple(d2l.reshape(x, (2, 3)).shape) == (2, 3)
    assert tuple(d2l.reshape(x, [-1, 1]).shape) == (6, 1)
    assert tuple(d2l.reshape(tensor=x, shape=(3, 2), name="r").shape) == (3, 2)
    assert tuple(d2l.reshape(x, [3, 2], "r").shape) == (3, 2)  # tf.reshape's positional name


def test_tensorflow_joins_reductions_and_casts(tf):
    d2l, fw = tf.d2l, tf.fw
    a, b = tf.tensor(MATRIX), tf.tensor(MATRIX + 10)
    assert tuple(d2l.concat([a, b], 1).shape) == (2, 6)
    assert tuple(d2l.concat([a, b], axis=0).shape) == (4, 3)
    assert tuple(d2l.stack([a, b]).shape) == (2, 2, 3)
    assert tuple(d2l.stack([a, b], axis=2).shape) == (2, 3, 2)
    assert float(d2l.reduce_sum(a)) == MATRIX.sum()
    assert _np(tf, d2l.reduce_sum(a, 0)).tolist() == MATRIX.sum(0).tolist()
    kept = d2l.reduce_sum(a, axis=1, keepdims=True)
    assert _np(tf, kept).tolist() == MATRIX.sum(1, keepdims=True).tolist()
    assert d2l.astype(a, fw.int32).dtype == fw.int32
    assert d2l.astype(a, dtype=fw.float64).dtype == fw.float64
    cube = tf.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    assert tuple(d2l.transpose(cube).shape) == (4, 3, 2)
    assert tuple(d2l.transpose(cube, perm=[1, 0, 2]).shape) == (3, 2, 4)


def test_tensorflow_constructors_keep_tf_keywords(tf):
    d2l, fw = tf.d2l, tf.fw
    assert d2l.tensor([1, 2]).dtype == fw.int32
    assert d2l.tensor([1, 2], dtype=fw.float32).dtype == fw.float32
    assert d2l.tensor(0.0, shape=(2, 2)).shape == (2, 2)
    assert d2l.ones((2, 3), dtype=fw.int32).dtype == fw.int32
    assert _np(tf, d2l.zeros([2])).tolist() == [0.0, 0.0]
    assert d2l.arange(12).dtype == fw.int32
    assert _np(tf, d2l.arange(12)).tolist() == list(range(12))
    assert _np(tf, d2l.arange(1, 10, 3, dtype=fw.float32)).tolist() == [1.0, 4.0, 7.0]
    assert _np(tf, d2l.arange(start=0, limit=4, delta=2)).tolist() == [0, 2]
    assert _np(tf, d2l.linspace(0.0, 1.0, 5)).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert tuple(d2l.eye(2, 3).shape) == (2, 3)
    x, y = d2l.meshgrid(d2l.arange(3), d2l.arange(2))
    assert tuple(x.shape) == (2, 3) and _np(tf, x)[0].tolist() == [0, 1, 2]
    assert tuple(d2l.meshgrid(d2l.arange(3), d2l.arange(2), indexing="ij")[0].shape) == (3, 2)


# PyTorch: torch.normal, torch.rand, torch.cat (dim= or axis=), fluent x.sum/x.argmax, ...


def test_torch_normal_is_torch_normal(pt):
    d2l, fw = pt.d2l, pt.fw
    fw.manual_seed(0)
    _assert_gaussian(_np(pt, d2l.normal(0, 1, (200, 20))), (200, 20), 0.0, 1.0)
    _assert_gaussian(_np(pt, d2l.normal(0, 0.01, size=(4000,))), (4000,), 0.0, 0.01)
    _assert_gaussian(_np(pt, d2l.normal(mean=2.0, std=3.0, size=(4000,))), (4000,), 2.0, 3.0)
    assert d2l.normal(2.0, 3.0, size=(1, 4), dtype=fw.float64).dtype == fw.float64
    per_element = d2l.normal(mean=fw.tensor([0.0, 100.0]), std=fw.tensor([1e-3, 1e-3]))
    np.testing.assert_allclose(_np(pt, per_element), [0.0, 100.0], atol=0.01)


def test_torch_rand_takes_separate_ints_or_a_size(pt):
    d2l, fw = pt.d2l, pt.fw
    fw.manual_seed(0)
    x = _np(pt, d2l.rand(2000, 3))
    assert x.shape == (2000, 3) and (x >= 0).all() and (x < 1).all()
    assert abs(x.mean() - 0.5) < 0.02
    assert tuple(d2l.rand((2, 3)).shape) == (2, 3)
    assert d2l.rand(2, 3, dtype=fw.float64).dtype == fw.float64


def test_torch_concat_and_stack_take_dim_or_axis(pt):
    d2l = pt.d2l
    a, b = pt.tensor(MATRIX), pt.tensor(MATRIX + 10)
    wide = np.concatenate([MATRIX, MATRIX + 10], axis=1)
    assert _np(pt, d2l.concat((a, b), dim=1)).tolist() == wide.tolist()
    assert _np(pt, d2l.concat((a, b), axis=1)).tolist() == wide.tolist()
    assert _np(pt, d2l.concat((a, b), 1)).tolist() == wide.tolist()
    assert tuple(d2l.concat((a, b)).shape) == (4, 3)
    assert tuple(d2l.stack((a, b)).shape) == (2, 2, 3)
    assert tuple(d2l.stack((a, b), dim=2).shape) == (2, 3, 2)
    assert tuple(d2l.stack((a, b), axis=1).shape) == (2, 2, 3)


def test_torch_reduce_sum_and_argmax_take_dim_axis_keepdim(pt):
    d2l, fw = pt.d2l, pt.fw
    x = pt.tensor(MATRIX)
    assert float(d2l.reduce_sum(x)) == MATRIX.sum()
    assert _np(pt, d2l.reduce_sum(x, 0)).tolist() == MATRIX.sum(0).tolist()
    assert _np(pt, d2l.reduce_sum(x, dim=1)).tolist() == MATRIX.sum(1).tolist()
    assert tuple(d2l.reduce_sum(x, dim=1, keepdim=True).shape) == (2, 1)
    assert tuple(d2l.reduce_sum(x, axis=1, keepdims=True).shape) == (2, 1)
    assert float(d2l.reduce_sum(x, dim=(0, 1))) == MATRIX.sum()
    flat = d2l.argmax(x)  # over the flattened tensor
    assert flat.dtype == fw.int64 and int(flat) == 3
    assert _np(pt, d2l.argmax(x, dim=1)).tolist() == [1, 0]
    assert _np(pt, d2l.argmax(x, axis=0)).tolist() == [1, 0, 1]
    assert tuple(d2l.argmax(x, dim=1, keepdim=True).shape) == (2, 1)


def test_torch_tensors_keep_torch_keywords(pt):
    d2l, fw = pt.d2l, pt.fw
    assert d2l.tensor([1, 2]).dtype == fw.int64
    assert d2l.tensor([1, 2], dtype=fw.float32, device="cpu").dtype == fw.float32
    assert tuple(d2l.ones(2, 3).shape) == (2, 3)
    zeros = d2l.zeros((2, 3), dtype=fw.int32, device="cpu")
    assert zeros.dtype == fw.int32 and zeros.device.type == "cpu"
    assert d2l.arange(12).dtype == fw.int64
    assert _np(pt, d2l.arange(0, 1, 0.25)).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert d2l.arange(4, dtype=fw.float32, device="cpu").dtype == fw.float32
    x = pt.tensor(np.arange(6, dtype=np.float32))
    assert tuple(d2l.reshape(x, (3, 2)).shape) == (3, 2)
    assert tuple(d2l.reshape(x, 3, 2).shape) == (3, 2)
    assert d2l.astype(x, fw.int32).dtype == fw.int32
    assert d2l.astype(x, dtype=fw.float64).dtype == fw.float64
    assert d2l.to(x, "cpu", fw.float64).dtype == fw.float64
    assert d2l.to(x, dtype=fw.int32).dtype == fw.int32
    grid_x, _ = d2l.meshgrid(d2l.arange(3), d2l.arange(2))  # the spec's 'xy' default
    assert tuple(grid_x.shape) == (2, 3)
    assert tuple(d2l.meshgrid(d2l.arange(3), d2l.arange(2), indexing="ij")[0].shape) == (3, 2)
    trained = fw.ones(2, 3, requires_grad=True)
    assert d2l.numpy(trained).shape == (2, 3) and d2l.size(trained) == 6


# MXNet: mxnet.np functions (ctx=, dtype=) and fluent array methods.


def test_mxnet_normal_and_rand_are_mxnet_np_random(mx):
    d2l, fw = mx.d2l, mx.fw
    fw.random.seed(0)
    _assert_gaussian(_np(mx, d2l.normal(0, 1, (200, 20))), (200, 20), 0.0, 1.0)
    _assert_gaussian(_np(mx, d2l.normal(0, 0.01, size=(4000,))), (4000,), 0.0, 0.01)
    draws = d2l.normal(loc=2.0, scale=3.0, size=(4000,), dtype="float64", ctx=fw.cpu())
    assert draws.dtype == np.float64
    _assert_gaussian(_np(mx, draws), (4000,), 2.0, 3.0)
    x = _np(mx, d2l.rand(2000, 3, ctx=fw.cpu()))
    assert x.shape == (2000, 3) and (x >= 0).all() and (x < 1).all()
    assert abs(x.mean() - 0.5) < 0.02


def test_mxnet_arrays_keep_ctx_and_dtype(mx):
    d2l, fw = mx.d2l, mx.fw
    assert d2l.tensor([1, 2]).dtype == np.float32
    assert d2l.tensor([1, 2], dtype="int32", ctx=fw.cpu()).dtype == np.int32
    ones = d2l.ones((2, 3), dtype="int32", ctx=fw.cpu())
    assert ones.dtype == np.int32 and ones.ctx == fw.cpu()
    assert d2l.arange(12).dtype == np.float32
    assert _np(mx, d2l.arange(1, 10, 3, dtype="int32", ctx=fw.cpu())).tolist() == [1, 4, 7]
    assert tuple(d2l.eye(2, 3, k=1, ctx=fw.cpu()).shape) == (2, 3)
    x = mx.tensor(MATRIX)
    assert d2l.astype(x, "int32").dtype == np.int32
    assert d2l.astype(x, "float64", copy=False).dtype == np.float64
    assert d2l.to(x, fw.cpu()).ctx == fw.cpu()
    assert tuple(d2l.reshape(x, 3, 2).shape) == (3, 2)
    assert tuple(d2l.reshape(x, (3, 2)).shape) == (3, 2)


def test_mxnet_joins_reductions_and_argmax(mx):
    d2l = mx.d2l
    a, b = mx.tensor(MATRIX), mx.tensor(MATRIX + 10)
    assert tuple(d2l.concat((a, b), axis=1).shape) == (2, 6)
    assert tuple(d2l.concat((a, b), 1).shape) == (2, 6)
    assert tuple(d2l.concat((a, b)).shape) == (4, 3)
    assert tuple(d2l.concat((a, b), axis=None).shape) == (12,)
    assert tuple(d2l.stack((a, b), axis=1).shape) == (2, 2, 3)
    assert float(d2l.reduce_sum(a)) == MATRIX.sum()
    assert tuple(d2l.reduce_sum(a, axis=1, keepdims=True).shape) == (2, 1)
    assert int(d2l.argmax(a)) == 3  # over the flattened array
    assert _np(mx, d2l.argmax(a, axis=1)).tolist() == [1, 0]
    assert _np(mx, d2l.matmul(a, mx.tensor(np.ones(3, np.float32)))).tolist() == [8.0, 10.0]


# The spec's call adapter: one neutral call, each framework's spelling, the same values.


@pytest.mark.parametrize("alias", sorted(NEUTRAL_CALLS))
def test_adapter_spells_every_framework(alias):
    assert set(NEUTRAL_CALLS[alias]) == set(backends.ORDER)


def test_adapter_gives_neutral_meanings(backend):
    x = backend.tensor(MATRIX)
    assert int(call(backend, "argmax", x, None)) == 3
    assert _np(backend, call(backend, "argmax", x, 0)).tolist() == [1, 0, 1]
    assert float(call(backend, "reduce_sum", x, None)) == MATRIX.sum()
    assert tuple(call(backend, "concat", [x, x], 1).shape) == (2, 6)
    assert tuple(call(backend, "stack", [x, x], 1).shape) == (2, 2, 3)
    assert tuple(call(backend, "reshape", x, (3, 2)).shape) == (3, 2)
    assert tuple(call(backend, "rand", (4, 5)).shape) == (4, 5)
    _assert_gaussian(_np(backend, call(backend, "normal", 1.5, 2.0, (4000,))), (4000,), 1.5,
                     2.0)
