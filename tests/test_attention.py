"""Chapter 10 beyond the spec entries: masked-softmax properties and gradients, the head
reshapes as inverses, canonical parameters of every attention layer, bad inputs at call time,
dropout in training mode, the book's cells with the book's arguments, heatmaps."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec import attention_mechanisms as spec
from spec import reference
from spec.strategies import arrays


@st.composite
def _logits_and_lens(draw):
    batch, n_q, n_k = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 6))
    X = draw(arrays((batch, n_q, n_k), -3e38, 3e38))
    lens = draw(spec.valid_lens(batch, n_q, n_k).filter(lambda v: v is not None))
    return X, lens


def _row_lengths(X, lens):
    """The valid length of every row of 3-D X, broadcast to X.shape[:2]."""
    lens = np.asarray(lens).reshape(X.shape[0], -1)
    return np.broadcast_to(lens, X.shape[:2])


@given(_logits_and_lens())
def test_masked_softmax_masks_exactly_and_stays_finite(backend, case):
    """For any float32 logits (up to ±3e38): finite weights, masked keys exactly 0, rows sum
    to 1, rows without valid keys uniform."""
    X, lens = case
    out = backend.numpy(backend.d2l.masked_softmax(backend.tensor(X),
                                                   spec.lens_tensor(backend, lens)))
    assert np.isfinite(out).all()
    n_k = X.shape[-1]
    keys = np.arange(n_k)
    for row, n in zip(out.reshape(-1, n_k), _row_lengths(X, lens).reshape(-1)):
        if n <= 0:
            np.testing.assert_allclose(row, 1 / n_k, rtol=1e-6)
        else:
            assert (row[keys >= n] == 0).all()
            assert abs(row.sum() - 1) < 1e-5


def test_masked_softmax_gradients_are_finite_and_zero_where_masked(backend):
    """One gradient step through masked_softmax with huge logits and a fully masked row:
    every gradient is finite, masked logits (and the masked row) get none."""
    X = np.array([[[3e38, -3e38, 1.0, 2.0], [-1e30, -2e30, 5.0, 0.0]],
                  [[1.0, 2.0, 3.0, 4.0], [-4.0, 3.0, 2.0, 1.0]]], np.float32)
    lens = np.array([[2, 3], [0, 4]])
    c = backend.tensor(np.arange(4, dtype=np.float32))
    X_param = backend.param(X)
    lens_t = spec.lens_tensor(backend, lens)
    backend.sgd_step(lambda: backend.d2l.reduce_sum(
        backend.d2l.masked_softmax(X_param, lens_t) * c), [X_param], 1.0)
    after = backend.numpy(X_param)
    assert np.isfinite(after).all()
    masked = np.arange(4) >= _row_lengths(X, lens)[..., None]
    np.testing.assert_array_equal(after[masked], X[masked])
    np.testing.assert_array_equal(after[1, 0], X[1, 0])
    assert not np.array_equal(after[1, 1], X[1, 1])


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2 ** 16))
def test_transpose_qkv_and_transpose_output_are_inverses(backend, batch, n, heads, d, seed):
    rng = np.random.default_rng(seed)
    d2l = backend.d2l
    merged = rng.normal(size=(batch, n, heads * d)).astype(np.float32)
    split = rng.normal(size=(batch * heads, n, d)).astype(np.float32)
    there_and_back = d2l.transpose_output(d2l.transpose_qkv(backend.tensor(merged), heads), heads)
    back_and_there = d2l.transpose_qkv(d2l.transpose_output(backend.tensor(split), heads), heads)
    np.testing.assert_array_equal(backend.numpy(there_and_back), merged)
    np.testing.assert_array_equal(backend.numpy(back_and_there), split)


# Sizes of one layer of each kind, the arguments of its forward pass and the canonical
# (name, shape) list its parameters must export to.
_S = {"key_size": 3, "query_size": 2, "value_size": 5, "num_hiddens": 4, "num_heads": 2,
      "bias": True, "ffn_num_input": 4, "ffn_num_hiddens": 6, "ffn_num_outputs": 3, "d": 4,
      "vocab_size": 7, "num_layers": 2}


def _mha_layout(k, input_sizes):
    """W_q, W_k, W_v, W_o (num_hiddens 4, with biases) as canonical layers k..k+3."""
    return [entry for i, size in enumerate(input_sizes)
            for entry in ((f"{k + i}.weight", (size, 4)), (f"{k + i}.bias", (4,)))]


def _block(k):
    return (_mha_layout(k, (4, 4, 4, 4))
            + [(f"{k + 4}.gamma", (4,)), (f"{k + 4}.beta", (4,)),
               (f"{k + 5}.weight", (4, 6)), (f"{k + 5}.bias", (6,)),
               (f"{k + 6}.weight", (6, 4)), (f"{k + 6}.bias", (4,)),
               (f"{k + 7}.gamma", (4,)), (f"{k + 7}.beta", (4,))])


_LAYOUTS = {
    "additive": [("0.weight", (3, 4)), ("1.weight", (2, 4)), ("2.weight", (4, 1))],
    "mha": _mha_layout(0, (2, 3, 5, 4)),
    "ffn": [("0.weight", (4, 6)), ("0.bias", (6,)), ("1.weight", (6, 3)), ("1.bias", (3,))],
    "addnorm": [("0.gamma", (4,)), ("0.beta", (4,))],
    "block": _block(0),
    "encoder": [("0.weight", (7, 4))] + _block(1) + _block(9),
}


def _forward_args(b, kind, rng):
    def t(*shape):
        return b.tensor(rng.normal(size=shape).astype(np.float32))

    lens = spec.lens_tensor(b, np.array([1, 3]))
    return {"additive": lambda: (t(2, 3, 2), t(2, 4, 3), t(2, 4, 5), lens),
            "mha": lambda: (t(2, 3, 2), t(2, 4, 3), t(2, 4, 5), lens),
            "ffn": lambda: (t(2, 3, 4),),
            "addnorm": lambda: (t(2, 3, 4), t(2, 3, 4)),
            "block": lambda: (t(2, 3, 4), lens),
            "encoder": lambda: (b.tensor(rng.integers(0, 7, (2, 3)),
                                         "int64" if b.name == "torch" else "int32"), lens),
            }[kind]()


@pytest.mark.parametrize("kind", _LAYOUTS)
def test_layer_exports_its_own_weights_in_the_canonical_layout(backend, kind):
    """A layer with the framework's own initial weights exports the documented canonical
    names and shapes (in the book's attribute order); importing that export into a second
    layer reproduces the first one's outputs, and exporting again gives it back."""
    rng = np.random.default_rng(0)
    args = _forward_args(backend, kind, rng)
    first = spec.build(backend, kind, _S, None)
    out = backend.numpy(spec.run(backend, first, *args))
    exported = backend.d2l.export_params(first)
    assert [(k, v.shape) for k, v in exported.items()] == _LAYOUTS[kind]
    second = spec.build(backend, kind, _S, exported)
    np.testing.assert_allclose(backend.numpy(spec.run(backend, second, *args)), out,
                               rtol=1e-6, atol=1e-6)
    again = backend.d2l.export_params(second)
    for name, value in exported.items():
        np.testing.assert_array_equal(again[name], value)


def test_attention_layers_reject_mismatched_inputs(backend):
    d2l = backend.d2l

    def t(*shape):
        return backend.tensor(np.zeros(shape, np.float32))

    attention = spec.build(backend, "dot", {}, None)
    with pytest.raises(ValueError, match="queries"):
        spec.run(backend, attention, t(2, 3, 4), t(2, 5, 3), t(2, 5, 2), None)
    with pytest.raises(ValueError, match="keys"):
        spec.run(backend, attention, t(2, 3, 4), t(2, 5, 4), t(2, 6, 2), None)
    with pytest.raises(ValueError, match="queries"):
        spec.run(backend, attention, t(3, 3, 4), t(2, 5, 4), t(2, 5, 2), None)
    with pytest.raises(ValueError, match="valid_lens"):
        spec.run(backend, attention, t(2, 3, 4), t(2, 5, 4), t(2, 5, 2),
                 spec.lens_tensor(backend, np.array([1, 2, 3])))
    addnorm = spec.build(backend, "addnorm", {"d": 4}, None)
    with pytest.raises(ValueError, match="X .* and Y"):
        spec.run(backend, addnorm, t(2, 3, 4), t(2, 2, 4))
    encoding = d2l.PositionalEncoding(4, 0, max_len=5)
    with pytest.raises(ValueError, match="max_len"):
        spec.run(backend, encoding, t(1, 6, 4))
    with pytest.raises(ValueError, match="num_hiddens"):
        spec.run(backend, encoding, t(1, 3, 6))


def _training_call(b, layer, *args):
    """layer(*args) in training mode (dropout on)."""
    if b.name == "tensorflow":
        return layer(*args, training=True)
    if b.name == "torch":
        layer.train()
        return layer(*args)
    with b.fw.autograd.record():
        return layer(*args)


def test_dropout_acts_in_training_mode_only(backend):
    """PositionalEncoding(·, 0.5) in training: each entry of X + P is dropped or doubled;
    DotProductAttention(0.5) keeps the undropped weights in attention_weights."""
    d2l, rng = backend.d2l, np.random.default_rng(1)
    X = rng.normal(size=(2, 30, 8)).astype(np.float32)
    clean = X + reference.positional_encoding(8, 30)
    out = backend.numpy(_training_call(backend, d2l.PositionalEncoding(8, 0.5), backend.tensor(X)))
    dropped = out == 0
    assert 0.2 < dropped.mean() < 0.8
    np.testing.assert_allclose(out[~dropped], 2 * clean[~dropped], rtol=1e-5, atol=1e-5)
    attention = d2l.DotProductAttention(0.5)
    q, k, v = (backend.tensor(rng.normal(size=(2, 3, 4)).astype(np.float32)) for _ in range(3))
    v_ones = backend.tensor(np.ones((2, 3, 1), np.float32))
    trained = backend.numpy(_training_call(backend, attention, q, k, v_ones, None))
    weights = backend.numpy(attention.attention_weights)
    np.testing.assert_allclose(weights.sum(-1), 1, rtol=1e-6)
    assert not np.allclose(trained[..., 0], 1)  # dropout(weights) rows no longer sum to 1
    inferred = backend.numpy(spec.run(backend, attention, q, k, v, None))
    np.testing.assert_allclose(inferred, reference.dot_product_attention(
        *(backend.numpy(a) for a in (q, k, v)), None)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("framework,norm", [("torch", [3, 4]), ("tensorflow", [1, 2])])
def test_addnorm_over_two_trailing_axes(backend, framework, norm):
    """The book's 10.7 cell AddNorm([3, 4]) in PyTorch (a shape) and AddNorm([1, 2]) in
    TensorFlow (axes) normalize (batch, 3, 4) inputs over both trailing axes; canonical
    gamma/beta are (3, 4). (Gluon's LayerNorm normalizes the last axis only.)"""
    if backend.name != framework:
        pytest.skip(f"{framework}'s meaning of normalized_shape")
    rng = np.random.default_rng(2)
    params = {"0.gamma": 1 + rng.normal(0, 0.3, (3, 4)).astype(np.float32),
              "0.beta": rng.normal(0, 0.3, (3, 4)).astype(np.float32)}
    layer = backend.d2l.AddNorm(norm, 0)
    backend.d2l.import_params(layer, params)
    X, Y = (rng.normal(size=(2, 3, 4)).astype(np.float32) for _ in range(2))
    out = backend.numpy(spec.run(backend, layer, backend.tensor(X), backend.tensor(Y)))
    np.testing.assert_allclose(out, reference.add_norm(params, X, Y), rtol=1e-5, atol=1e-5)


def test_book_cells_give_the_books_shapes(backend):
    """Sections 10.3-10.7 with the book's arguments per framework: the shapes the book
    prints."""
    d2l, name = backend.d2l, backend.name
    lens = spec.lens_tensor(backend, np.array([2, 3]))
    weights = d2l.masked_softmax(backend.tensor(np.random.rand(2, 2, 4).astype("f")), lens)
    assert tuple(weights.shape) == (2, 2, 4)
    X = backend.tensor(np.ones((2, 4, 100), "f"))
    Y = backend.tensor(np.ones((2, 6, 100), "f"))
    lens = spec.lens_tensor(backend, np.array([3, 2]))
    if name == "mxnet":
        attention = d2l.MultiHeadAttention(100, 5, 0.5)
        attention.initialize()
        encoder = d2l.TransformerEncoder(200, 24, 48, 8, 2, 0.5)
        encoder.initialize()
    elif name == "torch":
        attention = d2l.MultiHeadAttention(100, 100, 100, 100, 5, 0.5).eval()
        encoder = d2l.TransformerEncoder(200, 24, 24, 24, 24, [100, 24], 24, 48, 8, 2,
                                         0.5).eval()
    else:
        attention = d2l.MultiHeadAttention(100, 100, 100, 100, 5, 0.5)
        encoder = d2l.TransformerEncoder(200, 24, 24, 24, 24, [1, 2], 48, 8, 2, 0.5)
    assert tuple(spec.run(backend, attention, X, Y, Y, lens).shape) == (2, 4, 100)
    ids = backend.tensor(np.ones((2, 100)), "int64" if name == "torch" else "int32")
    assert tuple(spec.run(backend, encoder, ids, lens).shape) == (2, 100, 24)
    assert [tuple(w.shape) for w in encoder.attention_weights] == [(16, 100, 100)] * 2
    encoding = d2l.PositionalEncoding(32, 0)
    P = backend.numpy(encoding.P)
    assert P.shape == (1, 1000, 32)
    np.testing.assert_allclose(P, reference.positional_encoding(32, 1000), rtol=0, atol=6e-8)


def test_show_heatmaps_one_matrix_without_titles():
    """A 1 x 1 grid still gets 2-D axes (squeeze=False): both labels, no title, a colorbar."""
    import matplotlib.pyplot as plt

    from d2l.common.plotting import show_heatmaps

    matrix = np.eye(3).reshape(1, 1, 3, 3)
    assert show_heatmaps(matrix, "Keys", "Queries") is None
    ax, colorbar_axes = plt.gcf().axes
    np.testing.assert_array_equal(ax.images[0].get_array(), np.eye(3))
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("Keys", "Queries", "")
    assert ax.images[0].colorbar is not None and colorbar_axes is not ax


# The book's 10.4 and 10.7 models (decoders written from the book, spec.attention_mechanisms)
# trained by train_seq2seq from the same canonical weights on the same batches. Every batch
# holds 14 target tokens, so MXNet's Trainer.step(num_tokens) rescales every step alike
# (Adam is invariant to that) and the three frameworks take the same steps.
_TOY_BATCHES = ((0, [5, 3, 4, 2]), (1, [2, 4, 3, 5]))
_TRAINED = {}


def _train(backend, kind):
    """(per-epoch loss per token, trained net) of 4 epochs at lr 0.05; trained once per
    backend and model in a session (the cross test reuses the per-backend runs)."""
    from spec import modern_rnns

    if (backend.name, kind) not in _TRAINED:
        batches = [modern_rnns.toy_batch(seed, valid_lens=lens) for seed, lens in _TOY_BATCHES]
        _TRAINED[backend.name, kind] = spec.train_book_model(
            backend, kind, spec.book_model_params(kind), batches, 0.05, 4)
    return _TRAINED[backend.name, kind]


@pytest.mark.parametrize("kind", ["bahdanau", "transformer"])
def test_book_attention_models_learn_and_translate(backend, kind):
    """train_seq2seq lowers the loss of the 10.4 / 10.7 model; predict_seq2seq then collects
    the decoder's attention weights at every step (the book's heatmap input)."""
    from spec import modern_rnns

    history, net = _train(backend, kind)
    assert history[-1] < 0.8 * history[0]
    vocab = modern_rnns.toy_vocab()
    _, steps = modern_rnns.predict(backend, net, "a b c", vocab, vocab, 4, True)
    assert 1 <= len(steps) <= 4
    if kind == "bahdanau":  # one query per step against the 4 source positions
        assert [tuple(w.shape) for step in steps for w in step] == [(1, 1, 4)] * len(steps)
    else:  # [self-attention, encoder-decoder attention] per block; the cache grows by one
        heads = spec.TRANSFORMER["num_heads"]
        for t, (self_attention, cross_attention) in enumerate(steps):
            assert [tuple(w.shape) for w in self_attention] == [(heads, 1, t + 1)] * 2
            assert [tuple(w.shape) for w in cross_attention] == [(heads, 1, 4)] * 2


@pytest.mark.parametrize("kind", ["bahdanau", "transformer"])
def test_book_attention_models_train_alike_across_frameworks(all_backends, kind):
    histories = {b.name: _train(b, kind)[0] for b in all_backends}
    first, *others = all_backends
    for other in others:
        np.testing.assert_allclose(histories[other.name], histories[first.name], rtol=1e-3,
                                   err_msg=f"{kind}: {first.name} vs {other.name}")


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["masked_softmax", "MultiHeadAttention", "TransformerEncoder"])
def test_attention_on_the_gpu_matches_numpy(gpu_backend, name):
    """The spec entries' checks with tensors and layers on the first GPU (TF32 aside, the
    same tolerances)."""
    from spec.entry import check_reference

    (entry,) = [e for e in spec.ENTRIES if e.name == name]
    check_reference(entry, gpu_backend)


def test_non_finite_logits_at_kept_keys_show_as_nan_each_framework_its_way(backend):
    """The one masked_softmax difference the spec leaves (see its entry): a NaN or +inf logit
    at a kept key gives NaN at that key everywhere; PyTorch then fills the whole row with NaN,
    MXNet and TensorFlow give 0 at the row's other keys. Pinned so that a change shows."""
    X = np.array([[1.0, np.nan, 2.0, 3.0], [1.0, np.inf, 2.0, 3.0]], np.float32)
    out = backend.numpy(backend.d2l.masked_softmax(backend.tensor(X),
                                                   backend.tensor(np.array([3.0, 3.0], "f"))))
    assert np.isnan(out[:, 1]).all()
    others = out[:, [0, 2, 3]]
    if backend.name == "torch":
        assert np.isnan(others).all()
    else:
        assert (others == 0).all()
