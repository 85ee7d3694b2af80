"""Chapter 8, Recurrent Neural Networks, for torch: the text datasets of 8.2-8.3 (built on
`d2l.common.text`), the RNN from scratch (8.5) and the concise RNN model (8.6)."""

import sys

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..common import checks, language_models, text
from . import aliases
from .linear_networks import sgd

# 8.2-8.3: Text data
__all__ = ["seq_data_iter_random", "seq_data_iter_sequential", "SeqDataLoader",
           "load_data_time_machine"]


def _index_tensor(a):
    """An index array as `d2l.tensor` makes it from Python ints: int64 in PyTorch."""
    return aliases.tensor(a)


def _unstack(a):
    """The minibatches of an epoch tensor: its slices along the first axis (views)."""
    return a.unbind(0)


def _tensor_batches(epoch, corpus, batch_size, num_steps):
    """The (X, Y) minibatches of a `d2l.common.text` sampler as tensors."""
    return text.tensor_batches(epoch, _index_tensor, _unstack, corpus, batch_size, num_steps)


def seq_data_iter_random(corpus, batch_size, num_steps):
    """Generator of (X, Y) minibatches of randomly placed subsequences of `corpus` (a list
    of token indices): X, Y int64 (batch_size, num_steps), Y is X shifted by one token.
    Draws one `random.randint` and one `random.shuffle` (see `d2l.common.text`)."""
    corpus = text.sampler_corpus("seq_data_iter_random", corpus, batch_size, num_steps)
    return _tensor_batches(text.random_epoch, corpus, batch_size, num_steps)


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    """Generator of (X, Y) minibatches where row i of consecutive batches continues the
    text: X, Y int64 (batch_size, num_steps), Y is X shifted by one token. Draws one
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

    `get_params(vocab_size, num_hiddens, device)` returns the list of parameters (tensors
    that require grad), `init_state(batch_size, num_hiddens, device)` the initial state (a
    tuple of tensors), and `forward_fn(inputs, state, params)` maps one-hot inputs
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
        X = F.one_hot(X.T.long(), self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)


def predict_ch8(prefix, num_preds, net, vocab, device):
    """`prefix` followed by `num_preds` greedily generated characters (one string); the
    model runs without recording gradients."""
    def step(token, state):
        with torch.no_grad():
            return net(torch.tensor([[token]], device=device), state)

    return language_models.predict_ch8(
        prefix, num_preds, vocab, lambda: net.begin_state(batch_size=1, device=device), step)


def grad_clipping(net, theta):
    """Scale the gradients of `net`'s parameters (an nn.Module's, else `net.params`) in
    place by theta / ||g|| when their global L2 norm ||g|| exceeds `theta` (the book's test:
    an infinite norm scales by 0, so infinite entries become NaN; a NaN norm changes
    nothing)."""
    language_models.check_theta(theta)
    params = net.parameters() if isinstance(net, nn.Module) else net.params
    grads = [p.grad for p in params if p.requires_grad and p.grad is not None]
    if not grads:
        return
    norm = torch.sqrt(sum(torch.sum(g ** 2) for g in grads))
    scale = torch.where(norm > theta, theta / norm, 1.0)  # computed on the device: no sync
    for g in grads:
        g.mul_(scale)


def _detach(state):
    """The state cut off from the previous batch's graph (a tensor, or a tuple/list)."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    return type(state)(s.detach() for s in state)


def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):
    """One epoch with truncated backpropagation through time; returns (perplexity, tokens
    per second). `loss` is mean-reduced; `updater` is a torch optimizer or a function of the
    batch size (called with 1, the loss being a mean already); gradients are clipped to
    global norm 1 before each update."""
    def step(X, Y, state):
        if state is None:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            state = _detach(state)
        X, y = X.to(device), Y.T.reshape(-1).to(device).long()
        y_hat, state = net(X, state)
        l = loss(y_hat, y).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.backward()
            grad_clipping(net, 1)
            updater.step()
        else:
            l.backward()
            grad_clipping(net, 1)
            updater(batch_size=1)
        return l.detach(), state

    return language_models.train_epoch_ch8(step, train_iter, use_random_iter)


def train_ch8(net, train_iter, vocab, lr, num_epochs, device, use_random_iter=False):
    """Train a language model with SGD (`lr`) on the mean cross-entropy: an nn.Module with
    torch.optim.SGD, a scratch model with `sgd` on `net.params`. Plots the perplexity every
    10 epochs and prints the 'time traveller' sample there; prints the final perplexity,
    tokens/sec and two samples."""
    language_models.check_train_ch8(lr, num_epochs)
    loss = nn.CrossEntropyLoss()
    if isinstance(net, nn.Module):
        updater = torch.optim.SGD(net.parameters(), lr)
    else:
        updater = lambda batch_size: sgd(net.params, lr, batch_size)  # noqa: E731
    language_models.train_ch8(
        lambda: train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter),
        lambda prefix: predict_ch8(prefix, language_models.NUM_SAMPLE_PREDS, net, vocab,
                                   device),
        num_epochs, device, sample_while_training=True)


# 8.6: Concise RNN model
__all__ += ["RNNModel"]


class RNNModel(nn.Module):
    """A language model around a time-major `nn.RNN`, `nn.GRU` or `nn.LSTM` (section 8.6).

    `net(inputs, state)`: token ids (batch, num_steps) are one-hot encoded as float32
    (num_steps, batch, vocab_size), run through `rnn`, and `linear` maps the outputs to
    logits (num_steps * batch, vocab_size), rows in time-major order (step, then example).
    Returns (logits, new state). The state is a tensor (num_layers * num_directions, batch,
    num_hiddens), or an (h, c) pair of them for an LSTM.
    """

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rnn_layer, nn.RNNBase) or rnn_layer.batch_first:
            raise ValueError("RNNModel: rnn_layer must be a time-major nn.RNN, nn.GRU or "
                             f"nn.LSTM (batch_first=False), got {rnn_layer!r}")
        checks.positive_int("RNNModel", "vocab_size", vocab_size)
        if rnn_layer.input_size != vocab_size:
            raise ValueError(f"RNNModel: rnn_layer takes {rnn_layer.input_size} input "
                             f"features, but the one-hot inputs have vocab_size={vocab_size}")
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = rnn_layer.hidden_size
        self.num_directions = 2 if rnn_layer.bidirectional else 1
        self.linear = nn.Linear(self.num_hiddens * self.num_directions, vocab_size)

    def forward(self, inputs, state):
        checks.token_ids("RNNModel", "inputs", inputs, self.vocab_size)
        X = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(X, state)
        return self.linear(Y.reshape(-1, Y.shape[-1])), state

    def begin_state(self, device, batch_size=1):
        """Zeros (num_layers * num_directions, batch_size, num_hiddens) on `device`; an
        (h, c) pair of them for an LSTM."""
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        if isinstance(self.rnn, nn.LSTM):
            return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))
        return torch.zeros(shape, device=device)
