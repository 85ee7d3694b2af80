"""Section 8.5 beyond the spec entries: gradient clipping's in-place and norm properties,
predict_ch8 on drawn prefixes, what train_ch8 prints and plots, training on the real Time
Machine loader against NumPy, the concise RNNModel under train_ch8, the GPU, and (slow) the
book's own settings."""

import contextlib
import io
import random
import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from spec import recurrent_neural_networks as rnn
from spec import reference, support
from spec.strategies import arrays, shapes

TIME_MACHINE = "timemachine.txt"
SAMPLE = r"[ a-z]{50}"  # the 50 generated characters (the vocabulary: letters and space)


def _numpy_grads(b, net):
    return [b.numpy(p.grad) for p in net.params]


# ------------------------------------------------------------------ the NumPy oracle


def test_numpy_bptt_gradients_match_finite_differences():
    """The spec's backpropagation through time (the oracle of train_epoch_ch8) against
    central differences of its own loss, for every parameter entry."""
    params = {k: v.astype(np.float64) for k, v in rnn.scratch_params(5, 3, seed=1).items()}
    rng = np.random.default_rng(2)
    X, Y, H = rng.integers(0, 5, (2, 4)), rng.integers(0, 5, (2, 4)), rng.normal(0, 1, (2, 3))
    _, grads, _ = reference.scratch_rnn_grads(params, X, Y, H)
    eps = 1e-6
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            shifted = [dict(params, **{name: value.copy()}) for _ in range(2)]
            shifted[0][name][i] += eps
            shifted[1][name][i] -= eps
            up, down = (reference.scratch_rnn_grads(p, X, Y, H)[0] for p in shifted)
            numeric[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)


# ------------------------------------------------------------------ grad_clipping


@given(grads=st.lists(arrays(shapes(max_dims=2), -3, 3), min_size=1, max_size=4),
       ratio=st.floats(0.05, 5.0))
def test_grad_clipping_bounds_the_norm_and_keeps_directions(backend, grads, ratio):
    """After clipping, the global norm is min(||g||, theta) and every gradient is a
    non-negative multiple of the original (the same multiple for all)."""
    norm = float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads)))
    assume(norm > 1e-3)
    theta = ratio * norm
    if backend.name == "tensorflow":
        clipped = [backend.numpy(g) for g in backend.d2l.grad_clipping(
            [backend.tensor(g) for g in grads], theta)]
    else:
        net = rnn.scratch_with_grads(backend, grads)
        backend.d2l.grad_clipping(net, theta)
        clipped = _numpy_grads(backend, net)
    new_norm = np.sqrt(sum((c.astype(np.float64) ** 2).sum() for c in clipped))
    assert new_norm == pytest.approx(min(norm, theta), rel=1e-5)
    factor = min(1.0, theta / norm)
    for g, c in zip(grads, clipped):
        np.testing.assert_allclose(c, g * factor, rtol=1e-5, atol=1e-6)


def test_grad_clipping_works_in_place_or_returns_new_gradients(backend):
    grads = [np.full((2, 2), 3.0, np.float32), np.full(3, 4.0, np.float32)]
    if backend.name == "tensorflow":
        given_grads = [backend.tensor(g) for g in grads]
        clipped = backend.d2l.grad_clipping(given_grads, 1.0)
        assert isinstance(clipped, list) and len(clipped) == 2
        for g, original in zip(given_grads, grads):  # the inputs are left alone
            np.testing.assert_array_equal(backend.numpy(g), original)
        observed = [backend.numpy(g) for g in clipped]
    else:
        net = rnn.scratch_with_grads(backend, grads)
        buffers = [p.grad for p in net.params]  # read after the call: changed in place
        assert backend.d2l.grad_clipping(net, 1.0) is None
        observed = [backend.numpy(buffer) for buffer in buffers]
    norm = np.sqrt(4 * 9 + 3 * 16)
    for o, g in zip(observed, grads):
        np.testing.assert_allclose(o, g / norm, rtol=1e-6)


@pytest.mark.parametrize("theta", [0, -0.5, "1"])
def test_grad_clipping_names_theta(backend, theta):
    net = [] if backend.name == "tensorflow" else rnn.scratch_with_grads(
        backend, [np.ones(2, np.float32)])
    with pytest.raises(ValueError, match="theta"):
        backend.d2l.grad_clipping(net, theta)


# ------------------------------------------------------------------ predict_ch8

PREDICT_MODEL = dict(rnn.PREDICT_PARAMS, seed=23)


@given(prefix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=8),
       num_preds=st.integers(0, 12))
def test_predict_ch8_extends_the_prefix_greedily(backend, prefix, num_preds):
    params = rnn.scratch_params(**PREDICT_MODEL)
    ids, gap = reference.scratch_rnn_predict(params, [rnn.VOCAB[c] for c in prefix],
                                             num_preds)
    assume(gap > 1e-4)  # float32 may break a near-tie the other way
    net = rnn.scratch_rnn(backend, params)
    out = rnn.predict(backend, prefix, num_preds, net, rnn.VOCAB)
    # One token per generated id: a character, or '<unk>' when the model predicts index 0.
    assert len(ids) == len(prefix) + num_preds and out.startswith(prefix)
    assert out == "".join(rnn.VOCAB.idx_to_token[i] for i in ids)
    if 0 not in ids:
        assert len(out) == len(prefix) + num_preds


# ------------------------------------------------------------------ train_ch8

def _printed_lines(backend, num_epochs):
    """The line patterns train_ch8 prints: the 'time traveller' sample every 10 epochs
    (PyTorch, TensorFlow), then perplexity/speed and the two samples."""
    device = {"mxnet": r"cpu\(0\)", "torch": "cpu", "tensorflow": "/CPU:0"}[backend.name]
    every = [] if backend.name == "mxnet" else ["time traveller" + SAMPLE] * (num_epochs // 10)
    return every + [rf"perplexity \d+\.\d, \d+\.\d tokens/sec on {device}",
                    "time traveller" + SAMPLE, "traveller" + SAMPLE]


def test_train_ch8_prints_plots_and_lowers_the_perplexity(backend):
    """20 epochs on one fixed batch: points at epochs 10 and 20 on the book's axes, the
    perplexity falls below the untrained model's, and the lines printed are the book's."""
    params = rnn.scratch_params(**rnn.TRAIN_SETUP)
    X = np.array(rnn.CORPUS[:60]).reshape(4, 15)
    Y = np.array(rnn.CORPUS[1:61]).reshape(4, 15)
    untrained = np.exp(reference.scratch_rnn_grads(params, X, Y, np.zeros((4, 16)))[0])
    net = rnn.scratch_rnn(backend, params)
    batches = [(rnn.token_ids(backend, X), rnn.token_ids(backend, Y))]
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        backend.d2l.train_ch8(net, batches, rnn.VOCAB, 1.0, 20, rnn.train_ch8_device(backend))
    (fig,) = [plt.figure(n) for n in set(plt.get_fignums()) - before]
    axes = fig.axes[0]
    (line,) = axes.get_lines()
    assert list(line.get_xdata()) == [10, 20]
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_xlim()) == ("epoch", "perplexity",
                                                                       (10.0, 20.0))
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["train"]
    ppl10, ppl20 = line.get_ydata()
    assert ppl20 < ppl10 < untrained
    lines = printed.getvalue().splitlines()
    patterns = _printed_lines(backend, 20)
    assert len(lines) == len(patterns), lines
    for text, pattern in zip(lines, patterns):
        assert re.fullmatch(pattern, text), (pattern, text)
    assert float(re.match(r"perplexity (\S+),", lines[-3]).group(1)) == pytest.approx(
        ppl20, abs=0.051)


def test_train_ch8_with_random_iter_matches_numpy(backend):
    """use_random_iter=True: a fresh state at every batch, shuffled subsequences."""
    params = rnn.scratch_params(**rnn.TRAIN_SETUP)
    batches = rnn.SequentialBatches(rnn.CORPUS, 16, 6, 7, backend, random_iter=True)
    points, _, printed = rnn.run_train_ch8(backend, rnn.scratch_rnn(backend, params),
                                           batches, rnn.VOCAB, 1.0, 10, use_random_iter=True)
    numpy_batches = rnn.SequentialBatches(rnn.CORPUS, 16, 6, 7, random_iter=True)
    for _ in range(10):
        ppl, params = reference.scratch_rnn_epoch(params, list(numpy_batches), 1.0, True)
    assert points[0][0] == 10 and points[0][1] == pytest.approx(ppl, rel=2e-5)
    assert printed.splitlines()[-2:] == [rnn.decode(params, p, 50)
                                         for p in ("time traveller", "traveller")]


class _Recorded:
    """Iterate a loader and keep every epoch's batches as NumPy (for the reference)."""

    def __init__(self, backend, loader):
        self.backend, self.loader, self.epochs = backend, loader, []

    def __iter__(self):
        self.epochs.append([])
        for X, Y in self.loader:
            self.epochs[-1].append((self.backend.numpy(X).astype(np.int64),
                                    self.backend.numpy(Y).astype(np.int64)))
            yield X, Y


def test_train_ch8_on_the_time_machine_loader_matches_numpy(backend):
    """The real pipeline: load_data_time_machine over loopback, its vocabulary, train_ch8 on
    the scratch RNN for 10 epochs; the plotted perplexity and the samples are NumPy's on the
    same batches."""
    with support.shared_data_served(TIME_MACHINE):
        train_iter, vocab = backend.d2l.load_data_time_machine(16, 8, max_tokens=600)
    params = rnn.scratch_params(len(vocab), 16, seed=9, scale=0.1)
    recorded = _Recorded(backend, train_iter)
    random.seed(1)
    points, _, printed = rnn.run_train_ch8(backend, rnn.scratch_rnn(backend, params),
                                           recorded, vocab, 1.0, 10)
    assert len(recorded.epochs) == 10 and all(recorded.epochs)
    for batches in recorded.epochs:
        ppl, params = reference.scratch_rnn_epoch(params, batches, 1.0, False)
    assert points == [[10.0, pytest.approx(ppl, rel=2e-5)]]
    for prefix, line in zip(("time traveller", "traveller"), printed.splitlines()[-2:]):
        ids, gap = reference.scratch_rnn_predict(params, vocab[list(prefix)], 50)
        assert gap > 1e-4
        assert line == "".join(vocab.to_tokens(ids))


def _rnn_model(backend, vocab_size, num_hiddens):
    """The book's concise RNN language model (8.6) with a one-layer tanh RNN."""
    d2l = backend.d2l
    if backend.name == "mxnet":
        return d2l.RNNModel(backend.fw.gluon.rnn.RNN(num_hiddens), vocab_size)
    if backend.name == "torch":
        return d2l.RNNModel(backend.fw.nn.RNN(vocab_size, num_hiddens), vocab_size)
    from tensorflow import keras

    layer = keras.layers.SimpleRNN(num_hiddens, return_sequences=True, return_state=True)
    return d2l.RNNModel(layer, vocab_size)


def test_train_ch8_trains_the_concise_rnn_model(backend):
    """RNNModel (8.6) under train_ch8 for two epochs: the printed perplexity is below the
    perplexity of the model before training (MXNet: after the Normal(0.01) initialisation
    train_ch8 applies)."""
    batches = list(rnn.SequentialBatches(rnn.CORPUS, 8, 6, 2, backend))
    net = _rnn_model(backend, len(rnn.CHARS), 16)
    if backend.name == "mxnet":
        net.initialize(backend.fw.init.Normal(0.01), ctx=backend.device)
    losses = []
    for X, Y in batches:
        state = (net.begin_state(batch_size=8, dtype=backend.fw.float32)
                 if backend.name == "tensorflow" else
                 net.begin_state(batch_size=8, **{"ctx" if backend.name == "mxnet"
                                                  else "device": backend.device}))
        logits = backend.numpy(net(X, state)[0])
        y = backend.numpy(Y).astype(np.int64).T.reshape(-1)
        losses.append(reference.cross_entropy(logits.astype(np.float64), y).mean())
    untrained = np.exp(np.mean(losses))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        backend.d2l.train_ch8(net, batches, rnn.VOCAB, 1.0, 2, rnn.train_ch8_device(backend))
    lines = printed.getvalue().splitlines()
    assert len(lines) == 3 and re.fullmatch("traveller" + SAMPLE, lines[-1])
    trained = float(re.match(r"perplexity (\S+),", lines[0]).group(1))
    assert trained < 0.8 * untrained, (trained, untrained)


# ------------------------------------------------------------------ GPU


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["train_epoch_ch8", "predict_ch8", "train_ch8"])
def test_scratch_rnn_on_the_gpu_matches_numpy(gpu_backend, name):
    """The 8.5 probes with the parameters, states and batches on the GPU (TF32 off)."""
    from spec import ENTRIES
    from spec.entry import check_probe

    if gpu_backend.name == "torch":
        gpu_backend.fw.backends.cuda.matmul.allow_tf32 = False
    elif gpu_backend.name == "tensorflow":
        gpu_backend.fw.config.experimental.enable_tensor_float_32_execution(False)
    (entry,) = [e for e in ENTRIES if e.name == name]
    check_probe(entry, gpu_backend)


# ------------------------------------------------------------------ the book's run


@pytest.mark.slow
def test_train_ch8_reaches_the_books_perplexity(backend):
    """Section 8.5 as printed: 10000 characters, batch 32, 35 steps, 512 hidden units, lr 1,
    500 epochs, weights N(0, 0.01): the perplexity ends near 1 (the book shows 1.0)."""
    with support.shared_data_served(TIME_MACHINE):
        train_iter, vocab = backend.d2l.load_data_time_machine(32, 35)
    net = rnn.scratch_rnn(backend, rnn.scratch_params(len(vocab), 512, seed=0, scale=0.01))
    random.seed(0)
    points, _, printed = rnn.run_train_ch8(backend, net, train_iter, vocab, 1.0, 500)
    assert [x for x, _ in points] == list(range(10, 501, 10))
    assert points[-1][1] < 1.3, points[-10:]
    assert points[-1][1] < points[4][1] / 4  # far below the perplexity after 50 epochs
    assert re.fullmatch("time traveller" + SAMPLE, printed.splitlines()[-2])
