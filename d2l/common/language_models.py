"""Framework-neutral parts of the RNN language-model code of section 8.5: greedy character
prediction and the loops of `train_epoch_ch8` / `train_ch8`.

Backends supply the per-step work: one RNN step for prediction, one training batch (state
handling, forward, backward, clipping, update) for training. Everything else (the order of
the steps, perplexity, timing, plotting and printing) is here, written once.
"""

import math

from . import checks
from .bookkeeping import Timer
from .plotting import Animator
from .tensors import to_numpy

PLOT_EVERY = 10  # epochs between two perplexity points (and samples, in PyTorch/TensorFlow)
NUM_SAMPLE_PREDS = 50  # characters generated after each sample prefix


def check_sizes(fn, vocab_size, num_hiddens):
    """Raise ValueError unless both sizes are positive ints."""
    checks.positive_int(fn, "vocab_size", vocab_size)
    checks.positive_int(fn, "num_hiddens", num_hiddens)


def check_theta(theta):
    """`grad_clipping`'s threshold must be a positive number."""
    checks.positive_number("grad_clipping", "theta", theta)


def check_train_ch8(lr, num_epochs):
    """Raise ValueError for a non-positive learning rate or epoch count."""
    checks.positive_number("train_ch8", "lr", lr)
    checks.positive_int("train_ch8", "num_epochs", num_epochs)


def _check_prediction(prefix, num_preds):
    if not isinstance(prefix, (str, list, tuple)) or len(prefix) == 0:
        raise ValueError(f"predict_ch8: prefix must be a non-empty string (or token list), "
                         f"got {prefix!r}")
    checks.non_negative_int("predict_ch8", "num_preds", num_preds)


def predict_ch8(prefix, num_preds, vocab, begin_state, step):
    """Greedy generation: the prefix followed by `num_preds` predicted tokens, joined.

    `begin_state()` gives the state for a batch of one; `step(token_id, state)` feeds one
    token id (as a (1, 1) input) and returns (scores (1, vocab_size), new state). The prefix
    warms the state up (its predictions are ignored); each further token is the argmax of
    the scores (NumPy's argmax: ties go to the lowest id in every framework).
    """
    _check_prediction(prefix, num_preds)
    state = begin_state()
    outputs = [vocab[prefix[0]]]
    for token in prefix[1:]:
        _, state = step(outputs[-1], state)
        outputs.append(vocab[token])
    for _ in range(num_preds):
        scores, state = step(outputs[-1], state)
        outputs.append(int(to_numpy(scores).reshape(-1).argmax()))
    return "".join(vocab.idx_to_token[i] for i in outputs)


def train_epoch_ch8(step, train_iter, use_random_iter):
    """One epoch of `train_epoch_ch8`; returns (perplexity, tokens per second).

    `step(X, Y, state)` trains on one batch (X, Y of shape (batch, num_steps)) and returns
    (mean loss over its tokens as a framework scalar, new state); `state` is None when the
    step must begin a new one: at the first batch, and at every batch when
    `use_random_iter` (the batches are then not adjacent in the text). Losses are added up
    as framework scalars and read once at the end, so the device is not stopped per batch;
    the time covers the whole epoch, data loading included.
    """
    timer = Timer()
    state, loss_sum, num_tokens = None, 0.0, 0
    for X, Y in train_iter:
        batch_loss, state = step(X, Y, None if use_random_iter else state)
        tokens = math.prod(checks.shape_of(Y))
        loss_sum, num_tokens = loss_sum + batch_loss * tokens, num_tokens + tokens
    if num_tokens == 0:
        raise ValueError("train_epoch_ch8: train_iter yielded no tokens")
    mean_loss = float(to_numpy(loss_sum)) / num_tokens
    return math.exp(mean_loss), num_tokens / timer.stop()


def train_ch8(train_epoch, predict, num_epochs, device, sample_while_training):
    """The loop of `train_ch8`, given `train_epoch()` -> (perplexity, tokens/sec) and
    `predict(prefix)` -> generated string.

    Plots the perplexity every `PLOT_EVERY` epochs (printing the 'time traveller' sample
    there too when `sample_while_training`: PyTorch and TensorFlow do, MXNet does not), then
    prints `perplexity …, … tokens/sec on {device}` and the samples for 'time traveller' and
    'traveller'.
    """
    checks.positive_int("train_ch8", "num_epochs", num_epochs)
    animator = Animator(xlabel="epoch", ylabel="perplexity", legend=["train"],
                        xlim=[PLOT_EVERY, num_epochs])
    for epoch in range(num_epochs):
        ppl, speed = train_epoch()
        if (epoch + 1) % PLOT_EVERY == 0:
            if sample_while_training:
                print(predict("time traveller"))
            animator.add(epoch + 1, [ppl])
    print(f"perplexity {ppl:.1f}, {speed:.1f} tokens/sec on {device}")
    print(predict("time traveller"))
    print(predict("traveller"))
