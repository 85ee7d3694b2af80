"""Independent NumPy oracles of three training loops (`spec.training_reference`): each
framework's train_seq2seq (9.7), train_ch6 with LeNet (6.6) and train_ch8 with the concise
RNNModel (8.6), from canonical weights, against float64 NumPy with gradients from
`spec.autodiff` (itself checked op by op against finite differences). A bug all three
frameworks share fails here, where the cross-framework tests would pass. Each oracle is also
shown to reject a wrong hyper-parameter (lr 10% off, clipping off)."""

import contextlib
import io

import numpy as np
import pytest

from d2l.common import language_models
from spec import autodiff as ad
from spec import canonical, support
from spec import modern_rnns as s2s
from spec import recurrent_neural_networks as rnn
from spec import training_reference as tr
from spec.convolutional_neural_networks import run_train_ch6

# ------------------------------------------------------------------ the autodiff itself


def _rng_array(rng, *shape):
    return rng.normal(0, 1, shape)


OPS = {  # name: (function of Tensors, the input arrays)
    "add (broadcast)": (lambda a, b: a + b, [(3, 4), (4,)]),
    "sub": (lambda a, b: a - b, [(3, 1), (3, 4)]),
    "rsub": (lambda a: 1 - a, [(2, 3)]),
    "mul (broadcast)": (lambda a, b: a * b, [(2, 3, 4), (3, 1)]),
    "matmul (batched)": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "getitem (gather, repeats)": (lambda a: a[np.array([[0, 2], [2, 2]])], [(3, 4)]),
    "getitem (pairs)": (lambda a: a[np.arange(3), np.array([1, 0, 1])], [(3, 2)]),
    "getitem (slices)": (lambda a: a[:, 1:3], [(2, 4)]),
    "reshape": (lambda a: a.reshape(3, -1), [(2, 3, 2)]),
    "transpose": (lambda a: a.transpose(2, 0, 1), [(2, 3, 4)]),
    "sum": (lambda a: a.sum(), [(2, 3)]),
    "tanh": (ad.tanh, [(2, 3)]),
    "sigmoid": (ad.sigmoid, [(2, 3)]),
    "relu": (ad.relu, [(3, 4)]),
    "log_softmax": (ad.log_softmax, [(2, 3, 5)]),
    "concat": (lambda a, b: ad.concat([a, b], axis=1), [(2, 3), (2, 2)]),
    "conv2d (padding 1)": (lambda x, w, b: ad.conv2d(x, w, b, 1), [(2, 2, 5, 4), (3, 2, 3, 3),
                                                                   (3,)]),
    "conv2d (no padding)": (lambda x, w, b: ad.conv2d(x, w, b, 0), [(1, 1, 4, 4),
                                                                    (2, 1, 2, 2), (2,)]),
    "avg_pool2d": (lambda x: ad.avg_pool2d(x, 2), [(2, 3, 4, 6)]),
}


@pytest.mark.parametrize("name", list(OPS))
def test_autodiff_op_matches_finite_differences(name):
    """d/dx Σ op(x) · W against central differences, for every entry of every input
    (relu's inputs kept away from its kink)."""
    fn, shapes = OPS[name]
    rng = np.random.default_rng(len(name))
    inputs = [_rng_array(rng, *shape) for shape in shapes]
    if name == "relu":
        inputs[0] += np.sign(inputs[0]) * 0.1
    W = _rng_array(rng, *fn(*map(ad.Tensor, inputs)).shape)

    def f(arrays):
        return float((fn(*map(ad.Tensor, arrays)) * W).sum().value)

    leaves = [ad.Tensor(x) for x in inputs]
    grads = ad.grads((fn(*leaves) * W).sum(), leaves)
    for i, x in enumerate(inputs):
        numeric = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            shifted = [a.copy() for a in inputs]
            shifted[i][idx] += 1e-6
            up = f(shifted)
            shifted[i][idx] -= 2e-6
            numeric[idx] = (up - f(shifted)) / 2e-6
        np.testing.assert_allclose(grads[i], numeric, rtol=1e-6, atol=1e-8,
                                   err_msg=f"{name}: input {i}")


def test_autodiff_accumulates_over_shared_subgraphs():
    """A value used on two paths of different depth gets both contributions (the order of
    the backward pass is topological, whatever order the parents are listed in)."""
    x = ad.Tensor(np.array([0.5, -1.0]))
    a = ad.tanh(x)
    y = (a * ad.tanh(a)).sum()  # a reached directly and through tanh(a)
    (g,) = ad.grads(y, [x])
    t = np.tanh([0.5, -1.0])
    np.testing.assert_allclose(g, (np.tanh(t) + t * (1 - np.tanh(t) ** 2)) * (1 - t ** 2))


# ------------------------------------------------------------------ 9.7 train_seq2seq

SIZES = s2s.TOY_SIZES
EQUAL_TOKENS = [s2s.toy_batch(1, valid_lens=[5, 3, 2, 4]),
                s2s.toy_batch(2, valid_lens=[4, 4, 3, 3])]  # 14 target tokens each
SEQ2SEQ_RUN = dict(lr=0.05, num_epochs=10)
SEQ2SEQ_TOL = dict(history=2e-5, weights=1e-4)


def test_numpy_seq2seq_loss_is_the_spec_forward_pass():
    """The autodiff loss of one batch is the spec's teacher-forcing loss (spec.modern_rnns)
    times the token count."""
    params, batch = s2s.seq2seq_params(SIZES, seed=8), EQUAL_TOKENS[0]
    loss = tr.seq2seq_batch_loss(tr.tensors(params), batch).value
    np.testing.assert_allclose(loss / 14, s2s.teacher_forcing_loss(params, batch), rtol=1e-12)


def _seq2seq_oracle(name, **changes):
    """The NumPy train_seq2seq with framework `name`'s convention; `changes` alter lr or
    theta. Returns (per-epoch loss per token, final params)."""
    run = {**SEQ2SEQ_RUN, "theta": 1.0, **changes}
    return tr.train_seq2seq(s2s.seq2seq_params(SIZES, seed=8), EQUAL_TOKENS, run["lr"],
                            run["num_epochs"], tr.SEQ2SEQ_CONVENTIONS[name], run["theta"])


def _max_rel(a, b):
    """The largest relative difference of a from b (arrays or lists of numbers)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def _max_abs(trained, expected):
    """The largest absolute difference of the exported weights from the oracle's, over
    the oracle's keys."""
    return max(float(np.max(np.abs(trained[k] - v))) for k, v in expected.items())


@pytest.mark.filterwarnings("ignore:Attempting to set identical")  # xlim [10, 10]
def test_train_seq2seq_follows_the_numpy_oracle(backend):
    """From canonical weights on two batches of 14 target tokens, 10 epochs of Adam(0.05)
    with clipping to norm 1: every epoch's loss per token is the oracle's with the
    framework's convention (relative 2e-5; measured 1e-7 P, 5e-6 M, 4e-6 T) and so are the
    trained weights (absolute 1e-4; measured 8e-7 P, 1.5e-5 M and T). lr 10% off, no
    clipping (measured 5% and 2% off), or another framework's Adam convention (measured
    1.5e-4 to 5.6e-4 off) leave the history beyond 5x that tolerance."""
    params = s2s.seq2seq_params(SIZES, seed=8)
    history, _, _, net = s2s.run_train_seq2seq(backend, params, SIZES, EQUAL_TOKENS,
                                               SEQ2SEQ_RUN["lr"], SEQ2SEQ_RUN["num_epochs"])
    expected, weights = _seq2seq_oracle(backend.name)
    assert _max_rel(history, expected) < SEQ2SEQ_TOL["history"]
    assert _max_abs(backend.d2l.export_params(net), weights) < SEQ2SEQ_TOL["weights"]
    others = [name for name in tr.SEQ2SEQ_CONVENTIONS if name != backend.name]
    for wrong in (dict(lr=0.055), dict(theta=np.inf), *(dict(name=n) for n in others)):
        assert _max_rel(history, _seq2seq_oracle(**{"name": backend.name, **wrong})[0]) > \
            5 * SEQ2SEQ_TOL["history"], wrong


# ------------------------------------------------------------------ 6.6 train_ch6, LeNet

LENET_SHAPE = (1, 28, 28)


def _fashion_arrays(n, seed):
    x, y = support.synthetic_fashion_mnist(n, seed)
    return (x[:, None] / np.float32(255)).astype(np.float32), y.astype(np.int64)


def test_train_ch6_lenet_follows_the_numpy_oracle(backend):
    """LeNet from canonical weights, SGD(0.9) on 4 unshuffled batches of 32, 2 epochs: the
    plotted train loss is the oracle's (relative 1e-4; measured 2e-7 P, 5e-6 M, 1.2e-7 T),
    train and test accuracy are equal. lr 10% off moves the losses by 9%."""
    train, test = _fashion_arrays(128, 0), _fashion_arrays(64, 1)
    params = canonical.init_model(canonical.LENET, LENET_SHAPE, seed=0)
    history, _ = run_train_ch6(backend, canonical.LENET, params, LENET_SHAPE, train, test,
                               0.9, 2, 32)
    batches = [(train[0][i:i + 32], train[1][i:i + 32]) for i in range(0, 128, 32)]
    expected, _ = tr.train_ch6(canonical.LENET, params, batches, test, 0.9, 2)
    history, expected = np.array(history), np.array(expected)
    assert _max_rel(history[:, 0], expected[:, 0]) < 1e-4
    np.testing.assert_array_equal(history[:, 1:], expected[:, 1:])
    wrong, _ = tr.train_ch6(canonical.LENET, params, batches, test, 0.99, 2)
    assert _max_rel(history[:, 0], np.array(wrong)[:, 0]) > 1e-3


# ------------------------------------------------------------------ 8.6 RNNModel, train_ch8

VOCAB_SIZE, HIDDEN, BATCH, STEPS = len(rnn.CHARS), 16, 8, 6
RNN_ACTIVATION = {"mxnet": "relu", "torch": "tanh", "tensorflow": "tanh"}  # Gluon: ReLU
RNN_BIASES = {"mxnet": 2, "torch": 2, "tensorflow": 1}  # Keras: one bias


def _rnn_model_params(seed=3):
    """Canonical RNNModel params: layer 0 a one-layer RNN, layer 1 the dense output."""
    rng = np.random.default_rng(seed)
    params = canonical.init_recurrent("rnn", VOCAB_SIZE, HIDDEN, seed=seed, k=0, scale=0.5)
    params["1.weight"] = rng.normal(0, 0.5, (HIDDEN, VOCAB_SIZE)).astype(np.float32)
    params["1.bias"] = rng.normal(0, 0.5, VOCAB_SIZE).astype(np.float32)
    return params


def _rnn_model(b, params):
    """The book's RNNModel (8.6) in backend b with `params` imported: Gluon's rnn.RNN
    (ReLU by default, as the book builds it), nn.RNN, Keras SimpleRNN."""
    d2l, ids = b.d2l, rnn.token_ids(b, np.zeros((BATCH, STEPS)))
    if b.name == "mxnet":
        net = d2l.RNNModel(b.fw.gluon.rnn.RNN(HIDDEN), VOCAB_SIZE)
        net.initialize(ctx=b.device)
        net(ids, net.begin_state(batch_size=BATCH, ctx=b.device))
    elif b.name == "torch":
        net = d2l.RNNModel(b.fw.nn.RNN(VOCAB_SIZE, HIDDEN), VOCAB_SIZE).to(b.device)
    else:
        net = d2l.RNNModel(b.fw.keras.layers.SimpleRNN(HIDDEN, return_sequences=True,
                                                          return_state=True), VOCAB_SIZE)
        net(ids, net.begin_state(batch_size=BATCH, dtype=b.fw.float32))
    d2l.import_params(net, params)
    return net


@contextlib.contextmanager
def _recorded_perplexities(b, net, params):
    """Record the perplexity of every epoch train_ch8 runs; in MXNet, re-import `params`
    after train_ch8's Normal(0.01) re-initialisation of a Gluon block."""
    original, perplexities = language_models.train_ch8, []

    def loop(train_epoch, *args, **kwargs):
        def recorded():
            perplexities.append(train_epoch()[0])
            return perplexities[-1], 1.0

        return original(recorded, *args, **kwargs)

    language_models.train_ch8 = loop
    if b.name == "mxnet":
        initialize = net.initialize
        net.initialize = lambda *args, **kwargs: (initialize(*args, **kwargs),
                                                  b.d2l.import_params(net, params))
    try:
        yield perplexities
    finally:
        language_models.train_ch8 = original


def test_train_ch8_rnn_model_follows_the_numpy_oracle(backend):
    """RNNModel from canonical weights, train_ch8 with lr 1 for 2 epochs of adjacent batches
    (8 x 6; the weights' scale makes clipping act): every epoch's perplexity (relative 2e-5;
    measured 2.4e-6 P, 9e-7 M, 3e-7 T) and the trained weights (absolute 1e-4; measured
    1.3e-5 P, 8e-7 M, 1.9e-5 T) are the oracle's with the framework's layer: tanh (Gluon's
    default ReLU in MXNet), bias_ih and bias_hh each stepped by the bias gradient (Keras:
    its one bias, stepped once). lr 10% off, clipping off, or the wrong bias count (in
    Keras: two) leave the oracle by more than 1e-3 (measured: 1% or more)."""
    net = _rnn_model(backend, _rnn_model_params())
    start = backend.d2l.export_params(net)  # Keras: bias_ih + bias_hh in bias_ih
    loader = rnn.SequentialBatches(rnn.CORPUS, BATCH, STEPS, 2, backend)
    with _recorded_perplexities(backend, net, start) as perplexities, \
            contextlib.redirect_stdout(io.StringIO()):
        backend.d2l.train_ch8(net, loader, rnn.VOCAB, 1.0, 2, rnn.train_ch8_device(backend))
    trained = backend.d2l.export_params(net)
    numpy_loader = rnn.SequentialBatches(rnn.CORPUS, BATCH, STEPS, 2)
    epochs = [list(numpy_loader) for _ in range(2)]
    activation, biases = RNN_ACTIVATION[backend.name], RNN_BIASES[backend.name]

    def oracle(lr=1.0, theta=1.0, biases=biases):
        return tr.train_ch8(start, epochs, lr, activation, biases, theta)

    expected, weights = oracle()
    assert _max_rel(perplexities, expected) < 2e-5
    assert _max_abs(trained, weights) < 1e-4
    for wrong in (dict(lr=1.1), dict(theta=np.inf), dict(biases=3 - biases)):
        assert _max_rel(perplexities, oracle(**wrong)[0]) > 1e-4, wrong
