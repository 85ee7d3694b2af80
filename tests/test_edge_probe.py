"""A broad table of unusual calls (wrong types, empty inputs, out-of-range values, non-finite
numbers), each run in every framework under test.

Each call either raises ValueError/TypeError naming the argument the table gives (the same
type in every framework), or, where the table names none, returns a value that agrees across
frameworks. Any other exception (an AssertionError from Gluon, an IndexError from a PyTorch
dataset, a ZeroDivisionError, ...) fails the test: it means a framework's internals answered
instead of the saved code.
"""

import itertools

import numpy as np
import pytest

from spec.entry import Tol, names, within

F32 = np.float32
NAN, INF = float("nan"), float("inf")


def _tensor_pair(b):
    """Features (4, 2) and labels (4,) as tensors."""
    return b.tensor(np.arange(8, dtype=F32).reshape(4, 2)), b.tensor(np.arange(4, dtype=F32))


def _params(b):
    """One parameter of two ones whose gradient is ones (MXNet, PyTorch keep it on the
    parameter)."""
    p = b.param(np.ones(2, F32))
    if b.name == "mxnet":
        p.grad[:] = 1
    elif b.name == "torch":
        p.grad = b.tensor(np.ones(2, F32))
    return p


def _sgd(b, lr, batch_size):
    p = _params(b)
    if b.name == "tensorflow":
        b.d2l.sgd([p], [b.tensor(np.ones(2, F32))], lr, batch_size)
    else:
        b.d2l.sgd([p], lr, batch_size)
    return b.numpy(p)


def _update(b, batch_size):
    p = _params(b)
    updater = b.d2l.Updater([p], 0.1)
    if b.name == "tensorflow":
        updater(batch_size, [b.tensor(np.ones(2, F32))])
    else:
        updater(batch_size)
    return b.numpy(p)


def _timer_empty(b):
    timer = b.d2l.Timer()
    return [timer.sum(), timer.cumsum(), timer.avg()]


def _animator_grows(b):
    animator = b.d2l.Animator(legend=["a"])
    animator.add(1, [0.5])
    animator.add(2, [0.5, 0.7])


def _lines_drawn(b, *args):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    b.d2l.plot(*args, axes=ax)
    return [len(ax.get_lines()), [len(line.get_xdata()) for line in ax.get_lines()]]


def _batches(b, data_arrays, batch_size):
    return len(list(b.d2l.load_array(data_arrays, batch_size, is_train=False)))


def _images(n):
    return [np.zeros((2, 2), F32)] * n


# (id, the argument the error names or None for a value, call(backend) -> observation)
def _residual(b, num_channels, use_1x1conv=False):
    head = (3,) if b.name == "torch" else ()
    block = b.d2l.Residual(*head, num_channels, use_1x1conv)
    if b.name == "mxnet":
        block.initialize()
    return block


def _residual_widens(b):
    """A 3-channel input into a 6-channel block without the 1x1 shortcut convolution."""
    x = np.ones((1, 3, 4, 4), F32)
    return b.numpy(_residual(b, 6)(b.tensor(x.transpose(0, 2, 3, 1) if b.name == "tensorflow"
                                             else x)))


def _sgd_ungraded(b):
    if b.name == "tensorflow":  # the gradient list misses the second parameter
        return b.d2l.sgd([b.param(np.ones(2, F32))] * 2, [b.tensor(np.ones(2, F32))], 0.1, 2)
    param = b.tensor(np.ones(2, F32))  # a plain tensor: no gradient buffer
    return b.d2l.sgd([param], 0.1, 2)


def _seq2seq_bad_ids(name, index):
    """train_seq2seq for one epoch over two toy batches whose second holds id 99 at X or Y
    (index 0 or 2): TensorFlow runs that batch in its compiled step."""
    from spec import modern_rnns as s2s

    def call(b):
        batches = [list(s2s.toy_batch(0)), list(s2s.toy_batch(1))]
        batches[1][index] = batches[1][index].copy()
        batches[1][index][0, 0] = 99
        params = s2s.seq2seq_params(s2s.TOY_SIZES)
        return s2s.run_train_seq2seq(b, params, s2s.TOY_SIZES, batches, 0.01, 1)[0]
    return name, call


CALLS = [
    # chapters 2-7 and aliases
    ("set_figsize zero width", "figsize", lambda b: b.d2l.set_figsize((0, 2))),
    ("set_figsize string", "figsize", lambda b: b.d2l.set_figsize("big")),
    ("plot 0-d X", "X", lambda b: b.d2l.plot(b.tensor(F32(1)))),
    ("plot 3-D Y", "Y", lambda b: b.d2l.plot(b.tensor(np.ones(3, F32)),
                                              b.tensor(np.ones((1, 1, 3), F32)))),
    ("plot empty series", None, lambda b: _lines_drawn(b, [])),
    ("plot NaN values", None, lambda b: _lines_drawn(b, b.tensor(np.array([1, NAN], F32)))),
    ("show_images 0 rows", "num_rows", lambda b: b.d2l.show_images(_images(1), 0, 2)),
    ("show_images 1.5 columns", "num_cols", lambda b: b.d2l.show_images(_images(1), 1, 1.5)),
    ("show_images negative scale", "scale",
     lambda b: b.d2l.show_images(_images(1), 1, 1, scale=-1)),
    ("show_images too few titles", "titles",
     lambda b: b.d2l.show_images(_images(3), 1, 3, titles=["a"])),
    ("Timer avg of no times", "times", _timer_empty),
    ("Accumulator n 2.5", "n", lambda b: b.d2l.Accumulator(2.5)),
    ("Accumulator adds a string", "args", lambda b: b.d2l.Accumulator(1).add("a")),
    ("Accumulator adds a 2-element tensor", "args",
     lambda b: b.d2l.Accumulator(1).add(b.tensor(np.ones(2, F32)))),
    ("Accumulator adds inf and NaN", None,
     lambda b: _accumulated(b, [INF, NAN, 1.0])),
    ("Animator 0 rows", "nrows", lambda b: b.d2l.Animator(nrows=0)),
    ("Animator add grows the curves", "y", _animator_grows),
    ("synthetic_data 2.5 examples", "num_examples",
     lambda b: b.d2l.synthetic_data(b.tensor(np.ones(2, F32)), 1.0, 2.5)),
    ("synthetic_data no examples", None,
     lambda b: [list(t.shape) for t in b.d2l.synthetic_data(b.tensor(np.ones(2, F32)), 1.0, 0)]),
    ("linreg no examples", None,
     lambda b: b.numpy(b.d2l.linreg(b.tensor(np.ones((0, 2), F32)),
                                    b.tensor(np.ones((2, 1), F32)), 1.0))),
    ("squared_loss sizes differ", "y_hat",
     lambda b: b.d2l.squared_loss(b.tensor(np.ones((2, 1), F32)), b.tensor(np.ones(3, F32)))),
    ("sgd lr string", "lr", lambda b: _sgd(b, "0.1", 4)),
    ("sgd lr NaN", "lr", lambda b: _sgd(b, NAN, 4)),
    ("sgd batch_size 2.5", "batch_size", lambda b: _sgd(b, 0.1, 2.5)),
    ("sgd batch_size True", "batch_size", lambda b: _sgd(b, 0.1, True)),
    ("Updater lr None", "lr", lambda b: b.d2l.Updater([], None)),
    ("Updater batch_size 0", "batch_size", lambda b: _update(b, 0)),
    ("load_array bare tensor", "data_arrays", lambda b: b.d2l.load_array(_tensor_pair(b)[0], 2)),
    ("load_array empty tuple", "data_arrays", lambda b: b.d2l.load_array((), 2)),
    ("load_array 0-d member", "data_arrays",
     lambda b: b.d2l.load_array((b.tensor(F32(1)),), 2)),
    ("load_array unequal lengths", "data_arrays",
     lambda b: b.d2l.load_array((_tensor_pair(b)[0], b.tensor(np.ones(3, F32))), 2)),
    ("load_array batch_size '2'", "batch_size", lambda b: b.d2l.load_array(_tensor_pair(b), "2")),
    ("load_array no examples", None,
     lambda b: _batches(b, (b.tensor(np.ones((0, 2), F32)),), 3)),
    ("load_array no examples, shuffled", None,
     lambda b: len(list(b.d2l.load_array((b.tensor(np.ones((0, 2), F32)),), 3)))),
    ("load_array list of arrays", None, lambda b: _batches(b, list(_tensor_pair(b)), 3)),
    ("load_array of one array yields 1-tuples", None,
     lambda b: [[b.numpy(part) for part in batch]
                for batch in b.d2l.load_array((_tensor_pair(b)[0],), 3, is_train=False)]),
    ("load_data_fashion_mnist batch_size 0", "batch_size",
     lambda b: b.d2l.load_data_fashion_mnist(0)),
    ("load_data_fashion_mnist resize 1.5", "resize",
     lambda b: b.d2l.load_data_fashion_mnist(4, resize=1.5)),
    ("get_fashion_mnist_labels -1", "labels", lambda b: b.d2l.get_fashion_mnist_labels([-1])),
    ("get_fashion_mnist_labels 10", "labels",
     lambda b: b.d2l.get_fashion_mnist_labels(b.labels([3, 10]))),
    ("get_fashion_mnist_labels 2.5", "labels",
     lambda b: b.d2l.get_fashion_mnist_labels(b.tensor(np.array([2.5], F32)))),
    ("get_fashion_mnist_labels NaN", "labels",
     lambda b: b.d2l.get_fashion_mnist_labels(b.tensor(np.array([NAN], F32)))),
    ("get_fashion_mnist_labels 2-D", "labels",
     lambda b: b.d2l.get_fashion_mnist_labels(b.labels([[1, 2]]))),
    ("get_fashion_mnist_labels empty", None, lambda b: b.d2l.get_fashion_mnist_labels([])),
    ("get_fashion_mnist_labels float ids", None,
     lambda b: b.d2l.get_fashion_mnist_labels(b.tensor(np.array([9.0, 0.0], F32)))),
    ("accuracy NaN scores", None,
     lambda b: b.d2l.accuracy(b.tensor(np.array([[NAN, 1], [0, 1], [1, NAN]], F32)),
                              b.labels([0, 1, 0]))),
    ("accuracy no examples", None,
     lambda b: b.d2l.accuracy(b.tensor(np.ones((0, 3), F32)), b.labels([]))),
    ("accuracy inf predictions", None,
     lambda b: b.d2l.accuracy(b.tensor(np.array([[INF], [1]], F32)), b.labels([1, 1]))),
    ("accuracy labels of another length", "y",
     lambda b: b.d2l.accuracy(b.tensor(np.ones((3, 2), F32)), b.labels([0, 1]))),
    ("evaluate_accuracy empty iterator", "data_iter",
     lambda b: b.d2l.evaluate_accuracy(lambda X: X, [])),
    ("evaluate_accuracy no examples", "data_iter",
     lambda b: b.d2l.evaluate_accuracy(
         lambda X: X, b.d2l.load_array((b.tensor(np.ones((0, 2), F32)), b.labels([])), 2))),
    ("train_epoch_ch3 empty iterator", "train_iter",
     lambda b: b.d2l.train_epoch_ch3(lambda X: X, [], None, None)),
    ("train_ch3 num_epochs 0", "num_epochs",
     lambda b: b.d2l.train_ch3(None, [], [], None, 0, None)),
    ("predict_ch3 empty iterator", "test_iter", lambda b: b.d2l.predict_ch3(None, [])),
    ("evaluate_loss empty iterator", "data_iter",
     lambda b: b.d2l.evaluate_loss(lambda X: X, [], None)),
    ("download name None", "name", lambda b: b.d2l.download(None)),
    ("download_extract unregistered", "name", lambda b: b.d2l.download_extract("nope")),
    ("try_gpu -1", "i", lambda b: b.d2l.try_gpu(-1)),
    ("try_gpu '0'", "i", lambda b: b.d2l.try_gpu("0")),
    ("corr2d empty kernel", "K",
     lambda b: b.d2l.corr2d(b.tensor(np.ones((2, 2), F32)), b.tensor(np.ones((1, 0), F32)))),
    ("corr2d empty input", "K",
     lambda b: b.d2l.corr2d(b.tensor(np.ones((0, 3), F32)), b.tensor(np.ones((1, 1), F32)))),
    ("corr2d 1-D input", "X",
     lambda b: b.d2l.corr2d(b.tensor(np.ones(3, F32)), b.tensor(np.ones((1, 1), F32)))),
    ("corr2d inf in X", None,
     lambda b: b.numpy(b.d2l.corr2d(b.tensor(np.array([[INF, 1, 2]], F32)),
                                    b.tensor(np.ones((1, 2), F32))))),
    ("evaluate_accuracy_gpu empty iterator", "data_iter",
     lambda b: b.d2l.evaluate_accuracy_gpu(lambda X: X, [], b.d2l.try_gpu())),
    ("ones with an empty axis", None, lambda b: b.numpy(b.d2l.ones((0, 3)))),
    ("eye(0)", None, lambda b: b.numpy(b.d2l.eye(0))),
    ("linspace of no points", None, lambda b: b.numpy(b.d2l.linspace(0.0, 1.0, 0))),
    ("exp and log of non-finite values", None,
     lambda b: [b.numpy(b.d2l.exp(b.tensor(np.array([INF, -INF, NAN], F32)))),
                b.numpy(b.d2l.log(b.tensor(np.array([0, -1, INF], F32))))]),
    ("matmul with an empty inner axis", None,
     lambda b: b.numpy(b.d2l.matmul(b.tensor(np.ones((2, 0), F32)),
                                    b.tensor(np.ones((0, 3), F32))))),
    ("matmul of unfit operands", "b",
     lambda b: b.d2l.matmul(b.tensor(np.ones((2, 3), F32)), b.tensor(np.ones(2, F32)))),
    ("size of an empty tensor", None, lambda b: b.d2l.size(b.tensor(np.ones((2, 0), F32)))),
    ("corr2d of integers", None,
     lambda b: b.numpy(b.d2l.corr2d(b.tensor(np.arange(9).reshape(3, 3)),
                                    b.tensor(np.array([[1, 0], [0, 1]]))))),
    ("Residual changes channels without use_1x1conv", "use_1x1conv", _residual_widens),
    ("Residual 0 channels", "num_channels", lambda b: _residual(b, 0)),
    ("set_axes legend as one string", "legend",
     lambda b: b.d2l.set_axes(b.d2l.plt.subplots()[1], "x", "y", None, None, "linear",
                              "linear", "curve")),
    ("sgd on a parameter without gradient", "params", _sgd_ungraded),
    ("plot with no formats", "fmts",
     lambda b: b.d2l.plot(b.tensor(np.ones(3, F32)), fmts=())),
    ("plot with one format string", "fmts",
     lambda b: b.d2l.plot(b.tensor(np.ones(3, F32)), fmts="r-")),
    ("Animator legend as one string", "legend", lambda b: b.d2l.Animator(legend="loss")),
    ("synthetic_data w of shape (2, 2)", "w",
     lambda b: b.d2l.synthetic_data(b.tensor(np.ones((2, 2), F32)), 1.0, 3)),
    ("load_array is_train 'no'", "is_train",
     lambda b: b.d2l.load_array(_tensor_pair(b), 2, is_train="no")),
    ("accuracy of 3-D scores", "y_hat",
     lambda b: b.d2l.accuracy(b.tensor(np.ones((2, 2, 2), F32)), b.labels([0, 1]))),
    ("train_ch6 num_epochs 0 before the net is touched", "num_epochs",
     lambda b: b.d2l.train_ch6(None, [], [], 0, 0.1, b.d2l.try_gpu())),
    ("Vocab min_freq '5'", "min_freq", lambda b: b.d2l.Vocab([["a", "b"]], min_freq="5")),
    ("PositionWiseFFN 0 hidden units", "ffn_num_hiddens",
     lambda b: b.d2l.PositionWiseFFN(*((2,) if b.name == "torch" else ()), 0, 2)),
    ("train_seq2seq target id out of range", *_seq2seq_bad_ids("Y", 2)),
    ("train_seq2seq source id out of range", *_seq2seq_bad_ids("X", 0)),
    # chapters 8-10
    ("tokenize one string", "lines", lambda b: b.d2l.tokenize("one line")),
    ("tokenize non-strings", "lines", lambda b: b.d2l.tokenize([1, 2], "char")),
    ("tokenize no lines", None, lambda b: b.d2l.tokenize([])),
    ("Vocab reserved_tokens string", "reserved_tokens",
     lambda b: b.d2l.Vocab([["a"]], reserved_tokens="<pad>")),
    ("Vocab tokens string", "tokens", lambda b: b.d2l.Vocab("abc")),
    ("Vocab of no tokens", None, lambda b: b.d2l.Vocab([]).idx_to_token),
    ("Vocab.to_tokens -1", "indices", lambda b: b.d2l.Vocab([["a"]]).to_tokens(-1)),
    ("Vocab.to_tokens past the end", "indices",
     lambda b: b.d2l.Vocab([["a"]]).to_tokens([0, 2])),
    ("Vocab.to_tokens float", "indices", lambda b: b.d2l.Vocab([["a"]]).to_tokens([1.5])),
    ("count_corpus string", "tokens", lambda b: b.d2l.count_corpus("abc")),
    ("count_corpus lists nested twice", "tokens", lambda b: b.d2l.count_corpus([[["a"]]])),
    ("seq_data_iter_random corpus shorter than a minibatch", None,
     lambda b: len(list(b.d2l.seq_data_iter_random(list(range(5)), 2, 3)))),
    ("seq_data_iter_sequential empty corpus", None,
     lambda b: len(list(b.d2l.seq_data_iter_sequential([], 2, 3)))),
    ("seq_data_iter_random corpus of strings", "corpus",
     lambda b: b.d2l.seq_data_iter_random(["a", "b"], 1, 1)),
    ("seq_data_iter_sequential num_steps 1.5", "num_steps",
     lambda b: b.d2l.seq_data_iter_sequential([1, 2, 3], 1, 1.5)),
    ("grad_clipping theta NaN", "theta", lambda b: _clipped(b, [1.0, 2.0], NAN)),
    ("grad_clipping theta inf", "theta", lambda b: _clipped(b, [1.0, 2.0], INF)),
    ("grad_clipping infinite gradient", None, lambda b: _clipped(b, [INF, 2.0], 1.0)),
    ("grad_clipping NaN gradient", None, lambda b: _clipped(b, [NAN, 2.0], 1.0)),
    ("predict_ch8 empty prefix", "prefix", lambda b: _predict_ch8(b, "", 3)),
    ("predict_ch8 prefix 5", "prefix", lambda b: _predict_ch8(b, 5, 3)),
    ("predict_ch8 num_preds 1.5", "num_preds", lambda b: _predict_ch8(b, "ab", 1.5)),
    ("train_epoch_ch8 no batches", "train_iter",
     lambda b: b.d2l.train_epoch_ch8(None, [], None, None,
                                     *(() if b.name == "tensorflow" else (None,)), False)),
    ("train_ch8 lr NaN", "lr", lambda b: b.d2l.train_ch8(None, [], None, NAN, 1, None)),
    ("preprocess_nmt None", "text", lambda b: b.d2l.preprocess_nmt(None)),
    ("tokenize_nmt bytes", "text", lambda b: b.d2l.tokenize_nmt(b"go\tva")),
    ("tokenize_nmt empty text", None, lambda b: b.d2l.tokenize_nmt("")),
    ("tokenize_nmt num_examples 1.5", "num_examples",
     lambda b: b.d2l.tokenize_nmt("go\tva", 1.5)),
    ("truncate_pad tuple", "line", lambda b: b.d2l.truncate_pad((1, 2), 3, 0)),
    ("truncate_pad num_steps 0", None, lambda b: b.d2l.truncate_pad([1, 2], 0, 0)),
    ("build_array_nmt num_steps 0", None,
     lambda b: [list(t.shape) for t in b.d2l.build_array_nmt([["a"]], _nmt_vocab(b), 0)]),
    ("build_array_nmt num_steps -1", "num_steps",
     lambda b: b.d2l.build_array_nmt([["a"]], _nmt_vocab(b), -1)),
    ("load_data_nmt num_steps -1", "num_steps", lambda b: b.d2l.load_data_nmt(2, -1)),
    ("bleu pred_seq None", "pred_seq", lambda b: b.d2l.bleu(None, "a", 1)),
    ("bleu label_seq list", "label_seq", lambda b: b.d2l.bleu("a", ["a"], 1)),
    ("bleu k 2.5", "k", lambda b: b.d2l.bleu("a b", "a b", 2.5)),
    ("bleu empty prediction", None, lambda b: b.d2l.bleu("", "a", 1)),
    ("sequence_mask fractional and NaN lengths", None,
     lambda b: b.numpy(b.d2l.sequence_mask(b.tensor(np.ones((3, 4), F32)),
                                           b.tensor(np.array([2.5, NAN, -1], F32))))),
    ("MaskedSoftmaxCELoss label -1", "label", lambda b: _masked_ce(b, [[0, -1]], [2])),
    ("MaskedSoftmaxCELoss label = vocab_size", "label", lambda b: _masked_ce(b, [[3, 0]], [2])),
    ("MaskedSoftmaxCELoss NaN logits at a masked step", None,
     lambda b: _masked_ce(b, [[1, 2]], [1], masked_logit=NAN)),
    ("masked_softmax infinite logit at a masked key", None,
     lambda b: b.numpy(b.d2l.masked_softmax(b.tensor(np.array([[1, 2, INF]], F32)),
                                            b.tensor(np.array([1.5], F32))))),
    ("masked_softmax NaN logit at a masked key", None,
     lambda b: b.numpy(b.d2l.masked_softmax(b.tensor(np.array([[[1, NAN]], [[NAN, 0]]], F32)),
                                            b.tensor(np.array([1, 0], F32))))),
    ("transpose_qkv num_heads 0", "num_heads",
     lambda b: b.d2l.transpose_qkv(b.tensor(np.ones((1, 2, 4), F32)), 0)),
    ("transpose_output num_heads 1.5", "num_heads",
     lambda b: b.d2l.transpose_output(b.tensor(np.ones((2, 2, 4), F32)), 1.5)),
    ("PositionalEncoding odd num_hiddens", "num_hiddens",
     lambda b: b.d2l.PositionalEncoding(5, 0)),
    ("PositionalEncoding max_len 0", "max_len", lambda b: b.d2l.PositionalEncoding(4, 0, 0)),
    ("DotProductAttention dropout 1", "dropout", lambda b: b.d2l.DotProductAttention(1.0)),
    ("AddNorm dropout -0.5", "dropout",
     lambda b: b.d2l.AddNorm(*(() if b.name == "mxnet" else ([2],)), -0.5)),
    ("Seq2SeqEncoder dropout NaN", "dropout", lambda b: b.d2l.Seq2SeqEncoder(5, 2, 3, 2, NAN)),
    ("Seq2SeqEncoder dropout '0.1'", "dropout",
     lambda b: b.d2l.Seq2SeqEncoder(5, 2, 3, 2, "0.1")),
    ("RNNModelScratch id -1", "X", lambda b: _scratch_rnn(b, [[0, -1]])),
    ("RNNModelScratch id = vocab_size", "X", lambda b: _scratch_rnn(b, [[3, 0]])),
    ("RNNModelScratch NaN id", "X", lambda b: _scratch_rnn(b, np.array([[NAN, 0]], F32))),
    ("Seq2SeqEncoder id = vocab_size", "X", lambda b: _seq2seq_encoder(b, [[1, 5]])),
    ("Seq2SeqEncoder id -2", "X", lambda b: _seq2seq_encoder(b, [[-2, 1]])),
]


def _scratch_rnn(b, X):
    """Logits of the book's scratch RNN (vocabulary 3, 2 hidden units) on ids X."""
    from spec.recurrent_neural_networks import scratch_params, scratch_rnn

    X = np.asarray(X)
    net = scratch_rnn(b, scratch_params(3, 2, 0))
    return b.numpy(net(b.tensor(X, "float32" if X.dtype.kind == "f" else "int32"),
                       (b.tensor(np.zeros((len(X), 2), F32)),))[0])


def _seq2seq_encoder(b, X):
    """A Seq2SeqEncoder (vocabulary 5) run on ids X."""
    encoder = b.d2l.Seq2SeqEncoder(5, 2, 3, 1)
    if b.name == "mxnet":
        encoder.initialize()
    encoder(b.tensor(X, "int32"))


def _clipped(b, grad, theta):
    """grad_clipping of one gradient, read back (as TensorFlow returns it: a list)."""
    grad = np.array(grad, F32)
    if b.name == "tensorflow":
        return [b.numpy(g) for g in b.d2l.grad_clipping([b.tensor(grad)], theta)]
    p = b.param(np.zeros(2, F32))
    if b.name == "mxnet":
        p.grad[:] = b.tensor(grad)
    else:
        p.grad = b.tensor(grad)
    b.d2l.grad_clipping(type("Net", (), {"params": [p]})(), theta)
    return [b.numpy(p.grad)]


def _predict_ch8(b, prefix, num_preds):
    device = () if b.name == "tensorflow" else (None,)
    return b.d2l.predict_ch8(prefix, num_preds, None, b.d2l.Vocab([["a"]]), *device)


def _nmt_vocab(b):
    return b.d2l.Vocab([["a"]], reserved_tokens=["<pad>", "<bos>", "<eos>"])


def _masked_ce(b, label, valid_len, masked_logit=0.0):
    """MaskedSoftmaxCELoss of logits (1, 2, 3) (step 1 set to `masked_logit`) in the book's
    call of each framework."""
    pred = np.arange(6, dtype=F32).reshape(1, 2, 3)
    pred[0, 1] = masked_logit
    pred, label, valid_len = b.tensor(pred), b.labels(label), b.tensor(np.array(valid_len))
    if b.name == "tensorflow":
        return b.numpy(b.d2l.MaskedSoftmaxCELoss(valid_len)(label, pred))
    return b.numpy(b.d2l.MaskedSoftmaxCELoss()(pred, label, valid_len))


def _accumulated(b, values):
    acc = b.d2l.Accumulator(len(values))
    acc.add(*[b.tensor(F32(v)) for v in values])
    return acc.data


def _outcome(b, call):
    """('value', observation) or ('error', exception) for ValueError/TypeError (and the
    ZeroDivisionError the book keeps for Timer.avg; the tests still demand that it names the
    argument); any other exception fails the test."""
    try:
        return "value", call(b)
    except (ValueError, TypeError, ZeroDivisionError) as error:
        return "error", error
    except Exception as error:  # noqa: BLE001  (the test's point: report what escaped)
        pytest.fail(f"{b.name}: a framework-internal {type(error).__name__} escaped: {error}")


@pytest.mark.parametrize("argument,call", [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_unusual_call_fails_clearly_or_answers(argument, call, backend):
    kind, result = _outcome(backend, call)
    if argument is None:
        assert kind == "value", f"{backend.name}: expected a value, got {result!r}"
    else:
        assert kind == "error", f"{backend.name}: expected an error naming {argument!r}, " \
                                f"got the value {result!r}"
        assert names(str(result), argument), (
            f"{backend.name}: the error should name {argument!r}: {result}")


@pytest.mark.parametrize("call", [c[2] for c in CALLS], ids=[c[0] for c in CALLS])
def test_frameworks_answer_unusual_calls_alike(call, all_backends):
    outcomes = {b.name: _outcome(b, call) for b in all_backends}
    kinds = {name: kind if kind == "value" else type(result).__name__
             for name, (kind, result) in outcomes.items()}
    assert len(set(kinds.values())) == 1, kinds
    for (a, (_, obs_a)), (b, (_, obs_b)) in itertools.combinations(outcomes.items(), 2):
        if kinds[a] == "value":
            assert within(obs_a, obs_b, Tol()), f"{a}: {obs_a!r}\n{b}: {obs_b!r}"
