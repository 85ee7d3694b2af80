"""Canonical parameters of embedding, layer norm and the framework recurrent layers: the same
canonical weights give the NumPy reference's outputs and final states in every framework, and
exporting gives the weights back."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec import canonical, reference
from spec import recurrent_neural_networks as rnn

CASES = [(kind, num_layers, bidirectional) for kind in canonical.RECURRENT_KINDS
         for num_layers in (1, 2) for bidirectional in (False, True)]
IDS = [f"{kind}-{n}layer{'-bi' if bi else ''}" for kind, n, bi in CASES]
TOL = dict(rtol=1e-5, atol=1e-5)


def _inputs(kind, num_layers, bidirectional, sizes, seed):
    """(params, X (num_steps, batch, in), canonical initial state)."""
    num_steps, batch, input_size, num_hiddens = sizes
    params = canonical.init_recurrent(kind, input_size, num_hiddens, num_layers,
                                      bidirectional, seed)
    X = np.random.default_rng(seed).normal(size=(num_steps, batch, input_size))
    state = canonical.init_state(kind, num_layers, bidirectional, batch, num_hiddens, seed)
    return params, X.astype(np.float32), state


def _run(backend, kind, num_layers, bidirectional, sizes, seed, zero_state=False):
    """(params, exported after import, outputs, final state, NumPy's outputs and state)."""
    params, X, state = _inputs(kind, num_layers, bidirectional, sizes, seed)
    layer = canonical.recurrent_layer(backend, kind, sizes[3], num_layers, bidirectional,
                                      input_size=sizes[2])
    canonical.load_recurrent(backend, layer, params)
    exported = canonical.export_recurrent(backend, layer)
    given_state = None if zero_state else state
    out, final = canonical.run_recurrent(backend, layer, kind, X, given_state)
    expected = reference.recurrent(kind, reference.layer_params(params, 0), X, given_state)
    return params, exported, (out, final), expected


def _assert_close(observed, expected, what):
    out, final = observed
    np.testing.assert_allclose(out, expected[0], err_msg=f"{what}: outputs", **TOL)
    finals = final if isinstance(final, tuple) else (final,)
    refs = expected[1] if isinstance(expected[1], tuple) else (expected[1],)
    assert len(finals) == len(refs), what
    for f, r in zip(finals, refs):
        np.testing.assert_allclose(f, r, err_msg=f"{what}: final state", **TOL)


def _assert_round_trip(backend, kind, params, exported):
    """export(import(p)) == p, except Keras' one-bias LSTM/SimpleRNN cells: there bias_ih
    comes back as bias_ih + bias_hh and bias_hh as zeros."""
    assert exported.keys() == params.keys()
    for key, value in params.items():
        expected = value
        if backend.name == "tensorflow" and kind != "gru" and ".bias_" in key:
            if ".bias_hh" in key:
                expected = np.zeros_like(value)
            else:
                expected = value + params[key.replace(".bias_ih", ".bias_hh")]
        np.testing.assert_array_equal(exported[key], expected, err_msg=key)


@pytest.mark.parametrize("kind,num_layers,bidirectional", CASES, ids=IDS)
def test_recurrent_layer_from_canonical_weights_matches_numpy(backend, kind, num_layers,
                                                              bidirectional):
    """Fixed sizes, a random initial state: outputs, final states and the round trip."""
    params, exported, observed, expected = _run(backend, kind, num_layers, bidirectional,
                                                (5, 3, 4, 6), seed=1)
    _assert_close(observed, expected, f"{kind} x{num_layers} bi={bidirectional}")
    _assert_round_trip(backend, kind, params, exported)


def test_recurrent_layer_drawn_sizes_and_zero_state(backend):
    """Hypothesis-drawn kinds and sizes (length-1 sequences and batches included), the
    framework's own zero initial state."""

    @given(st.sampled_from(canonical.RECURRENT_KINDS),
           st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4),
                     st.integers(1, 4)), st.integers(1, 2), st.booleans(),
           st.integers(0, 2**16))
    def check(kind, sizes, num_layers, bidirectional, seed):
        _, _, observed, expected = _run(backend, kind, num_layers, bidirectional, sizes, seed,
                                        zero_state=True)
        _assert_close(observed, expected, f"{kind} {sizes} x{num_layers} bi={bidirectional}")

    check()


@pytest.mark.parametrize("kind,num_layers,bidirectional", CASES, ids=IDS)
def test_recurrent_layers_agree_across_frameworks(all_backends, kind, num_layers,
                                                  bidirectional):
    results = {b.name: _run(b, kind, num_layers, bidirectional, (4, 2, 3, 5), seed=2)[2]
               for b in all_backends}
    first, *others = all_backends
    for other in others:
        _assert_close(results[other.name], results[first.name],
                      f"{first.name} vs {other.name}")


def test_keras_rnn_over_a_cell_equals_the_gru_layer(backend):
    """Keras: RNN(GRUCell) and GRU load and export the same canonical weights."""
    if backend.name != "tensorflow":
        pytest.skip("a Keras layer-structure fact")
    params, X, state = _inputs("gru", 1, False, (3, 2, 4, 5), 3)
    results = []
    for keras_cells in (False, True):
        layer = canonical.recurrent_layer(backend, "gru", 5, keras_cells=keras_cells)
        canonical.load_recurrent(backend, layer, params)
        results.append(canonical.run_recurrent(backend, layer, "gru", X, state))
        assert canonical.export_recurrent(backend, layer).keys() == params.keys()
    _assert_close(results[0], results[1], "GRU vs RNN(GRUCell)")


def test_keras_rejects_what_has_no_canonical_layout(backend):
    if backend.name != "tensorflow":
        pytest.skip("Keras layer options")
    from tensorflow import keras

    L = keras.layers
    with pytest.raises(ValueError, match="reset_after"):
        backend.d2l.export_params(L.GRU(3, reset_after=False))
    with pytest.raises(ValueError, match="Bidirectional"):
        backend.d2l.export_params(L.Bidirectional(L.RNN(L.StackedRNNCells(
            [L.GRUCell(3), L.GRUCell(3)]))))
    with pytest.raises(ValueError, match="one kind"):
        backend.d2l.export_params(L.RNN(L.StackedRNNCells([L.GRUCell(3), L.LSTMCell(3)])))


def _embedding_and_norm(backend, params, dim):
    """Embedding(num, dim) then LayerNorm(dim) (eps 1e-5), loaded with `params`."""
    num = params["0.weight"].shape[0]
    if backend.name == "torch":
        from torch import nn

        net = nn.Sequential(nn.Embedding(num, dim), nn.LayerNorm(dim)).to(backend.device)
    elif backend.name == "mxnet":
        from mxnet.gluon import nn

        net = nn.Sequential()
        net.add(nn.Embedding(num, dim), nn.LayerNorm(epsilon=1e-5))
        net.initialize(ctx=backend.device)
    else:
        from tensorflow import keras

        net = keras.Sequential([keras.layers.Embedding(num, dim),
                                keras.layers.LayerNormalization(epsilon=1e-5)])
    backend.d2l.import_params(net, params)
    return net


def test_embedding_and_layernorm_match_numpy(backend):
    """Embedding (num, dim) rows per id, LayerNorm over the last axis: the same canonical
    weights give NumPy's outputs; export gives the weights back."""

    @given(st.integers(1, 6), st.integers(2, 5), st.integers(0, 2**16))
    def check(num, dim, seed):
        rng = np.random.default_rng(seed)
        params = {"0.weight": rng.normal(size=(num, dim)).astype(np.float32),
                  "1.gamma": rng.normal(1, 0.3, dim).astype(np.float32),
                  "1.beta": rng.normal(0, 0.3, dim).astype(np.float32)}
        ids = rng.integers(0, num, (3, 4))
        net = _embedding_and_norm(backend, params, dim)
        out = backend.numpy(net(backend.tensor(ids, "int64" if backend.name == "torch"
                                               else "int32")))
        embedded = reference.embedding(params["0.weight"], ids)
        expected = reference.layer_norm(embedded, params["1.gamma"], params["1.beta"])
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
        exported = backend.d2l.export_params(net)
        assert exported.keys() == params.keys()
        for key in params:
            np.testing.assert_array_equal(exported[key], params[key])

    check()


def test_layernorm_import_rejects_a_wrong_shape(backend):
    params = {"0.weight": np.zeros((4, 3), np.float32), "1.gamma": np.ones(3, np.float32),
              "1.beta": np.zeros(3, np.float32)}
    net = _embedding_and_norm(backend, params, 3)
    bad = dict(params, **{"0.weight": np.zeros((5, 3), np.float32)})
    with pytest.raises(ValueError, match="0.weight"):
        backend.d2l.import_params(net, bad)


# RNNModel (8.6) in the book's training loop of 8.5

def _rnn_model(backend, kind, params):
    """RNNModel over a one-layer `kind` layer with canonical `params`, vocabulary rnn.CHARS."""
    vocab_size = len(rnn.CHARS)
    layer = canonical.recurrent_layer(backend, kind, params["0.weight_hh_l0"].shape[1],
                                      input_size=vocab_size)
    net = backend.d2l.RNNModel(layer, vocab_size)
    if backend.name == "mxnet":
        net.initialize(force_reinit=True, ctx=backend.device)
    backend.d2l.import_params(net, params)
    return net


def _lm_params(kind, num_hiddens=8, seed=4):
    vocab_size = len(rnn.CHARS)
    params = canonical.init_recurrent(kind, vocab_size, num_hiddens, seed=seed, scale=0.3)
    rng = np.random.default_rng(seed)
    params["1.weight"] = rng.normal(0, 0.3, (num_hiddens, vocab_size)).astype(np.float32)
    params["1.bias"] = np.zeros(vocab_size, np.float32)
    return params


def _concise_loss_and_updater(backend, net, lr):
    """The loss and updater the book's train_ch8 uses for a framework model (without the
    MXNet re-initialisation)."""
    if backend.name == "mxnet":
        from mxnet import gluon

        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
        return gluon.loss.SoftmaxCrossEntropyLoss(), trainer
    if backend.name == "torch":
        import torch

        return torch.nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=lr)
    from tensorflow import keras

    return (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            keras.optimizers.SGD(learning_rate=lr))


def _train_epochs(backend, kind, num_epochs=3, lr=1.0):
    """RNNModel from canonical weights trained by train_epoch_ch8: (perplexity per epoch,
    the weights after training, the net)."""
    net = _rnn_model(backend, kind, _lm_params(kind))
    loss, updater = _concise_loss_and_updater(backend, net, lr)
    # a third of the corpus: Keras spends ~0.1 s per eager step
    batches = rnn.SequentialBatches(rnn.CORPUS[:len(rnn.CORPUS) // 3], rnn.BATCH_SIZE,
                                    rnn.NUM_STEPS, 5, backend)
    ppls = [rnn.train_epoch(backend, net, batches, loss, updater, False)[0]
            for _ in range(num_epochs)]
    return ppls, backend.d2l.export_params(net), net


def test_rnn_model_learns_and_predicts(backend):
    """RNNModel over a GRU in the book's train_epoch_ch8 and predict_ch8: the perplexity
    falls epoch after epoch, and generation gives prefix + num_preds characters."""
    ppls, _, net = _train_epochs(backend, "gru")
    assert all(later < earlier for earlier, later in zip(ppls, ppls[1:])), ppls
    assert ppls[-1] < len(rnn.CHARS), ppls
    text = rnn.predict(backend, "time traveller", 5, net, rnn.VOCAB)
    assert text.startswith("time traveller") and len(text) == len("time traveller") + 5


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_rnn_model_takes_the_books_time_major_keras2_layer(backend, kind):
    """The book's TensorFlow 8.6/9.x layer, `tf.keras.layers.RNN(cell, time_major=True,
    return_sequences=True, return_state=True)`, under tf-keras (Keras 3 has no time_major):
    with the same canonical weights RNNModel gives the logits and states of the batch-major
    layer; the state may be the book's `cell.get_initial_state(batch_size=…, dtype=…)` (a
    tensor for one RNN/GRU cell), `begin_state` gives that state as a list, and the book's
    train_epoch_ch8 lowers the perplexity."""
    if backend.name != "tensorflow":
        pytest.skip("the book's Keras 2 layer is TensorFlow's")
    import tensorflow as tf

    if not tf.keras.layers.Layer.__module__.startswith("tf_keras"):
        pytest.skip("time_major is tf-keras' (TF_USE_LEGACY_KERAS=1, tox -e tensorflow-keras2)")
    params, L = _lm_params(kind), tf.keras.layers
    cell = {"rnn": L.SimpleRNNCell, "gru": L.GRUCell, "lstm": L.LSTMCell}[kind](8)
    book = backend.d2l.RNNModel(L.RNN(cell, time_major=True, return_sequences=True,
                                      return_state=True), len(rnn.CHARS))
    backend.d2l.import_params(book, params)
    batch_major = _rnn_model(backend, kind, params)
    X = tf.constant(np.random.default_rng(0).integers(0, len(rnn.CHARS), (3, 4)), tf.int32)
    book_state = cell.get_initial_state(batch_size=3, dtype=tf.float32)
    begin = book.begin_state(batch_size=3, dtype=tf.float32)
    assert isinstance(begin, list)
    np.testing.assert_array_equal(np.stack(tf.nest.flatten(begin)),
                                  np.stack(tf.nest.flatten(book_state)))
    expected = batch_major(X, batch_major.begin_state(3))
    for got in (book(X, book_state), book(X, begin)):
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-6)
        for g, e in zip(tf.nest.flatten(got[1]), tf.nest.flatten(expected[1]), strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    loss, updater = _concise_loss_and_updater(backend, book, 1.0)
    batches = rnn.SequentialBatches(rnn.CORPUS[:len(rnn.CORPUS) // 3], rnn.BATCH_SIZE,
                                    rnn.NUM_STEPS, 5, backend)
    ppls = [rnn.train_epoch(backend, book, batches, loss, updater, False)[0] for _ in "ab"]
    assert ppls[1] < ppls[0], ppls


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_rnn_model_trains_alike_across_frameworks(all_backends, kind):
    """RNNModel from the same canonical weights, trained by each framework's SGD through
    train_epoch_ch8 on the same batches: the same perplexities and final weights.

    LSTM leaves Keras out: its single bias gets one gradient step where the two biases of
    MXNet/PyTorch get one each (their sum moves twice as far, and the clipping norm counts
    the bias gradient twice), so the trajectories differ from the first step."""
    backends = [b for b in all_backends if kind == "gru" or b.name != "tensorflow"]
    if len(backends) < 2:
        pytest.skip("needs MXNet and PyTorch for LSTM")
    results = {b.name: _train_epochs(b, kind)[:2] for b in backends}
    first, *others = backends
    for other in others:
        (ppl_a, params_a), (ppl_b, params_b) = results[first.name], results[other.name]
        np.testing.assert_allclose(ppl_b, ppl_a, rtol=1e-5, err_msg=f"{first} vs {other}")
        for key in params_a:
            np.testing.assert_allclose(params_b[key], params_a[key], rtol=1e-4, atol=1e-5,
                                       err_msg=f"{key}: {first} vs {other}")


@pytest.mark.slow
def test_rnn_model_learns_with_train_ch8(backend):
    """The book's 8.6 path: RNNModel over a GRU trained by train_ch8 (MXNet re-initialises
    it with Normal(0.01)) drives the perplexity well below the vocabulary size and prints
    the two samples. Slow in TensorFlow (~25 s: Keras calls cost ~60 ms per character
    generated)."""
    net = _rnn_model(backend, "gru", _lm_params("gru", num_hiddens=32))
    batches = rnn.SequentialBatches(rnn.CORPUS, rnn.CH8_BATCH_SIZE, rnn.NUM_STEPS, 5, backend)
    points, labels, printed = rnn.run_train_ch8(backend, net, batches, rnn.VOCAB, 2.0, 10)
    assert labels == ["epoch", "perplexity"]
    assert points[-1][1] < 0.6 * len(rnn.CHARS), points
    assert rnn.TRAIN_CH8_PRINTED.fullmatch(printed), printed
