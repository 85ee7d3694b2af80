"""Chapter 9, Modern Recurrent Neural Networks, for tensorflow: the machine-translation dataset
(9.5, built on `d2l.common.machine_translation`), the encoder-decoder interfaces (9.6) and
sequence-to-sequence learning (9.7)."""

import sys

import tensorflow as tf
from tensorflow import keras

from ..common import checks, machine_translation, seq2seq
from . import aliases
from .recurrent_neural_networks import grad_clipping

# 9.5: Machine-translation data
__all__ = ["build_array_nmt", "load_data_nmt"]


def _index_tensor(a):
    """An index array as `d2l.tensor` makes it from Python ints: int32 in TensorFlow."""
    return aliases.tensor(a, dtype=aliases.int32)


def _length_tensor(a):
    """Valid lengths as the book's int32 mask sum gives them: int32 in TensorFlow."""
    return aliases.tensor(a, dtype=aliases.int32)


def build_array_nmt(lines, vocab, num_steps):
    """(array, valid_len): each token list as ids with `vocab['<eos>']` appended, truncated
    or padded with `vocab['<pad>']` to num_steps, array (N, num_steps) int32; valid_len
    (N,) int32 counts the ids that are not '<pad>'."""
    ids, valid_len = machine_translation.id_array(lines, vocab, num_steps)
    return _index_tensor(ids), _length_tensor(valid_len)


def load_data_nmt(batch_size, num_steps, num_examples=600):
    """(data_iter, src_vocab, tgt_vocab) for English-French; batches are (X, X_valid_len, Y,
    Y_valid_len) from `load_array` (shuffled), see `d2l.common.machine_translation`."""
    return machine_translation.load_data_nmt(sys.modules[__package__], batch_size, num_steps,
                                             num_examples)


# 9.6-9.7: Encoder-decoder and seq2seq
__all__ += ["Encoder", "Decoder", "EncoderDecoder", "Seq2SeqEncoder", "sequence_mask",
            "MaskedSoftmaxCELoss", "train_seq2seq", "predict_seq2seq"]


def _build_on_first_call(self, *args, **kwargs):
    """`build` of the encoder-decoder classes: nothing to create; the sublayers build
    themselves on their first call. (Keras' default would trace `call` symbolically first,
    which fails, with a warning, when extra tensors come through `*args`.)"""


class Encoder(keras.layers.Layer):
    """Base encoder of the encoder-decoder architecture: `call(X, *args, **kwargs)` is
    abstract."""

    build = _build_on_first_call

    def call(self, X, *args, **kwargs):
        raise NotImplementedError


class Decoder(keras.layers.Layer):
    """Base decoder: `init_state(enc_outputs, *args)` turns the encoder's outputs into the
    decoder state, `call(X, state, **kwargs)` decodes; both are abstract."""

    build = _build_on_first_call

    def init_state(self, enc_outputs, *args):
        raise NotImplementedError

    def call(self, X, state, **kwargs):
        raise NotImplementedError


class EncoderDecoder(keras.Model):
    """`encoder` then `decoder`: call(enc_X, dec_X, *args, **kwargs) returns
    decoder(dec_X, decoder.init_state(encoder(enc_X, *args), *args)); keyword arguments
    (e.g. `training`) reach the encoder and decoder calls, not `init_state`."""

    build = _build_on_first_call

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder

    def call(self, enc_X, dec_X, *args, **kwargs):
        enc_outputs = self.encoder(enc_X, *args, **kwargs)
        dec_state = self.decoder.init_state(enc_outputs, *args)
        return self.decoder(dec_X, dec_state, **kwargs)


class Seq2SeqEncoder(Encoder):
    """Embedding then `num_layers` stacked GRU cells (Keras: input dropout inside each cell),
    from a zero state.

    X: (batch, num_steps) token ids. Returns (output (batch, num_steps, num_hiddens), state):
    batch-major, and the state is a list of num_layers tensors (batch, num_hiddens).
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("Seq2SeqEncoder", dropout)
        self.embedding = keras.layers.Embedding(vocab_size, embed_size)
        self.rnn = keras.layers.RNN(keras.layers.StackedRNNCells(
            [keras.layers.GRUCell(num_hiddens, dropout=dropout) for _ in range(num_layers)]),
            return_sequences=True, return_state=True)

    def call(self, X, *args, **kwargs):
        if tf.executing_eagerly():  # traced (train_seq2seq), the ids cannot be read
            checks.token_ids("Seq2SeqEncoder", "X", X, self.embedding.input_dim)
        output, *state = self.rnn(self.embedding(X), **kwargs)
        return output, tf.nest.flatten(state)  # Keras 3 nests each cell's state in a list


def sequence_mask(X, valid_len, value=0):
    """X (batch, steps, ...) with every entry at step j >= valid_len[b] of row b set to
    `value` (whole trailing vectors for 3-D X). Returns a new tensor; gradients flow to the
    kept entries."""
    X, valid_len = tf.convert_to_tensor(X), tf.convert_to_tensor(valid_len)
    seq2seq.check_sequence_mask(X, valid_len)
    steps = tf.range(tf.shape(X)[1], dtype=tf.float32)
    keep = steps[None, :] < tf.cast(valid_len, tf.float32)[:, None]
    keep = tf.reshape(keep, tf.concat([tf.shape(keep), tf.ones(X.ndim - 2, tf.int32)], 0))
    return tf.where(keep, X, tf.cast(value, X.dtype))


class MaskedSoftmaxCELoss(keras.losses.Loss):
    """Softmax cross-entropy per sequence, padding excluded; one instance per batch.

    `MaskedSoftmaxCELoss(valid_len (batch,))(label (batch, num_steps) ids, pred (batch,
    num_steps, vocab) logits)` -> (batch,): the per-token losses of steps t < valid_len,
    summed and divided by num_steps (all positions, as in the book, not by the valid count).
    Masked steps count 0 whatever their logits (NaN and infinities too); a label id outside
    [0, vocab) is a ValueError when run eagerly (traced, the framework's check fires).
    Labels may be integer or float tensors (Keras casts them to float before `call`).
    """

    def __init__(self, valid_len):
        super().__init__(reduction="none")
        self.valid_len = tf.convert_to_tensor(valid_len)
        seq2seq.check_valid_len(self.valid_len)

    def call(self, label, pred):
        seq2seq.check_masked_softmax_ce(pred, label, self.valid_len)
        if tf.executing_eagerly():  # traced (train_seq2seq), the framework's own check runs
            checks.token_ids("MaskedSoftmaxCELoss", "label", label, pred.shape[-1])
        label = tf.cast(label, tf.int32)
        unweighted = keras.losses.sparse_categorical_crossentropy(label, pred,
                                                                  from_logits=True)
        return tf.reduce_mean(sequence_mask(unweighted, self.valid_len), axis=1)


def _decoder_input(Y, bos):
    """Teacher forcing: `bos` followed by Y[:, :-1], for Y (batch, num_steps)."""
    return tf.concat([tf.fill([tf.shape(Y)[0], 1], tf.constant(bos, Y.dtype)), Y[:, :-1]], 1)


def train_seq2seq(net, data_iter, lr, num_epochs, tgt_vocab, device):
    """Train an encoder-decoder with teacher forcing from its current weights: Adam(lr) on
    the gradients of the summed masked softmax cross-entropy (no division by the token
    count), clipped to norm 1. Plots the loss per token every 10 epochs and prints
    `loss …, … tokens/sec on {device name}` (`device` is a `try_gpu()` object or a name and
    is only printed, as in the book). Batches are (X, X_valid_len, Y, Y_valid_len). Returns
    None.

    The book ran every step eagerly; here the first batch runs eagerly (creating the weights
    and the optimizer's slots) and the others as a tf.function (Keras recurrent layers run
    their time loop about 30 times slower eagerly), or eagerly as in the book when the net
    cannot be traced (e.g. the book's 10.4 decoder, looping in Python over the time steps of
    a tensor); the numbers are the same, under Keras 3 and tf-keras."""
    seq2seq.check_training(lr, num_epochs)
    optimizer = keras.optimizers.Adam(learning_rate=float(lr))

    def step(batch):
        X, X_valid_len, Y, Y_valid_len = batch
        with tf.GradientTape() as tape:
            Y_hat, _ = net(X, _decoder_input(Y, tgt_vocab["<bos>"]), X_valid_len,
                           training=True)
            l = MaskedSoftmaxCELoss(Y_valid_len)(Y, Y_hat)
        params = net.trainable_variables
        optimizer.apply_gradients(zip(grad_clipping(tape.gradient(l, params), 1), params))
        return tf.reduce_sum(l), tf.reduce_sum(Y_valid_len)

    seq2seq.train_seq2seq(_source_ids_checked(_compiled_or_eager(step), net), data_iter,
                          num_epochs, getattr(device, "_device_name", device), len(tgt_vocab))


def _source_ids_checked(step, net):
    """`step` behind an eager check that each batch's X lies in [0, vocab_size) when the
    encoder has an `embedding` layer (the encoder's own check is skipped inside the compiled
    step): ValueError naming train_seq2seq and X."""
    src_vocab_size = getattr(getattr(net.encoder, "embedding", None), "input_dim", None)

    def run(batch):
        if src_vocab_size is not None:
            checks.token_ids("train_seq2seq", "X", batch[0], src_vocab_size)
        return step(batch)
    return run


def _compiled_or_eager(step):
    """`step`, run eagerly on the first call and compiled with tf.function from the second
    call on, or eagerly for good when tracing fails (a genuine error then shows up again,
    eagerly). The eager first call creates the layers' weights and the optimizer's slots as
    concrete variables: a trace that fails after creating some (e.g. at a decoder's Python
    loop over a tensor's time steps, which Keras 3 does not autograph) would leave them
    unusable outside it (an Embedding whose table reads as empty)."""
    compiled, mode = tf.function(step), "first"

    def run(*args):
        nonlocal mode
        if mode == "first":
            mode = "trace"
            return step(*args)
        if mode == "trace":
            try:
                result = compiled(*args)
            except Exception:  # noqa: BLE001  (any tracing failure: run eagerly instead)
                mode = "eager"
            else:
                mode = "compiled"
                return result
        return compiled(*args) if mode == "compiled" else step(*args)

    return run


def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps,
                    save_attention_weights=False):
    """Greedy translation of one sentence (encoder and decoder called eagerly with
    training=False): returns (the predicted tokens joined by spaces, the decoder's
    `attention_weights` after every step when `save_attention_weights`, else []). The
    decoder gets back the state it returned, in its own structure; what it sets on itself
    here (attention weights) is concrete, even after train_seq2seq traced it."""
    ids, valid_len = seq2seq.source_ids(src_sentence, src_vocab, num_steps)
    enc_X, enc_valid_len = tf.constant([ids]), tf.constant([valid_len])

    def decode_step(token, state):
        Y, state = net.decoder(tf.constant([[token]]), state, training=False)
        return int(tf.argmax(Y, axis=2)[0, 0]), state

    enc_outputs = net.encoder(enc_X, enc_valid_len, training=False)
    state = net.decoder.init_state(enc_outputs, enc_valid_len)
    attention = (lambda: net.decoder.attention_weights) if save_attention_weights else None
    return seq2seq.greedy_decode(decode_step, state, tgt_vocab, num_steps, attention)
