"""Chapter 8, Recurrent Neural Networks, for mxnet: the text datasets of 8.2-8.3 (built on
`d2l.common.text`), the RNN from scratch (8.5) and the concise RNN model (8.6)."""

import sys

from mxnet import autograd, gluon, init, np, npx

from ..common import checks, language_models, text
from . import aliases
from .linear_networks import sgd

# 8.2-8.3: Text data
__all__ = ["seq_data_iter_random", "seq_data_iter_sequential", "SeqDataLoader",
           "load_data_time_machine"]


def _index_tensor(a):
    """An index array as `d2l.tensor` makes it from Python ints: float32 in MXNet."""
    return aliases.tensor(a, dtype="float32")


def _unstack(a):
    """The minibatches of an epoch tensor: its slices along the first axis."""
    return list(a)


def _tensor_batches(epoch, corpus, batch_size, num_steps):
    """The (X, Y) minibatches of a `d2l.common.text` sampler as tensors."""
    return text.tensor_batches(epoch, _index_tensor, _unstack, corpus, batch_size, num_steps)


def seq_data_iter_random(corpus, batch_size, num_steps):
    """Generator of (X, Y) minibatches of randomly placed subsequences of `corpus` (a list
    of token indices): X, Y float32 (batch_size, num_steps), Y is X shifted by one token.
    Draws one `random.randint` and one `random.shuffle` (see `d2l.common.text`)."""
    corpus = text.sampler_corpus("seq_data_iter_random", corpus, batch_size, num_steps)
    return _tensor_batches(text.random_epoch, corpus, batch_size, num_steps)


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    """Generator of (X, Y) minibatches where row i of consecutive batches continues the
    text: X, Y float32 (batch_size, num_steps), Y is X shifted by one token. Draws one
    `random.randint` (the offset)."""
    corpus = text.sampler_corpus("seq_data_iter_sequential", corpus, batch_size, num_steps)
    return _tensor_batches(text.sequential_epoch, corpus, batch_size, num_steps)


class SeqDataLoader(text.SeqDataLoader):
    """Iterable over Time Machine minibatches (see `d2l.common.text.SeqDataLoader`)."""

    backend = __package__


def load_data_time_machine(batch_size, num_steps, use_random_iter=False, max_tokens=10000):
    """(data_iter, vocab): a `SeqDataLoader` over the first max_tokens characters of The Time
    Machine and its vocabulary."""
    return text.load_data_time_machine(sys.modules[__package__], batch_size, num_steps,
                                       use_random_iter, max_tokens)


# 8.5: RNN from scratch and training
__all__ += ["RNNModelScratch", "predict_ch8", "grad_clipping", "train_epoch_ch8", "train_ch8"]


class RNNModelScratch:
    """An RNN language model made of user functions (section 8.5).

    `get_params(vocab_size, num_hiddens, device)` returns the list of parameters (arrays
    with gradients attached), `init_state(batch_size, num_hiddens, device)` the initial
    state (a tuple of arrays), and `forward_fn(inputs, state, params)` maps one-hot inputs
    (num_steps, batch, vocab_size) float32 to (outputs (num_steps * batch, vocab_size),
    new state). `net(X, state)` takes token ids X of shape (batch, num_steps).
    """

    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        language_models.check_sizes("RNNModelScratch", vocab_size, num_hiddens)
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        checks.token_ids("RNNModelScratch", "X", X, self.vocab_size)
        X = npx.one_hot(X.T, self.vocab_size)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, ctx):
        return self.init_state(batch_size, self.num_hiddens, ctx)


def predict_ch8(prefix, num_preds, net, vocab, device):
    """`prefix` followed by `num_preds` greedily generated characters (one string)."""
    def step(token, state):
        return net(np.array([[token]], ctx=device), state)

    return language_models.predict_ch8(
        prefix, num_preds, vocab, lambda: net.begin_state(batch_size=1, ctx=device), step)


def grad_clipping(net, theta):
    """Scale the gradients of `net`'s parameters (a Gluon Block's, else `net.params`) in
    place by theta / ||g|| when their global L2 norm ||g|| exceeds `theta` (the book's test:
    an infinite norm scales by 0, so infinite entries become NaN; a NaN norm changes
    nothing)."""
    language_models.check_theta(theta)
    if isinstance(net, gluon.Block):
        grads = [p.grad() for p in net.collect_params().values() if p.grad_req != "null"]
    else:
        grads = [p.grad for p in net.params]
    if not grads:
        return
    squares = sum((g ** 2).sum() for g in grads)
    # mxnet's sum() turns an infinite square into NaN (Kahan compensation: inf - inf); where
    # the sum is NaN, per-array norms tell inf (an infinite entry) from NaN (a NaN entry)
    squares = np.where(np.isnan(squares), sum(np.linalg.norm(g) ** 2 for g in grads), squares)
    norm = np.sqrt(squares)
    # stays an array: no wait for the engine
    scale = np.where(norm > theta, theta / norm, np.ones_like(norm))
    for g in grads:
        g *= scale


def _detach(state):
    """The state cut off from the previous batch's graph (a tuple or list of arrays)."""
    return type(state)(s.detach() for s in state)


def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):
    """One epoch with truncated backpropagation through time; returns (perplexity, tokens
    per second). `loss` returns one value per token (averaged here); `updater` is a function
    of the batch size (called with 1, the loss being a mean) or a `gluon.Trainer`; gradients
    are clipped to global norm 1 before each update."""
    if isinstance(updater, gluon.Trainer):
        updater = updater.step

    def step(X, Y, state):
        if state is None:
            state = net.begin_state(batch_size=X.shape[0], ctx=device)
        else:
            state = _detach(state)
        X, y = X.as_in_ctx(device), Y.T.reshape(-1).as_in_ctx(device)
        with autograd.record():
            y_hat, state = net(X, state)
            l = loss(y_hat, y).mean()
        l.backward()
        grad_clipping(net, 1)
        updater(batch_size=1)
        return l, state

    return language_models.train_epoch_ch8(step, train_iter, use_random_iter)


def train_ch8(net, train_iter, vocab, lr, num_epochs, device, use_random_iter=False):
    """Train a language model with SGD (`lr`) on the mean softmax cross-entropy: a Gluon
    Block is re-initialised with Normal(0.01) on `device` and trained by an 'sgd' Trainer,
    a scratch model by `sgd` on `net.params`. Plots the perplexity every 10 epochs; prints
    the final perplexity, tokens/sec and two samples."""
    language_models.check_train_ch8(lr, num_epochs)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    if isinstance(net, gluon.Block):
        net.initialize(ctx=device, force_reinit=True, init=init.Normal(0.01))
        updater = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr}).step
    else:
        updater = lambda batch_size: sgd(net.params, lr, batch_size)  # noqa: E731
    language_models.train_ch8(
        lambda: train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter),
        lambda prefix: predict_ch8(prefix, language_models.NUM_SAMPLE_PREDS, net, vocab,
                                   device),
        num_epochs, device, sample_while_training=False)


# 8.6: Concise RNN model
__all__ += ["RNNModel"]


class RNNModel(gluon.Block):
    """A language model around a time-major Gluon `rnn.RNN`, `rnn.GRU` or `rnn.LSTM`
    (section 8.6).

    `net(inputs, state)`: token ids (batch, num_steps) are one-hot encoded as
    (num_steps, batch, vocab_size), run through `rnn`, and `dense` maps the outputs to logits
    (num_steps * batch, vocab_size), rows in time-major order (step, then example). Returns
    (logits, new state); the state is the layer's list of arrays ([h], or [h, c] for an
    LSTM, each (num_layers * num_directions, batch, num_hiddens)).
    """

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rnn_layer, (gluon.rnn.RNN, gluon.rnn.GRU, gluon.rnn.LSTM)) or \
                rnn_layer._layout != "TNC":
            raise ValueError("RNNModel: rnn_layer must be a time-major (layout 'TNC') "
                             f"rnn.RNN, rnn.GRU or rnn.LSTM, got {rnn_layer!r}")
        checks.positive_int("RNNModel", "vocab_size", vocab_size)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.dense = gluon.nn.Dense(vocab_size)

    def forward(self, inputs, state):
        checks.token_ids("RNNModel", "inputs", inputs, self.vocab_size)
        X = npx.one_hot(inputs.T, self.vocab_size)
        Y, state = self.rnn(X, state)
        return self.dense(Y.reshape(-1, Y.shape[-1])), state

    def begin_state(self, *args, **kwargs):
        """The layer's zero state (the book calls begin_state(batch_size=..., ctx=...))."""
        return self.rnn.begin_state(*args, **kwargs)
