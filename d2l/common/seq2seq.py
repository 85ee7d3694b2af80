"""Framework-neutral parts of sequence-to-sequence learning (sections 9.6-9.7): the argument
checks of `sequence_mask` and `MaskedSoftmaxCELoss`, the epoch loop of `train_seq2seq` and
the greedy decoding loop of `predict_seq2seq`. Each backend supplies the per-batch step and
the per-token decoder step."""

from . import checks
from .bookkeeping import Timer
from .machine_translation import truncate_pad
from .plotting import Animator


def _shape(x):
    """The shape of a tensor as a tuple; None for dimensions unknown while tracing."""
    return tuple(None if d is None else int(d) for d in x.shape)


def _agree(shape, expected):
    """Whether `shape` is `expected`, an unknown (None) dimension matching any size."""
    return len(shape) == len(expected) and all(
        a is None or b is None or a == b for a, b in zip(shape, expected))


def check_sequence_mask(X, valid_len):
    """Raise ValueError unless X has a batch and a sequence axis (batch, steps, ...) and
    valid_len is 1-D with one length per batch row."""
    x_shape, len_shape = _shape(X), _shape(valid_len)
    if len(x_shape) < 2:
        raise ValueError(f"sequence_mask: X must have at least 2 axes (batch, steps, ...), "
                         f"got shape {x_shape}")
    if not _agree(len_shape, x_shape[:1]):
        raise ValueError(f"sequence_mask: valid_len must have shape ({x_shape[0]},) (one "
                         f"length per row of X), got shape {len_shape}")


def check_masked_softmax_ce(pred, label, valid_len):
    """Raise ValueError unless pred is (batch, steps, vocab), label (batch, steps) and
    valid_len (batch,)."""
    p_shape, l_shape = _shape(pred), _shape(label)
    if len(p_shape) != 3:
        raise ValueError(f"MaskedSoftmaxCELoss: pred must be 3-D (batch, num_steps, "
                         f"vocab_size), got shape {p_shape}")
    if not _agree(l_shape, p_shape[:2]):
        raise ValueError(f"MaskedSoftmaxCELoss: label must have shape {p_shape[:2]} "
                         f"(batch, num_steps) to match pred, got shape {l_shape}")
    check_valid_len(valid_len, p_shape[0])


def check_valid_len(valid_len, batch_size=None):
    """Raise ValueError unless valid_len is 1-D (with `batch_size` entries when given)."""
    shape = _shape(valid_len)
    if not _agree(shape, (batch_size,)):
        expected = f"({batch_size},)" if batch_size is not None else "(batch,)"
        raise ValueError(f"MaskedSoftmaxCELoss: valid_len must have shape {expected} (one "
                         f"length per sequence), got shape {shape}")


def check_training(lr, num_epochs):
    """Raise ValueError unless lr is a positive number and num_epochs a positive int."""
    checks.positive_number("train_seq2seq", "lr", lr)
    checks.positive_int("train_seq2seq", "num_epochs", num_epochs)


def train_seq2seq(step, data_iter, num_epochs, device, tgt_vocab_size):
    """The loop of `train_seq2seq`, given the backend's per-batch `step`.

    Each batch's target ids Y must lie in [0, tgt_vocab_size), else ValueError naming
    train_seq2seq and Y (checked here, eagerly, because a compiled TensorFlow step cannot raise
    one). `step(batch)` trains on one batch (X, X_valid_len, Y, Y_valid_len) and returns the summed
    per-sequence loss and the number of target tokens (Σ Y_valid_len) as framework scalars;
    they are added up on the device and read once per epoch. Every 10 epochs the epoch's loss
    per token is plotted; at the end `loss {l:.3f}, {tokens/sec:.1f} tokens/sec on {device}`
    is printed with the last epoch's numbers. Returns the loss per token of every epoch.
    """
    animator = Animator(xlabel="epoch", ylabel="loss", xlim=[10, num_epochs])
    history = []
    for epoch in range(num_epochs):
        timer, loss_sum, num_tokens = Timer(), 0, 0  # ints: a TF int32 sum adds to 0
        for batch in data_iter:
            checks.token_ids("train_seq2seq", "Y", batch[2], tgt_vocab_size)
            batch_loss, batch_tokens = step(batch)
            loss_sum, num_tokens = loss_sum + batch_loss, num_tokens + batch_tokens
        loss_sum, num_tokens = float(loss_sum), float(num_tokens)
        if num_tokens == 0:
            raise ValueError("train_seq2seq: data_iter yielded no target tokens (no batches, "
                             "or every Y_valid_len is 0)")
        seconds = timer.stop()
        history.append(loss_sum / num_tokens)
        if (epoch + 1) % 10 == 0:
            animator.add(epoch + 1, [history[-1]])
    print(f"loss {history[-1]:.3f}, {num_tokens / seconds:.1f} tokens/sec on {device}")
    return history


def source_ids(src_sentence, src_vocab, num_steps):
    """The ids `predict_seq2seq` feeds the encoder: the lower-cased sentence split on single
    spaces, `<eos>` appended, then truncated or padded with `<pad>` to num_steps. Returns
    (ids, valid length before padding; it can exceed num_steps, as in the book)."""
    checks.positive_int("predict_seq2seq", "num_steps", num_steps)
    ids = src_vocab[src_sentence.lower().split(" ")] + [src_vocab["<eos>"]]
    return truncate_pad(ids, num_steps, src_vocab["<pad>"]), len(ids)


def greedy_decode(decode_step, state, tgt_vocab, num_steps, attention_weights=None):
    """Greedy decoding of `predict_seq2seq`: starting from `<bos>` and the decoder `state`,
    `decode_step(token, state)` returns (the next token id, the argmax over the vocabulary;
    the new state), for at most num_steps steps, stopping (without appending it) at `<eos>`.
    When `attention_weights` is given it is called after every step, before the stop check.
    Returns (the tokens joined by spaces, the list of attention weights)."""
    token, eos, output, weights = tgt_vocab["<bos>"], tgt_vocab["<eos>"], [], []
    for _ in range(num_steps):
        token, state = decode_step(token, state)
        if attention_weights is not None:
            weights.append(attention_weights())
        if token == eos:
            break
        output.append(token)
    return " ".join(tgt_vocab.to_tokens(output)), weights
