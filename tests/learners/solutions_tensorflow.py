"""A learner's TensorFlow solutions: the saved code written the way the book writes it, and
realistic mistakes (each named after what is wrong)."""

import tensorflow as tf

from d2l import tensorflow as d2l


def corr2d(X, K):
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = tf.Variable(tf.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1)))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j].assign(tf.reduce_sum(X[i:i + h, j:j + w] * K))
    return Y


def corr2d_off_by_one(X, K):
    h, w = K.shape
    Y = tf.Variable(tf.zeros((X.shape[0] - h, X.shape[1] - w)))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j].assign(tf.reduce_sum(X[i:i + h, j:j + w] * K))
    return Y


def sequence_mask(X, valid_len, value=0):
    """Mask irrelevant entries in sequences."""
    maxlen = X.shape[1]
    mask = tf.range(start=0, limit=maxlen, dtype=tf.float32)[None, :] < tf.cast(
        valid_len[:, None], dtype=tf.float32)
    if len(X.shape) == 3:
        return tf.where(tf.expand_dims(mask, axis=-1), X, value)
    return tf.where(mask, X, value)


def sequence_mask_off_by_one(X, valid_len, value=0):
    maxlen = X.shape[1]
    mask = tf.range(start=0, limit=maxlen, dtype=tf.float32)[None, :] <= tf.cast(
        valid_len[:, None], dtype=tf.float32)
    if len(X.shape) == 3:
        return tf.where(tf.expand_dims(mask, axis=-1), X, value)
    return tf.where(mask, X, value)


def masked_softmax(X, valid_lens):
    """Perform softmax operation by masking elements on the last axis."""
    if valid_lens is None:
        return tf.nn.softmax(X, axis=-1)
    shape = X.shape
    if len(valid_lens.shape) == 1:
        valid_lens = tf.repeat(valid_lens, repeats=shape[1])
    else:
        valid_lens = tf.reshape(valid_lens, shape=-1)
    X = d2l.sequence_mask(tf.reshape(X, shape=(-1, shape[-1])), valid_lens, value=-1e6)
    return tf.nn.softmax(tf.reshape(X, shape=shape), axis=-1)


def masked_softmax_wrong_axis(X, valid_lens):
    if valid_lens is None:
        return tf.nn.softmax(X, axis=1)
    shape = X.shape
    if len(valid_lens.shape) == 1:
        valid_lens = tf.repeat(valid_lens, repeats=shape[1])
    else:
        valid_lens = tf.reshape(valid_lens, shape=-1)
    X = d2l.sequence_mask(tf.reshape(X, shape=(-1, shape[-1])), valid_lens, value=-1e6)
    return tf.nn.softmax(tf.reshape(X, shape=shape), axis=1)


def masked_softmax_mask_after(X, valid_lens):
    Y = tf.nn.softmax(X, axis=-1)
    if valid_lens is None:
        return Y
    shape = X.shape
    if len(valid_lens.shape) == 1:
        valid_lens = tf.repeat(valid_lens, repeats=shape[1])
    else:
        valid_lens = tf.reshape(valid_lens, shape=-1)
    Y = d2l.sequence_mask(tf.reshape(Y, shape=(-1, shape[-1])), valid_lens)
    return tf.reshape(Y, shape=shape)


class MultiHeadAttention(tf.keras.layers.Layer):
    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                 bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.attention = d2l.DotProductAttention(dropout)
        self.W_q = tf.keras.layers.Dense(num_hiddens, use_bias=bias)
        self.W_k = tf.keras.layers.Dense(num_hiddens, use_bias=bias)
        self.W_v = tf.keras.layers.Dense(num_hiddens, use_bias=bias)
        self.W_o = tf.keras.layers.Dense(num_hiddens, use_bias=bias)

    def call(self, queries, keys, values, valid_lens, **kwargs):
        queries = d2l.transpose_qkv(self.W_q(queries), self.num_heads)
        keys = d2l.transpose_qkv(self.W_k(keys), self.num_heads)
        values = d2l.transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:
            valid_lens = tf.repeat(valid_lens, repeats=self.num_heads, axis=0)
        output = self.attention(queries, keys, values, valid_lens, **kwargs)
        output_concat = d2l.transpose_output(output, self.num_heads)
        return self.W_o(output_concat)


class UnscaledDotProductAttention(tf.keras.layers.Layer):
    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        self.dropout = tf.keras.layers.Dropout(dropout)

    def call(self, queries, keys, values, valid_lens, **kwargs):
        scores = tf.matmul(queries, keys, transpose_b=True)
        self.attention_weights = d2l.masked_softmax(scores, valid_lens)
        return tf.matmul(self.dropout(self.attention_weights, **kwargs), values)


class MultiHeadAttentionUnscaled(MultiHeadAttention):
    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                 bias=False, **kwargs):
        super().__init__(key_size, query_size, value_size, num_hiddens, num_heads, dropout,
                         bias, **kwargs)
        self.attention = UnscaledDotProductAttention(dropout)
