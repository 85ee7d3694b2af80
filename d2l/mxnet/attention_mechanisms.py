"""Chapter 10, Attention Mechanisms, for MXNet: masked softmax and the scoring functions
(10.3), the attention decoder interface (10.4), multi-head attention (10.5), positional
encoding (10.6) and the Transformer encoder (10.7).

Layouts: queries (batch, n_q, d_q), keys (batch, n_k, d_k), values (batch, n_k, d_v);
valid lengths (batch,) or (batch, n_q), float32 as `d2l.tensor` makes them (integer arrays
work too). Dense layers use `flatten=False` (they act on the last axis) and infer their input
sizes on the first call. Layers are listed in their forward order, which is the order of
their canonical parameters (`export_params`).
"""

import math

from mxnet import np, npx
from mxnet.gluon import nn

from ..common import attention as shared
from ..common import checks
from .modern_rnns import Decoder, Encoder, kept_steps

__all__ = ["masked_softmax", "AdditiveAttention", "DotProductAttention", "AttentionDecoder",
           "MultiHeadAttention", "transpose_qkv", "transpose_output", "PositionalEncoding",
           "PositionWiseFFN", "AddNorm", "EncoderBlock", "TransformerEncoder"]


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
        return npx.softmax(X)
    lens = valid_lens.as_in_ctx(X.ctx).astype(X.dtype)
    if X.ndim == 3 and lens.ndim == 1:
        lens = lens.reshape(-1, 1)
    # The number of kept keys of each row of the (rows, n_k) view of X.
    n_k = X.shape[-1]
    kept = kept_steps(np.broadcast_to(lens, X.shape[:-1]).reshape(-1), n_k)
    # Masked logits are replaced, never computed with, so NaN or infinite ones cannot leak
    # (np.where over the scores is several times slower in mxnet.np): first by 0 (all of a
    # row without valid keys, which thus comes out uniform), then by -inf in the other rows.
    zeroed = npx.sequence_mask(X.reshape(-1, n_k), kept, use_sequence_length=True, value=0,
                               axis=1)
    scores = npx.sequence_mask(zeroed, kept + (kept == 0) * n_k, use_sequence_length=True,
                               value=-math.inf, axis=1)
    return npx.softmax(scores).reshape(X.shape)


class AdditiveAttention(nn.Block):
    """Additive attention: score(q, k) = w_v · tanh(W_q q + W_k k), projections without bias
    to `num_hiddens` (w_v to 1); returns dropout(weights) @ values, (batch, n_q, d_v), and
    keeps `attention_weights` (batch, n_q, n_k) before dropout."""

    def __init__(self, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("AdditiveAttention", dropout)
        self.W_k = nn.Dense(num_hiddens, use_bias=False, flatten=False)
        self.W_q = nn.Dense(num_hiddens, use_bias=False, flatten=False)
        self.w_v = nn.Dense(1, use_bias=False, flatten=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        shared.check_attention_inputs("AdditiveAttention", queries, keys, values, False)
        queries, keys = self.W_q(queries), self.W_k(keys)
        # (batch, n_q, 1, h) + (batch, 1, n_k, h): every query against every key
        features = np.tanh(np.expand_dims(queries, 2) + np.expand_dims(keys, 1))
        scores = np.squeeze(self.w_v(features), axis=-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return npx.batch_dot(self.dropout(self.attention_weights), values)


class DotProductAttention(nn.Block):
    """Scaled dot-product attention: softmax(Q Kᵀ / √d) V with d = queries' last dimension;
    keeps `attention_weights` (batch, n_q, n_k) before dropout."""

    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("DotProductAttention", dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        shared.check_attention_inputs("DotProductAttention", queries, keys, values, True)
        # Q / √d before the product: one pass over the queries, not over the n_q x n_k scores
        scores = npx.batch_dot(queries / math.sqrt(queries.shape[-1]), keys, transpose_b=True)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return npx.batch_dot(self.dropout(self.attention_weights), values)


class AttentionDecoder(Decoder):
    """A decoder that exposes the attention weights of its last forward pass
    (`attention_weights`); concrete decoders (10.4, 10.7) override the property."""

    @property
    def attention_weights(self):
        raise NotImplementedError


def transpose_qkv(X, num_heads):
    """(batch, n, num_hiddens) -> (batch * num_heads, n, num_hiddens / num_heads): head h of
    example b is row b * num_heads + h."""
    shared.check_transpose_qkv(X, num_heads)
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1).transpose(0, 2, 1, 3)
    return X.reshape(-1, X.shape[2], X.shape[3])


def transpose_output(X, num_heads):
    """The inverse of `transpose_qkv`: (batch * num_heads, n, d) -> (batch, n, num_heads * d)."""
    shared.check_transpose_output(X, num_heads)
    X = X.reshape(-1, num_heads, X.shape[1], X.shape[2]).transpose(0, 2, 1, 3)
    return X.reshape(X.shape[0], X.shape[1], -1)


class MultiHeadAttention(nn.Block):
    """Multi-head attention: W_q, W_k, W_v project to `num_hiddens`, split into `num_heads`
    heads of scaled dot-product attention (`attention`, weights (batch * num_heads, n_q, n_k)),
    concatenated and projected by W_o. Output (batch, n_q, num_hiddens)."""

    def __init__(self, num_hiddens, num_heads, dropout, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("MultiHeadAttention", dropout)
        shared.check_heads("MultiHeadAttention", num_hiddens, num_heads)
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Dense(num_hiddens, use_bias=use_bias, flatten=False)
        self.W_k = nn.Dense(num_hiddens, use_bias=use_bias, flatten=False)
        self.W_v = nn.Dense(num_hiddens, use_bias=use_bias, flatten=False)
        self.W_o = nn.Dense(num_hiddens, use_bias=use_bias, flatten=False)

    def forward(self, queries, keys, values, valid_lens):
        queries = transpose_qkv(self.W_q(queries), self.num_heads)
        keys = transpose_qkv(self.W_k(keys), self.num_heads)
        values = transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:  # each example's lengths once per head, consecutively
            valid_lens = np.repeat(valid_lens, repeats=self.num_heads, axis=0)
        output = self.attention(queries, keys, values, valid_lens)
        return self.W_o(transpose_output(output, self.num_heads))


class PositionalEncoding(nn.Block):
    """X + P[:, :steps] then dropout, for X (batch, steps, num_hiddens): P (1, max_len,
    num_hiddens) holds sin(i / 10000^(2j/num_hiddens)) in even and the cos in odd columns
    (float32, a plain attribute moved to X's context when used)."""

    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        checks.dropout("PositionalEncoding", dropout)
        self.dropout = nn.Dropout(dropout)
        table = shared.positional_encoding_table(num_hiddens, max_len)
        self.P = np.array(table, dtype="float32")

    def forward(self, X):
        shared.check_positions(X, self.P.shape[2], self.P.shape[1])
        if self.P.ctx != X.ctx:
            self.P = self.P.as_in_ctx(X.ctx)
        return self.dropout(X + self.P[:, :X.shape[1], :])


class PositionWiseFFN(nn.Block):
    """dense2(ReLU(dense1(X))) on the last axis: (input size inferred) -> ffn_num_hiddens ->
    ffn_num_outputs."""

    def __init__(self, ffn_num_hiddens, ffn_num_outputs, **kwargs):
        checks.positive_ints("PositionWiseFFN", ffn_num_hiddens=ffn_num_hiddens,
                             ffn_num_outputs=ffn_num_outputs)
        super().__init__(**kwargs)
        self.dense1 = nn.Dense(ffn_num_hiddens, flatten=False, activation="relu")
        self.dense2 = nn.Dense(ffn_num_outputs, flatten=False)

    def forward(self, X):
        return self.dense2(self.dense1(X))


class AddNorm(nn.Block):
    """LayerNorm(dropout(Y) + X) over the last axis; epsilon 1e-5."""

    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("AddNorm", dropout)
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm()

    def forward(self, X, Y):
        shared.check_same_shape("AddNorm", "X", X, "Y", Y)
        return self.ln(self.dropout(Y) + X)


class EncoderBlock(nn.Block):
    """One Transformer encoder block: Y = AddNorm(X, self-attention(X)), out = AddNorm(Y,
    FFN(Y)); (batch, steps, num_hiddens) in and out."""

    def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias=False,
                 **kwargs):
        super().__init__(**kwargs)
        checks.dropout("EncoderBlock", dropout)
        self.attention = MultiHeadAttention(num_hiddens, num_heads, dropout, use_bias)
        self.addnorm1 = AddNorm(dropout)
        self.ffn = PositionWiseFFN(ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(dropout)

    def forward(self, X, valid_lens):
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
        return self.addnorm2(Y, self.ffn(Y))


class TransformerEncoder(Encoder):
    """Token ids (batch, steps) -> embedding · √num_hiddens + positional encoding -> num_layers
    encoder blocks (`blks`) -> (batch, steps, num_hiddens); `attention_weights` lists each
    block's self-attention weights after a forward pass."""

    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                 dropout, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("TransformerEncoder", dropout)
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential()
        for _ in range(num_layers):
            self.blks.add(EncoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout,
                                       use_bias))

    def forward(self, X, valid_lens, *args):
        checks.token_ids("TransformerEncoder", "X", X, self.embedding.weight.shape[0])
        X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
        self.attention_weights = [None] * len(self.blks)
        for i, blk in enumerate(self.blks):
            X = blk(X, valid_lens)
            self.attention_weights[i] = blk.attention.attention.attention_weights
        return X
