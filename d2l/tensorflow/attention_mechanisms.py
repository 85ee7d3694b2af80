"""Chapter 10, Attention Mechanisms, for TensorFlow (tf.keras: Keras 3 or tf-keras): masked
softmax and the scoring functions (10.3), the attention decoder interface (10.4), multi-head
attention (10.5), positional encoding (10.6) and the Transformer encoder (10.7).

Layouts: queries (batch, n_q, d_q), keys (batch, n_k, d_k), values (batch, n_k, d_v);
valid lengths (batch,) or (batch, n_q), any integer or float dtype. As in the book, the size
arguments of the constructors (key_size, query_size, value_size) are accepted but unused:
Dense layers infer their input sizes. Calls take `training=None` (passed on to dropout) where
the book wrote `**kwargs`: Keras 3 cannot trace a `call` with `**kwargs` to build nested
layers (it passes them as one argument named 'kwargs'). Layer normalization uses epsilon
1e-5 (MXNet's and PyTorch's; Keras' default is 1e-3). Layers are listed in their forward
order, which is the order of their canonical parameters (`export_params`).
"""

import math

import tensorflow as tf
from tensorflow import keras

from ..common import attention as shared
from ..common import checks
from .modern_rnns import Decoder, Encoder

__all__ = ["masked_softmax", "AdditiveAttention", "DotProductAttention", "AttentionDecoder",
           "MultiHeadAttention", "transpose_qkv", "transpose_output", "PositionalEncoding",
           "PositionWiseFFN", "AddNorm", "EncoderBlock", "TransformerEncoder"]


class _BuiltOnFirstCall:
    """Marks a layer made of sublayers as built without tracing its call: each sublayer
    builds itself on its first call. (Keras 3 would otherwise build such a layer by running
    its call on symbolic inputs first, which costs far more than the call itself.)"""

    def build(self, *shapes, **named_shapes):
        """Nothing to create here: the sublayers hold all the weights."""


def masked_softmax(X, valid_lens):
    """Softmax over the last axis of X (batch, n_k) or (batch, n_q, n_k), keeping for each
    row only the keys before its valid length: valid_lens None (no mask), (batch,) (one length
    per example) or (batch, n_q) (one per query row, 3-D X only).

    Key j is kept iff j < the valid length (1.5 keeps 2 keys). Masked keys get probability 0
    whatever the logits (NaN and infinities too); a row with valid length <= 0 (or NaN) is uniform
    (the book fills masked logits with -1e6, which gives the same numbers for every logit
    above -1e6 and a uniform row when all keys are masked).
    """
    shared.check_masked_softmax(X, valid_lens)
    if valid_lens is None:
        return tf.nn.softmax(X, axis=-1)
    lens = tf.cast(valid_lens, X.dtype)
    if len(X.shape) == 3 and len(lens.shape) == 1:
        lens = lens[:, None]
    lens = lens[..., None]
    valid = tf.range(tf.shape(X)[-1], dtype=X.dtype) < lens
    fill = tf.where(lens > 0, tf.constant(-math.inf, X.dtype), tf.constant(0, X.dtype))
    return tf.nn.softmax(tf.where(valid, X, fill), axis=-1)


class AdditiveAttention(_BuiltOnFirstCall, keras.layers.Layer):
    """Additive attention: score(q, k) = w_v · tanh(W_q q + W_k k), projections without bias
    to `num_hiddens` (w_v to 1); returns dropout(weights) @ values, (batch, n_q, d_v), and
    keeps `attention_weights` (batch, n_q, n_k) before dropout."""

    def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("AdditiveAttention", dropout)
        self.W_k = keras.layers.Dense(num_hiddens, use_bias=False)
        self.W_q = keras.layers.Dense(num_hiddens, use_bias=False)
        self.w_v = keras.layers.Dense(1, use_bias=False)
        self.dropout = keras.layers.Dropout(dropout)

    def call(self, queries, keys, values, valid_lens, training=None):
        shared.check_attention_inputs("AdditiveAttention", queries, keys, values, False)
        queries, keys = self.W_q(queries), self.W_k(keys)
        # (batch, n_q, 1, h) + (batch, 1, n_k, h): every query against every key
        features = tf.tanh(tf.expand_dims(queries, 2) + tf.expand_dims(keys, 1))
        scores = tf.squeeze(self.w_v(features), axis=-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return tf.matmul(self.dropout(self.attention_weights, training=training), values)


class DotProductAttention(_BuiltOnFirstCall, keras.layers.Layer):
    """Scaled dot-product attention: softmax(Q Kᵀ / √d) V with d = queries' last dimension;
    keeps `attention_weights` (batch, n_q, n_k) before dropout. `valid_lens` has no default,
    as in the book (pass None for no mask)."""

    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("DotProductAttention", dropout)
        self.dropout = keras.layers.Dropout(dropout)

    def call(self, queries, keys, values, valid_lens, training=None):
        shared.check_attention_inputs("DotProductAttention", queries, keys, values, True)
        # Q / √d before the product: one pass over the queries, not over the n_q x n_k scores
        scores = tf.matmul(queries / math.sqrt(queries.shape[-1]), keys, transpose_b=True)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return tf.matmul(self.dropout(self.attention_weights, training=training), values)


class AttentionDecoder(Decoder):
    """A decoder that exposes the attention weights of its last call (`attention_weights`);
    concrete decoders (10.4, 10.7) override the property."""

    @property
    def attention_weights(self):
        raise NotImplementedError


def transpose_qkv(X, num_heads):
    """(batch, n, num_hiddens) -> (batch * num_heads, n, num_hiddens / num_heads): head h of
    example b is row b * num_heads + h."""
    shared.check_transpose_qkv(X, num_heads)
    batch, steps, depth = tf.shape(X)[0], tf.shape(X)[1], X.shape[-1] // num_heads
    X = tf.transpose(tf.reshape(X, (batch, steps, num_heads, depth)), perm=(0, 2, 1, 3))
    return tf.reshape(X, (-1, steps, depth))


def transpose_output(X, num_heads):
    """The inverse of `transpose_qkv`: (batch * num_heads, n, d) -> (batch, n, num_heads * d)."""
    shared.check_transpose_output(X, num_heads)
    steps, depth = tf.shape(X)[1], X.shape[-1]
    X = tf.transpose(tf.reshape(X, (-1, num_heads, steps, depth)), perm=(0, 2, 1, 3))
    return tf.reshape(X, (-1, steps, num_heads * depth))


class MultiHeadAttention(_BuiltOnFirstCall, keras.layers.Layer):
    """Multi-head attention: W_q, W_k, W_v project to `num_hiddens`, split into `num_heads`
    heads of scaled dot-product attention (`attention`, weights (batch * num_heads, n_q, n_k)),
    concatenated and projected by W_o. Output (batch, n_q, num_hiddens)."""

    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                 bias=False, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("MultiHeadAttention", dropout)
        shared.check_heads("MultiHeadAttention", num_hiddens, num_heads)
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = keras.layers.Dense(num_hiddens, use_bias=bias)
        self.W_k = keras.layers.Dense(num_hiddens, use_bias=bias)
        self.W_v = keras.layers.Dense(num_hiddens, use_bias=bias)
        self.W_o = keras.layers.Dense(num_hiddens, use_bias=bias)

    def call(self, queries, keys, values, valid_lens, training=None):
        queries = transpose_qkv(self.W_q(queries), self.num_heads)
        keys = transpose_qkv(self.W_k(keys), self.num_heads)
        values = transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:  # each example's lengths once per head, consecutively
            valid_lens = tf.repeat(valid_lens, repeats=self.num_heads, axis=0)
        output = self.attention(queries, keys, values, valid_lens, training=training)
        return self.W_o(transpose_output(output, self.num_heads))


class PositionalEncoding(_BuiltOnFirstCall, keras.layers.Layer):
    """X + P[:, :steps] then dropout, for X (batch, steps, num_hiddens): P (1, max_len,
    num_hiddens) holds sin(i / 10000^(2j/num_hiddens)) in even and the cos in odd columns
    (a float64 NumPy array, as in the book, cast to X's dtype when used)."""

    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        checks.dropout("PositionalEncoding", dropout)
        self.dropout = keras.layers.Dropout(dropout)
        self.P = shared.positional_encoding_table(num_hiddens, max_len)

    def call(self, X, training=None):
        shared.check_positions(X, self.P.shape[2], self.P.shape[1])
        X = X + tf.cast(self.P[:, :X.shape[1], :], X.dtype)
        return self.dropout(X, training=training)


class PositionWiseFFN(_BuiltOnFirstCall, keras.layers.Layer):
    """dense2(ReLU(dense1(X))) on the last axis: (input size inferred) -> ffn_num_hiddens ->
    ffn_num_outputs."""

    def __init__(self, ffn_num_hiddens, ffn_num_outputs, **kwargs):
        checks.positive_ints("PositionWiseFFN", ffn_num_hiddens=ffn_num_hiddens,
                             ffn_num_outputs=ffn_num_outputs)
        super().__init__(**kwargs)
        self.dense1 = keras.layers.Dense(ffn_num_hiddens)
        self.relu = keras.layers.ReLU()
        self.dense2 = keras.layers.Dense(ffn_num_outputs)

    def call(self, X):
        return self.dense2(self.relu(self.dense1(X)))


class AddNorm(_BuiltOnFirstCall, keras.layers.Layer):
    """LayerNorm(dropout(Y) + X) over the axes `normalized_shape` (a list of AXES, e.g. [2]
    for the last axis of 3-D inputs, as in the book); epsilon 1e-5."""

    def __init__(self, normalized_shape, dropout, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("AddNorm", dropout)
        self.dropout = keras.layers.Dropout(dropout)
        self.ln = keras.layers.LayerNormalization(normalized_shape, epsilon=1e-5)

    def call(self, X, Y, training=None):
        shared.check_same_shape("AddNorm", "X", X, "Y", Y)
        return self.ln(self.dropout(Y, training=training) + X)


class EncoderBlock(_BuiltOnFirstCall, keras.layers.Layer):
    """One Transformer encoder block: Y = AddNorm(X, self-attention(X)), out = AddNorm(Y,
    FFN(Y)); (batch, steps, num_hiddens) in and out."""

    def __init__(self, key_size, query_size, value_size, num_hiddens, norm_shape,
                 ffn_num_hiddens, num_heads, dropout, bias=False, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("EncoderBlock", dropout)
        self.attention = MultiHeadAttention(key_size, query_size, value_size, num_hiddens,
                                            num_heads, dropout, bias)
        self.addnorm1 = AddNorm(norm_shape, dropout)
        self.ffn = PositionWiseFFN(ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(norm_shape, dropout)

    def call(self, X, valid_lens, training=None):
        attended = self.attention(X, X, X, valid_lens, training=training)
        Y = self.addnorm1(X, attended, training=training)
        return self.addnorm2(Y, self.ffn(Y), training=training)


class TransformerEncoder(Encoder):
    """Token ids (batch, steps) -> embedding · √num_hiddens + positional encoding -> num_layers
    encoder blocks (`blks`, a list) -> (batch, steps, num_hiddens); `attention_weights` lists
    each block's self-attention weights after a call."""

    def __init__(self, vocab_size, key_size, query_size, value_size, num_hiddens, norm_shape,
                 ffn_num_hiddens, num_heads, num_layers, dropout, bias=False, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("TransformerEncoder", dropout)
        self.num_hiddens = num_hiddens
        self.embedding = keras.layers.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.blks = [EncoderBlock(key_size, query_size, value_size, num_hiddens, norm_shape,
                                  ffn_num_hiddens, num_heads, dropout, bias)
                     for _ in range(num_layers)]

    def call(self, X, valid_lens, training=None):
        if tf.executing_eagerly():  # traced (train_seq2seq), the ids cannot be read
            checks.token_ids("TransformerEncoder", "X", X, self.embedding.input_dim)
        X = self.embedding(X) * math.sqrt(self.num_hiddens)
        X = self.pos_encoding(X, training=training)
        self.attention_weights = [None] * len(self.blks)
        for i, blk in enumerate(self.blks):
            X = blk(X, valid_lens, training=training)
            self.attention_weights[i] = blk.attention.attention.attention_weights
        return X
