"""Chapter 10, Attention Mechanisms, for PyTorch: masked softmax and the scoring functions
(10.3), the attention decoder interface (10.4), multi-head attention (10.5), positional
encoding (10.6) and the Transformer encoder (10.7).

Layouts: queries (batch, n_q, d_q), keys (batch, n_k, d_k), values (batch, n_k, d_v);
valid lengths (batch,) or (batch, n_q), any integer or float dtype. Layers are listed in
their forward order, which is the order of their canonical parameters (`export_params`).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..common import attention as shared
from ..common import checks
from .modern_rnns import Decoder, Encoder

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
        return F.softmax(X, dim=-1)
    lens = valid_lens.to(X.device, X.dtype)
    if X.dim() == 3 and lens.dim() == 1:
        lens = lens[:, None]
    lens = lens[..., None]
    valid = torch.arange(X.shape[-1], device=X.device, dtype=X.dtype) < lens
    fill = torch.where(lens > 0, -math.inf, 0.0).to(X.dtype)
    return F.softmax(torch.where(valid, X, fill), dim=-1)


class AdditiveAttention(nn.Module):
    """Additive attention: score(q, k) = w_v · tanh(W_q q + W_k k), projections without bias
    to `num_hiddens` (w_v to 1); returns dropout(weights) @ values, (batch, n_q, d_v), and
    keeps `attention_weights` (batch, n_q, n_k) before dropout."""

    def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("AdditiveAttention", dropout)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        shared.check_attention_inputs("AdditiveAttention", queries, keys, values, False)
        queries, keys = self.W_q(queries), self.W_k(keys)
        # (batch, n_q, 1, h) + (batch, 1, n_k, h): every query against every key
        features = torch.tanh(queries.unsqueeze(2) + keys.unsqueeze(1))
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class DotProductAttention(nn.Module):
    """Scaled dot-product attention: softmax(Q Kᵀ / √d) V with d = queries' last dimension;
    keeps `attention_weights` (batch, n_q, n_k) before dropout."""

    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("DotProductAttention", dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        shared.check_attention_inputs("DotProductAttention", queries, keys, values, True)
        # Q / √d before the product: one pass over the queries, not over the n_q x n_k scores
        scores = torch.bmm(queries / math.sqrt(queries.shape[-1]), keys.transpose(1, 2))
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


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
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1).permute(0, 2, 1, 3)
    return X.reshape(-1, X.shape[2], X.shape[3])


def transpose_output(X, num_heads):
    """The inverse of `transpose_qkv`: (batch * num_heads, n, d) -> (batch, n, num_heads * d)."""
    shared.check_transpose_output(X, num_heads)
    X = X.reshape(-1, num_heads, X.shape[1], X.shape[2]).permute(0, 2, 1, 3)
    return X.reshape(X.shape[0], X.shape[1], -1)


class MultiHeadAttention(nn.Module):
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
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        queries = transpose_qkv(self.W_q(queries), self.num_heads)
        keys = transpose_qkv(self.W_k(keys), self.num_heads)
        values = transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:  # each example's lengths once per head, consecutively
            valid_lens = torch.repeat_interleave(valid_lens, self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)
        return self.W_o(transpose_output(output, self.num_heads))


class PositionalEncoding(nn.Module):
    """X + P[:, :steps] then dropout, for X (batch, steps, num_hiddens): P (1, max_len,
    num_hiddens) holds sin(i / 10000^(2j/num_hiddens)) in even and the cos in odd columns
    (float32, a plain attribute moved to X's device when used)."""

    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        checks.dropout("PositionalEncoding", dropout)
        self.dropout = nn.Dropout(dropout)
        table = shared.positional_encoding_table(num_hiddens, max_len)
        self.P = torch.tensor(table, dtype=torch.float32)

    def forward(self, X):
        shared.check_positions(X, self.P.shape[2], self.P.shape[1])
        if self.P.device != X.device:
            self.P = self.P.to(X.device)
        return self.dropout(X + self.P[:, :X.shape[1], :])


class PositionWiseFFN(nn.Module):
    """dense2(ReLU(dense1(X))) on the last axis: ffn_num_input -> ffn_num_hiddens ->
    ffn_num_outputs."""

    def __init__(self, ffn_num_input, ffn_num_hiddens, ffn_num_outputs, **kwargs):
        checks.positive_ints("PositionWiseFFN", ffn_num_input=ffn_num_input,
                             ffn_num_hiddens=ffn_num_hiddens,
                             ffn_num_outputs=ffn_num_outputs)
        super().__init__(**kwargs)
        self.dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs)

    def forward(self, X):
        return self.dense2(self.relu(self.dense1(X)))


class AddNorm(nn.Module):
    """LayerNorm(dropout(Y) + X) over the trailing dimensions `normalized_shape` (a shape,
    e.g. [num_hiddens]); epsilon 1e-5."""

    def __init__(self, normalized_shape, dropout, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("AddNorm", dropout)
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(normalized_shape)

    def forward(self, X, Y):
        shared.check_same_shape("AddNorm", "X", X, "Y", Y)
        return self.ln(self.dropout(Y) + X)


class EncoderBlock(nn.Module):
    """One Transformer encoder block: Y = AddNorm(X, self-attention(X)), out = AddNorm(Y,
    FFN(Y)); (batch, steps, num_hiddens) in and out."""

    def __init__(self, key_size, query_size, value_size, num_hiddens, norm_shape,
                 ffn_num_input, ffn_num_hiddens, num_heads, dropout, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("EncoderBlock", dropout)
        self.attention = MultiHeadAttention(key_size, query_size, value_size, num_hiddens,
                                            num_heads, dropout, use_bias)
        self.addnorm1 = AddNorm(norm_shape, dropout)
        self.ffn = PositionWiseFFN(ffn_num_input, ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(norm_shape, dropout)

    def forward(self, X, valid_lens):
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens))
        return self.addnorm2(Y, self.ffn(Y))


class TransformerEncoder(Encoder):
    """Token ids (batch, steps) -> embedding · √num_hiddens + positional encoding -> num_layers
    encoder blocks (`blks`, children block0, block1, ...) -> (batch, steps, num_hiddens);
    `attention_weights` lists each block's self-attention weights after a forward pass."""

    def __init__(self, vocab_size, key_size, query_size, value_size, num_hiddens, norm_shape,
                 ffn_num_input, ffn_num_hiddens, num_heads, num_layers, dropout,
                 use_bias=False, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("TransformerEncoder", dropout)
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.blks = nn.Sequential()
        for i in range(num_layers):
            self.blks.add_module(f"block{i}", EncoderBlock(
                key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                ffn_num_hiddens, num_heads, dropout, use_bias))

    def forward(self, X, valid_lens, *args):
        checks.token_ids("TransformerEncoder", "X", X, self.embedding.num_embeddings)
        X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
        self.attention_weights = [None] * len(self.blks)
        for i, blk in enumerate(self.blks):
            X = blk(X, valid_lens)
            self.attention_weights[i] = blk.attention.attention.attention_weights
        return X
