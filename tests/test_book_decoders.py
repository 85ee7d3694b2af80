"""The book's own decoders (notebook cells of 9.7, 10.4 and 10.7, not saved) on the saved
pieces: each is written here in the book's style and framework idiom (Gluon Blocks, torch
nn.Modules, Keras layers), combined with the saved encoder in `EncoderDecoder`, trained a few
epochs by the saved `train_seq2seq` and decoded by `predict_seq2seq`, as the book does before
it plots the attention weights with `show_heatmaps`.

The Keras decoders keep the book's Keras 2 habits where both Kerases allow them (`**kwargs`
passed on to the sublayers, the state as the list after the RNN's output, `rnn_output[1:]`,
a Python loop over the time steps of a tensor), so the same code runs under Keras 3 and under
tf-keras (TF_USE_LEGACY_KERAS=1, tox env tensorflow-keras2). One line differs from the book:
the Transformer's DecoderBlock declares `training=None` where the book reads
`kwargs['training']`; Keras 3 does not hand `training` to a `call` that only has `**kwargs`.
"""

import contextlib
import io
import math

import numpy as np
import pytest

from spec import modern_rnns as s2s

NUM_STEPS, NUM_EPOCHS, LR = 5, 12, 0.02
BATCHES = [s2s.toy_batch(seed, num_steps=NUM_STEPS) for seed in range(3)]
EMBED, HIDDENS, LAYERS = 8, 16, 2
HEADS, FFN_HIDDENS = 2, 16
KINDS = ("seq2seq", "bahdanau", "transformer")

_CLASSES = {}


def _decoders(b):
    """{kind: decoder class} of backend b (kind: 'seq2seq' 9.7, 'bahdanau' 10.4,
    'transformer' 10.7)."""
    if b.name not in _CLASSES:
        make = {"mxnet": _gluon_decoders, "torch": _torch_decoders,
                "tensorflow": _keras_decoders}[b.name]
        _CLASSES[b.name] = dict(zip(KINDS, make(b.d2l)))
    return _CLASSES[b.name]


def _gluon_decoders(d2l):
    from mxnet import autograd, np
    from mxnet.gluon import nn, rnn

    class Seq2SeqDecoder(d2l.Decoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = rnn.GRU(num_hiddens, num_layers, dropout=dropout)
            self.dense = nn.Dense(vocab_size, flatten=False)

        def init_state(self, enc_outputs, *args):
            return enc_outputs[1]

        def forward(self, X, state):
            X = self.embedding(X).swapaxes(0, 1)  # time-major
            top = state[0][-1]  # the encoder's last layer: the context of every step
            context = np.broadcast_to(top, (X.shape[0],) + top.shape)
            output, state = self.rnn(np.concatenate((X, context), 2), state)
            return self.dense(output).swapaxes(0, 1), state

    class Seq2SeqAttentionDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.attention = d2l.AdditiveAttention(num_hiddens, dropout)
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = rnn.GRU(num_hiddens, num_layers, dropout=dropout)
            self.dense = nn.Dense(vocab_size, flatten=False)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            outputs, hidden_state = enc_outputs
            return outputs.swapaxes(0, 1), hidden_state, enc_valid_lens

        def forward(self, X, state):
            enc_outputs, hidden_state, enc_valid_lens = state
            outputs, self._attention_weights = [], []
            for x in self.embedding(X).swapaxes(0, 1):
                query = np.expand_dims(hidden_state[0][-1], axis=1)
                context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
                step_input = np.concatenate((context, np.expand_dims(x, axis=1)), axis=-1)
                out, hidden_state = self.rnn(step_input.swapaxes(0, 1), hidden_state)
                outputs.append(out)
                self._attention_weights.append(self.attention.attention_weights)
            logits = self.dense(np.concatenate(outputs, axis=0))
            return logits.swapaxes(0, 1), [enc_outputs, hidden_state, enc_valid_lens]

        @property
        def attention_weights(self):
            return self._attention_weights

    class DecoderBlock(nn.Block):
        def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, i):
            super().__init__()
            self.i = i
            self.attention1 = d2l.MultiHeadAttention(num_hiddens, num_heads, dropout)
            self.addnorm1 = d2l.AddNorm(dropout)
            self.attention2 = d2l.MultiHeadAttention(num_hiddens, num_heads, dropout)
            self.addnorm2 = d2l.AddNorm(dropout)
            self.ffn = d2l.PositionWiseFFN(ffn_num_hiddens, num_hiddens)
            self.addnorm3 = d2l.AddNorm(dropout)

        def forward(self, X, state):
            enc_outputs, enc_valid_lens = state[0], state[1]
            cached = state[2][self.i]
            key_values = X if cached is None else np.concatenate((cached, X), axis=1)
            state[2][self.i] = key_values
            causal = None
            if autograd.is_training():  # query t sees keys 1..t
                batch_size, num_steps, _ = X.shape
                causal = np.tile(np.arange(1, num_steps + 1, ctx=X.ctx), (batch_size, 1))
            Y = self.addnorm1(X, self.attention1(X, key_values, key_values, causal))
            Z = self.addnorm2(Y, self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens))
            return self.addnorm3(Z, self.ffn(Z)), state

    class TransformerDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                     dropout):
            super().__init__()
            self.num_hiddens, self.num_layers = num_hiddens, num_layers
            self.embedding = nn.Embedding(vocab_size, num_hiddens)
            self.pos_encoding = d2l.PositionalEncoding(num_hiddens, dropout)
            self.blks = nn.Sequential()
            for i in range(num_layers):
                self.blks.add(DecoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout, i))
            self.dense = nn.Dense(vocab_size, flatten=False)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            return [enc_outputs, enc_valid_lens, [None] * self.num_layers]

        def forward(self, X, state):
            X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
            self._attention_weights = [[None] * self.num_layers for _ in range(2)]
            for i, blk in enumerate(self.blks):
                X, state = blk(X, state)
                self._attention_weights[0][i] = blk.attention1.attention.attention_weights
                self._attention_weights[1][i] = blk.attention2.attention.attention_weights
            return self.dense(X), state

        @property
        def attention_weights(self):
            return self._attention_weights

    return Seq2SeqDecoder, Seq2SeqAttentionDecoder, TransformerDecoder


def _torch_decoders(d2l):
    import torch
    from torch import nn

    class Seq2SeqDecoder(d2l.Decoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers,
                              dropout=dropout)
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def init_state(self, enc_outputs, *args):
            return enc_outputs[1]

        def forward(self, X, state):
            X = self.embedding(X).permute(1, 0, 2)  # time-major
            context = state[-1].repeat(X.shape[0], 1, 1)
            output, state = self.rnn(torch.cat((X, context), 2), state)
            return self.dense(output).permute(1, 0, 2), state

    class Seq2SeqAttentionDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.attention = d2l.AdditiveAttention(num_hiddens, num_hiddens, num_hiddens,
                                                   dropout)
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers,
                              dropout=dropout)
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            outputs, hidden_state = enc_outputs
            return outputs.permute(1, 0, 2), hidden_state, enc_valid_lens

        def forward(self, X, state):
            enc_outputs, hidden_state, enc_valid_lens = state
            outputs, self._attention_weights = [], []
            for x in self.embedding(X).permute(1, 0, 2):
                query = torch.unsqueeze(hidden_state[-1], dim=1)
                context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
                step_input = torch.cat((context, torch.unsqueeze(x, dim=1)), dim=-1)
                out, hidden_state = self.rnn(step_input.permute(1, 0, 2), hidden_state)
                outputs.append(out)
                self._attention_weights.append(self.attention.attention_weights)
            logits = self.dense(torch.cat(outputs, dim=0))
            return logits.permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens]

        @property
        def attention_weights(self):
            return self._attention_weights

    class DecoderBlock(nn.Module):
        def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, i):
            super().__init__()
            h = num_hiddens
            self.i = i
            self.attention1 = d2l.MultiHeadAttention(h, h, h, h, num_heads, dropout)
            self.addnorm1 = d2l.AddNorm([h], dropout)
            self.attention2 = d2l.MultiHeadAttention(h, h, h, h, num_heads, dropout)
            self.addnorm2 = d2l.AddNorm([h], dropout)
            self.ffn = d2l.PositionWiseFFN(h, ffn_num_hiddens, h)
            self.addnorm3 = d2l.AddNorm([h], dropout)

        def forward(self, X, state):
            enc_outputs, enc_valid_lens = state[0], state[1]
            cached = state[2][self.i]
            key_values = X if cached is None else torch.cat((cached, X), dim=1)
            state[2][self.i] = key_values
            causal = None
            if self.training:  # query t sees keys 1..t
                batch_size, num_steps, _ = X.shape
                causal = torch.arange(1, num_steps + 1, device=X.device).repeat(batch_size, 1)
            Y = self.addnorm1(X, self.attention1(X, key_values, key_values, causal))
            Z = self.addnorm2(Y, self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens))
            return self.addnorm3(Z, self.ffn(Z)), state

    class TransformerDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                     dropout):
            super().__init__()
            self.num_hiddens, self.num_layers = num_hiddens, num_layers
            self.embedding = nn.Embedding(vocab_size, num_hiddens)
            self.pos_encoding = d2l.PositionalEncoding(num_hiddens, dropout)
            self.blks = nn.Sequential()
            for i in range(num_layers):
                self.blks.add_module(f"block{i}", DecoderBlock(num_hiddens, ffn_num_hiddens,
                                                               num_heads, dropout, i))
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            return [enc_outputs, enc_valid_lens, [None] * self.num_layers]

        def forward(self, X, state):
            X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
            self._attention_weights = [[None] * self.num_layers for _ in range(2)]
            for i, blk in enumerate(self.blks):
                X, state = blk(X, state)
                self._attention_weights[0][i] = blk.attention1.attention.attention_weights
                self._attention_weights[1][i] = blk.attention2.attention.attention_weights
            return self.dense(X), state

        @property
        def attention_weights(self):
            return self._attention_weights

    return Seq2SeqDecoder, Seq2SeqAttentionDecoder, TransformerDecoder


def _keras_decoders(d2l):
    import tensorflow as tf

    class Seq2SeqDecoder(d2l.Decoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0,
                     **kwargs):
            super().__init__(**kwargs)
            self.embedding = tf.keras.layers.Embedding(vocab_size, embed_size)
            self.rnn = tf.keras.layers.RNN(tf.keras.layers.StackedRNNCells(
                [tf.keras.layers.GRUCell(num_hiddens, dropout=dropout)
                 for _ in range(num_layers)]), return_sequences=True, return_state=True)
            self.dense = tf.keras.layers.Dense(vocab_size)

        def init_state(self, enc_outputs, *args):
            return enc_outputs[1]

        def call(self, X, state, **kwargs):
            X = self.embedding(X)  # batch-major
            context = tf.repeat(tf.expand_dims(state[-1], axis=1), repeats=X.shape[1], axis=1)
            rnn_output = self.rnn(tf.concat((X, context), axis=2), state, **kwargs)
            return self.dense(rnn_output[0]), rnn_output[1:]

    class Seq2SeqAttentionDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0,
                     **kwargs):
            super().__init__(**kwargs)
            self.attention = d2l.AdditiveAttention(num_hiddens, num_hiddens, num_hiddens,
                                                   dropout)
            self.embedding = tf.keras.layers.Embedding(vocab_size, embed_size)
            self.rnn = tf.keras.layers.RNN(tf.keras.layers.StackedRNNCells(
                [tf.keras.layers.GRUCell(num_hiddens, dropout=dropout)
                 for _ in range(num_layers)]), return_sequences=True, return_state=True)
            self.dense = tf.keras.layers.Dense(vocab_size)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            outputs, hidden_state = enc_outputs
            return outputs, hidden_state, enc_valid_lens

        def call(self, X, state, **kwargs):
            enc_outputs, hidden_state, enc_valid_lens = state
            outputs, self._attention_weights = [], []
            for x in tf.transpose(self.embedding(X), perm=(1, 0, 2)):
                query = tf.expand_dims(hidden_state[-1], axis=1)
                context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens,
                                         **kwargs)
                step_input = tf.concat((context, tf.expand_dims(x, axis=1)), axis=-1)
                rnn_output = self.rnn(step_input, hidden_state, **kwargs)
                outputs.append(rnn_output[0])
                hidden_state = rnn_output[1:]
                self._attention_weights.append(self.attention.attention_weights)
            logits = self.dense(tf.concat(outputs, axis=1))
            return logits, [enc_outputs, hidden_state, enc_valid_lens]

        @property
        def attention_weights(self):
            return self._attention_weights

    class DecoderBlock(tf.keras.layers.Layer):
        def __init__(self, num_hiddens, norm_shape, ffn_num_hiddens, num_heads, dropout, i,
                     **kwargs):
            super().__init__(**kwargs)
            h = num_hiddens
            self.i = i
            self.attention1 = d2l.MultiHeadAttention(h, h, h, h, num_heads, dropout)
            self.addnorm1 = d2l.AddNorm(norm_shape, dropout)
            self.attention2 = d2l.MultiHeadAttention(h, h, h, h, num_heads, dropout)
            self.addnorm2 = d2l.AddNorm(norm_shape, dropout)
            self.ffn = d2l.PositionWiseFFN(ffn_num_hiddens, h)
            self.addnorm3 = d2l.AddNorm(norm_shape, dropout)

        def call(self, X, state, training=None):
            enc_outputs, enc_valid_lens = state[0], state[1]
            cached = state[2][self.i]
            key_values = X if cached is None else tf.concat((cached, X), axis=1)
            state[2][self.i] = key_values
            causal = None
            if training:  # query t sees keys 1..t
                batch_size, num_steps = X.shape[0], X.shape[1]
                causal = tf.repeat(tf.reshape(tf.range(1, num_steps + 1), (-1, num_steps)),
                                   repeats=batch_size, axis=0)
            Y = self.addnorm1(X, self.attention1(X, key_values, key_values, causal,
                                                 training=training), training=training)
            Z = self.addnorm2(Y, self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens,
                                                 training=training), training=training)
            return self.addnorm3(Z, self.ffn(Z), training=training), state

    class TransformerDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                     dropout, **kwargs):
            super().__init__(**kwargs)
            self.num_hiddens, self.num_layers = num_hiddens, num_layers
            self.embedding = tf.keras.layers.Embedding(vocab_size, num_hiddens)
            self.pos_encoding = d2l.PositionalEncoding(num_hiddens, dropout)
            self.blks = [DecoderBlock(num_hiddens, [2], ffn_num_hiddens, num_heads, dropout, i)
                         for i in range(num_layers)]
            self.dense = tf.keras.layers.Dense(vocab_size)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            return [enc_outputs, enc_valid_lens, [None] * self.num_layers]

        def call(self, X, state, **kwargs):
            scale = tf.math.sqrt(tf.cast(self.num_hiddens, dtype=tf.float32))
            X = self.pos_encoding(self.embedding(X) * scale, **kwargs)
            self._attention_weights = [[None] * self.num_layers for _ in range(2)]
            for i, blk in enumerate(self.blks):
                X, state = blk(X, state, **kwargs)
                self._attention_weights[0][i] = blk.attention1.attention.attention_weights
                self._attention_weights[1][i] = blk.attention2.attention.attention_weights
            return self.dense(X), state

        @property
        def attention_weights(self):
            return self._attention_weights

    return Seq2SeqDecoder, Seq2SeqAttentionDecoder, TransformerDecoder


def _transformer_encoder(b, vocab_size):
    """The saved TransformerEncoder with HIDDENS, FFN_HIDDENS, HEADS, LAYERS, no dropout,
    in the backend's signature."""
    d2l = b.d2l
    if b.name == "mxnet":
        return d2l.TransformerEncoder(vocab_size, HIDDENS, FFN_HIDDENS, HEADS, LAYERS, 0)
    h = HIDDENS
    if b.name == "torch":
        return d2l.TransformerEncoder(vocab_size, h, h, h, h, [h], h, FFN_HIDDENS, HEADS,
                                      LAYERS, 0)
    return d2l.TransformerEncoder(vocab_size, h, h, h, h, [2], FFN_HIDDENS, HEADS, LAYERS, 0)


def _model(b, kind, vocab_size):
    decoder_class = _decoders(b)[kind]
    if kind == "transformer":
        return b.d2l.EncoderDecoder(
            _transformer_encoder(b, vocab_size),
            decoder_class(vocab_size, HIDDENS, FFN_HIDDENS, HEADS, LAYERS, 0))
    return b.d2l.EncoderDecoder(b.d2l.Seq2SeqEncoder(vocab_size, EMBED, HIDDENS, LAYERS),
                                decoder_class(vocab_size, EMBED, HIDDENS, LAYERS))


_RUNS = {}


def _trained(b, kind):
    """(per-epoch loss per token, trained net) of the book's model `kind`, trained once per
    session by the saved train_seq2seq on the toy batches (framework initialisation)."""
    if (b.name, kind) not in _RUNS:
        import matplotlib.pyplot as plt

        vocab = s2s.toy_vocab()
        net = _model(b, kind, len(vocab))
        data_iter = [s2s.backend_batch(b, batch) for batch in BATCHES]
        with s2s.recorded_histories() as histories, contextlib.redirect_stdout(io.StringIO()):
            b.d2l.train_seq2seq(net, data_iter, LR, NUM_EPOCHS, vocab, b.d2l.try_gpu())
        plt.close("all")
        _RUNS[b.name, kind] = histories[0], net
    return _RUNS[b.name, kind]


def _concrete(b, weights):
    """The attention weights as NumPy arrays (nested lists kept); fails on anything that is
    not a concrete array (e.g. a symbolic tensor of a tf.function trace)."""
    if isinstance(weights, (list, tuple)) or type(weights).__name__ == "ListWrapper":
        return [_concrete(b, w) for w in weights]
    array = b.numpy(weights)
    assert isinstance(array, np.ndarray) and array.dtype.kind == "f", type(weights)
    return array


@pytest.mark.parametrize("kind", KINDS)
def test_book_decoder_trains_with_train_seq2seq(backend, kind):
    history, _ = _trained(backend, kind)
    assert len(history) == NUM_EPOCHS and all(np.isfinite(history))
    assert history[-1] < 0.8 * history[0], history


def _translate(b, net, save_attention_weights):
    vocab = s2s.toy_vocab()
    translation, steps = s2s.predict(b, net, "a b c", vocab, vocab, NUM_STEPS,
                                     save_attention_weights)
    assert isinstance(translation, str)
    assert all(token in s2s.TOY_TOKENS[4:] for token in translation.split(" ") if translation)
    return translation, steps


def test_book_seq2seq_decoder_translates(backend):
    """9.7: the state the decoder returns (the RNN's states after its output) goes back into
    it at the next step; greedy decoding yields vocabulary words."""
    _, net = _trained(backend, "seq2seq")
    translation, steps = _translate(backend, net, False)
    assert steps == [] and len(translation.split()) <= NUM_STEPS


def _rows_sum_to_one(array):
    np.testing.assert_allclose(array.sum(axis=-1), 1, rtol=1e-5)


def test_book_bahdanau_decoder_attention_weights(backend):
    """10.4: one (1, 1, num_steps) weight per decoded token (the query of that step against
    the padded source), rows summing to 1, masked past the source's valid length 4 ('a b c
    <eos>'); after prediction the decoder's attention_weights are concrete arrays."""
    _, net = _trained(backend, "bahdanau")
    translation, steps = _translate(backend, net, True)
    assert 1 <= len(steps) <= NUM_STEPS and len(steps) >= len(translation.split())
    for step in steps:
        (weights,) = _concrete(backend, step)
        assert weights.shape == (1, 1, NUM_STEPS)
        _rows_sum_to_one(weights)
        np.testing.assert_array_equal(weights[..., 4:], 0)
    (last,) = _concrete(backend, net.decoder.attention_weights)
    assert last.shape == (1, 1, NUM_STEPS)


def test_book_transformer_decoder_attention_weights(backend):
    """10.7: per decoded token [self-attention per block, encoder-decoder attention per
    block]; the self-attention sees the cached keys of the t steps so far (heads, 1, t), the
    encoder-decoder attention the num_steps source positions (heads, 1, num_steps); rows sum
    to 1; the book's heatmap stacking works on the concrete arrays."""
    _, net = _trained(backend, "transformer")
    _, steps = _translate(backend, net, True)
    assert 1 <= len(steps) <= NUM_STEPS
    for t, step in enumerate(_concrete(backend, steps), start=1):
        self_attention, cross_attention = step
        assert [w.shape for w in self_attention] == [(HEADS, 1, t)] * LAYERS
        assert [w.shape for w in cross_attention] == [(HEADS, 1, NUM_STEPS)] * LAYERS
        for w in self_attention + cross_attention:
            _rows_sum_to_one(w)
    last = _concrete(backend, net.decoder.attention_weights)
    assert [[w.shape for w in per_kind] for per_kind in last] == [
        [(HEADS, 1, len(steps))] * LAYERS, [(HEADS, 1, NUM_STEPS)] * LAYERS]
    # the book's heatmaps: encoder-decoder weights (layers, heads, decoded steps, source)
    cross = np.concatenate([np.stack(step[1]) for step in _concrete(backend, steps)], axis=2)
    assert cross.shape == (LAYERS, HEADS, len(steps), NUM_STEPS)
    backend.d2l.show_heatmaps(cross, xlabel="Key positions", ylabel="Query positions")
    import matplotlib.pyplot as plt

    assert len(plt.gcf().axes) == LAYERS * HEADS + 1  # and one colorbar


@pytest.mark.parametrize("kind, compiled", [("seq2seq", True), ("transformer", True),
                                            ("bahdanau", False)])
def test_train_seq2seq_compiles_what_traces(backend, kind, compiled):
    """TensorFlow's train_seq2seq runs the first batch eagerly, then the step as a
    tf.function: the decoder's Python `call` runs only while tracing (a few times, not once
    per batch), under Keras 3 and tf-keras alike. The Bahdanau decoder's Python loop over
    the time steps of a tensor does not trace (Keras 3 does not autograph `call`; tf-keras
    turns the loop into a tf.while_loop that cannot append to a Python list), so every one
    of its steps runs eagerly, as in the book."""
    if backend.name != "tensorflow":
        pytest.skip("tf.function compilation is TensorFlow's")
    import matplotlib.pyplot as plt

    vocab = s2s.toy_vocab()
    net = _model(backend, kind, len(vocab))
    calls, call = [], net.decoder.call
    net.decoder.call = lambda *args, **kwargs: calls.append(1) or call(*args, **kwargs)
    data_iter = [s2s.backend_batch(backend, batch) for batch in BATCHES]
    with contextlib.redirect_stdout(io.StringIO()):
        backend.d2l.train_seq2seq(net, data_iter, LR, NUM_EPOCHS, vocab,
                                  backend.d2l.try_gpu())
    plt.close("all")
    steps = NUM_EPOCHS * len(BATCHES)
    assert len(calls) < steps / 4 if compiled else len(calls) >= steps, len(calls)
