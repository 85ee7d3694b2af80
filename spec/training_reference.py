"""NumPy oracles of three training loops, independent of the frameworks: `train_seq2seq`
(9.7), `train_ch6` with LeNet (6.6) and `train_ch8` with the concise `RNNModel` (8.6).

Gradients come from `spec.autodiff` (float64); models read canonical parameters
(`d2l.common.params`). Where the frameworks' loops differ in a documented way (Adam's
epsilon, MXNet's division by the token count, Keras' single RNN bias, Gluon's ReLU RNN) the
difference is an argument here, so each framework is checked against the same arithmetic
with its own convention, never against another framework.
"""

import dataclasses

import numpy as np

from . import autodiff as ad
from . import reference


def tensors(params):
    """Canonical params as autodiff Tensors (float64), same keys."""
    return {k: ad.Tensor(v) for k, v in params.items()}


def clip_grads(grads, theta):
    """`grad_clipping`: every gradient times theta / ||g|| when the global L2 norm ||g|| of
    all of them (a dict of arrays) exceeds theta."""
    names = list(grads)
    return dict(zip(names, reference.clip_by_global_norm([grads[k] for k in names], theta)))


# ---------------------------------------------------------------- 9.7 train_seq2seq


def gru_layer(inputs, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU layer over a list of step inputs (N, in) from state h (N, H), in the
    canonical gate order r, z, n (reset applied after the recurrent matmul). Returns (list of
    step outputs (N, H), final state)."""
    H = h.shape[1]
    gate = [slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)]
    outputs = []
    for x in inputs:
        gi, gh = x @ w_ih.transpose(1, 0) + b_ih, h @ w_hh.transpose(1, 0) + b_hh
        r = ad.sigmoid(gi[:, gate[0]] + gh[:, gate[0]])
        z = ad.sigmoid(gi[:, gate[1]] + gh[:, gate[1]])
        n = ad.tanh(gi[:, gate[2]] + r * gh[:, gate[2]])
        h = (1 - z) * n + z * h
        outputs.append(h)
    return outputs, h


def gru_stack(p, k, inputs, states):
    """Canonical recurrent layer k (num_layers = len(states) stacked GRU layers) over step
    inputs from initial states (one (N, H) per layer). Returns (top layer's step outputs,
    final states)."""
    finals = []
    for layer, h in enumerate(states):
        inputs, h = gru_layer(inputs, h, *(p[f"{k}.{field}_l{layer}"] for field in
                                           ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
        finals.append(h)
    return inputs, finals


def seq2seq_batch_loss(p, batch, bos=2):
    """Σ over the batch of the per-sequence masked softmax cross-entropy that train_seq2seq
    backpropagates (each sequence: Σ_{t < valid_len} CE / num_steps), as an autodiff scalar,
    for the encoder-decoder of `spec.modern_rnns` (layers 0-4) with teacher forcing: the
    decoder reads <bos> + Y[:, :-1] and, at every step, the encoder's last-layer state.
    batch: (X (N, T), X_valid_len, Y (N, T), Y_valid_len (N,)) integer arrays."""
    X, _, Y, Y_valid_len = (np.asarray(a, np.int64) for a in batch)
    num_steps, hidden = Y.shape[1], p["1.weight_hh_l0"].shape[1]
    num_layers = len([k for k in p if k.startswith("1.weight_ih_l")])
    zeros = [ad.Tensor(np.zeros((len(X), hidden)))] * num_layers
    enc_embedded = p["0.weight"][X]  # (N, T, E)
    _, state = gru_stack(p, 1, [enc_embedded[:, t] for t in range(X.shape[1])], zeros)
    dec_X = np.concatenate([np.full((len(Y), 1), bos), Y[:, :-1]], axis=1)
    dec_embedded = p["2.weight"][dec_X]
    outputs, _ = gru_stack(p, 3, [ad.concat([dec_embedded[:, t], state[-1]], axis=1)
                                  for t in range(num_steps)], state)
    rows = np.arange(len(Y))
    loss = 0.0
    for t, h in enumerate(outputs):
        log_p = ad.log_softmax(h @ p["4.weight"] + p["4.bias"])
        kept = (t < Y_valid_len) / num_steps
        loss = loss + (log_p[rows, Y[:, t]] * -kept).sum()
    return loss


@dataclasses.dataclass(frozen=True)
class Adam:
    """Adam with betas 0.9 / 0.999 (every framework's default) and its epsilon convention:
    `corrected_eps` True adds eps to the bias-corrected √v̂ (PyTorch, eps 1e-8:
    w -= lr / (1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + eps)); False adds it to the uncorrected √v
    with the correction folded into the step (MXNet 1e-8 and Keras 1e-7:
    w -= lr √(1 - β2ᵗ) / (1 - β1ᵗ) · m / (√v + eps))."""

    lr: float
    eps: float
    corrected_eps: bool
    beta1: float = 0.9
    beta2: float = 0.999

    def step(self, params, grads, state):
        """New params and state ({"t", "m", "v"}, or None before the first step) after one
        update with the dict of gradients `grads`."""
        if state is None:
            state = {"t": 0, "m": {k: 0.0 for k in grads}, "v": {k: 0.0 for k in grads}}
        t = state["t"] + 1
        m = {k: self.beta1 * state["m"][k] + (1 - self.beta1) * g for k, g in grads.items()}
        v = {k: self.beta2 * state["v"][k] + (1 - self.beta2) * g ** 2
             for k, g in grads.items()}
        c1, c2 = 1 - self.beta1 ** t, 1 - self.beta2 ** t
        new = dict(params)
        for k in grads:
            if self.corrected_eps:
                new[k] = params[k] - self.lr / c1 * m[k] / (np.sqrt(v[k] / c2) + self.eps)
            else:
                new[k] = params[k] - self.lr * np.sqrt(c2) / c1 * m[k] / (np.sqrt(v[k]) +
                                                                          self.eps)
        return new, {"t": t, "m": m, "v": v}


@dataclasses.dataclass(frozen=True)
class Seq2SeqConvention:
    """How a framework's train_seq2seq turns the clipped gradient into an Adam step: its
    Adam epsilon convention, and whether the gradient is divided by the batch's token count
    after clipping (MXNet's trainer.step(num_tokens))."""

    eps: float
    corrected_eps: bool
    per_token: bool


SEQ2SEQ_CONVENTIONS = {"mxnet": Seq2SeqConvention(1e-8, False, True),
                       "torch": Seq2SeqConvention(1e-8, True, False),
                       "tensorflow": Seq2SeqConvention(1e-7, False, False)}


def train_seq2seq(params, batches, lr, num_epochs, convention, theta=1.0):
    """What train_seq2seq does from canonical `params` on fixed `batches`: per batch the
    gradient of the summed masked loss, clipped to global norm `theta`, (divided by the
    token count when `convention.per_token`) and one Adam(lr) step. Returns (per-epoch
    Σ loss / Σ target tokens, final params (float64))."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    adam, state, history = Adam(lr, convention.eps, convention.corrected_eps), None, []
    for _ in range(num_epochs):
        loss_sum = num_tokens = 0.0
        for batch in batches:
            tp = tensors(p)
            loss = seq2seq_batch_loss(tp, batch)
            tokens = float(np.sum(batch[3]))
            grads = clip_grads(dict(zip(p, ad.grads(loss, list(tp.values())))), theta)
            if convention.per_token:
                grads = {k: g / tokens for k, g in grads.items()}
            p, state = adam.step(p, grads, state)
            loss_sum, num_tokens = loss_sum + float(loss.value), num_tokens + tokens
        history.append(loss_sum / num_tokens)
    return history, p


# ---------------------------------------------------------------- 6.6 train_ch6 (LeNet)


def cnn_logits(layers, p, X):
    """Logits (N, classes) of a model description of conv (stride 1), sigmoid, avgpool
    (stride = window), flatten and dense layers (e.g. `canonical.LENET`) on NCHW X."""
    h, k = ad.Tensor(X), 0
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            h = ad.conv2d(h, p[f"{k}.weight"], p[f"{k}.bias"], layer[4])
        elif kind == "dense":
            h = h @ p[f"{k}.weight"] + p[f"{k}.bias"]
        elif kind == "sigmoid":
            h = ad.sigmoid(h)
        elif kind == "avgpool":
            h = ad.avg_pool2d(h, layer[1])
        elif kind == "flatten":
            h = h.reshape(len(X), -1)
        if kind in ("conv", "dense"):
            k += 1
    return h


def train_ch6(layers, params, batches, test, lr, num_epochs):
    """What train_ch6 records from canonical `params` with SGD(lr) on the batch-mean
    cross-entropy over unshuffled `batches` [(X (N, C, H, W), y (N,))]: per epoch [mean
    train loss, train accuracy (both from each batch's forward pass before its step), test
    accuracy after the epoch]; and the final params."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    history = []
    for _ in range(num_epochs):
        loss_sum = correct = count = 0.0
        for X, y in batches:
            tp = tensors(p)
            logits = cnn_logits(layers, tp, X)
            losses = ad.log_softmax(logits)[np.arange(len(y)), y] * -1.0
            g = ad.grads(losses.sum() * (1 / len(y)), list(tp.values()))
            p = {k: v - lr * dv for (k, v), dv in zip(p.items(), g)}
            loss_sum += losses.value.sum()
            correct += reference.accuracy(logits.value, y)
            count += len(y)
        test_logits = cnn_logits(layers, tensors(p), test[0]).value
        history.append([loss_sum / count, correct / count,
                        reference.accuracy(test_logits, test[1]) / len(test[1])])
    return history, p


# ---------------------------------------------------------------- 8.6 train_ch8 (RNNModel)


def rnn_model_logits(p, X, h, activation, biases):
    """RNNModel on ids X (batch, num_steps) from state h (batch, H): one-hot inputs, a
    one-layer RNN (canonical layer 0; `activation` 'tanh' or 'relu'), the dense layer 1 on
    every step. `biases` 2 adds bias_ih and bias_hh (Gluon, PyTorch), 1 only bias_ih (Keras'
    single bias). Returns (logits (num_steps * batch, V) in time-major rows, final state)."""
    act = ad.tanh if activation == "tanh" else ad.relu
    one_hot = ad.Tensor(np.eye(p["1.weight"].shape[1])[np.asarray(X, np.int64).T])
    b = p["0.bias_ih_l0"] + p["0.bias_hh_l0"] if biases == 2 else p["0.bias_ih_l0"]
    steps = []
    for t in range(one_hot.shape[0]):
        h = act(one_hot[t] @ p["0.weight_ih_l0"].transpose(1, 0) +
                h @ p["0.weight_hh_l0"].transpose(1, 0) + b)
        steps.append(h)
    logits = ad.concat(steps, axis=0) @ p["1.weight"] + p["1.bias"]
    return logits, h


def rnn_model_names(biases):
    """The canonical names RNNModel trains: Keras' single bias is bias_ih (bias_hh 0)."""
    return ["0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0"] + \
        (["0.bias_hh_l0"] if biases == 2 else []) + ["1.weight", "1.bias"]


def train_ch8(params, epochs, lr, activation, biases, theta=1.0):
    """What train_ch8 does to RNNModel from canonical `params` (a one-layer RNN, layer 0,
    and dense layer 1): for each epoch's list of adjacent (X, Y) batches (batch, num_steps),
    a zero state at the first batch, then the previous batch's final state (detached); SGD
    on the mean cross-entropy of the next tokens, gradients clipped to global norm `theta`.
    Returns (per-epoch perplexity, final params)."""
    names = rnn_model_names(biases)
    p = {k: np.asarray(params[k], np.float64) for k in names}
    perplexities = []
    for batches in epochs:
        h, loss_sum, num_tokens = None, 0.0, 0
        for X, Y in batches:
            if h is None:
                h = np.zeros((len(X), p["0.weight_hh_l0"].shape[1]))
            tp = tensors(p)
            logits, state = rnn_model_logits(tp, X, ad.Tensor(h), activation, biases)
            y = np.asarray(Y, np.int64).T.reshape(-1)
            loss = ad.log_softmax(logits)[np.arange(len(y)), y].sum() * (-1 / len(y))
            grads = clip_grads(dict(zip(names, ad.grads(loss, [tp[k] for k in names]))),
                               theta)
            p = {k: p[k] - lr * grads[k] for k in names}
            h = state.value
            loss_sum, num_tokens = loss_sum + float(loss.value) * y.size, num_tokens + y.size
        perplexities.append(float(np.exp(loss_sum / num_tokens)))
    return perplexities, p
