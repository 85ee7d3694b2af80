"""Chapter 9, Modern Recurrent Neural Networks, for torch: the machine-translation dataset
(9.5, built on `d2l.common.machine_translation`), the encoder-decoder interfaces (9.6) and
sequence-to-sequence learning (9.7)."""

import sys

import torch
from torch import nn

from ..common import checks, machine_translation, seq2seq
from . import aliases
from .recurrent_neural_networks import grad_clipping

# 9.5: Machine-translation data
__all__ = ["build_array_nmt", "load_data_nmt"]


def _index_tensor(a):
    """An index array as `d2l.tensor` makes it from Python ints: int64 in PyTorch."""
    return aliases.tensor(a)


def _length_tensor(a):
    """Valid lengths as the book's int32 mask sum gives them: int64 in PyTorch."""
    return aliases.tensor(a)


def build_array_nmt(lines, vocab, num_steps):
    """(array, valid_len): each token list as ids with `vocab['<eos>']` appended, truncated
    or padded with `vocab['<pad>']` to num_steps, array (N, num_steps) int64; valid_len
    (N,) int64 counts the ids that are not '<pad>'."""
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


class Encoder(nn.Module):
    """Base encoder of the encoder-decoder architecture: `forward(X, *args)` is abstract."""

    def forward(self, X, *args):
        raise NotImplementedError


class Decoder(nn.Module):
    """Base decoder: `init_state(enc_outputs, *args)` turns the encoder's outputs into the
    decoder state, `forward(X, state)` decodes; both are abstract."""

    def init_state(self, enc_outputs, *args):
        raise NotImplementedError

    def forward(self, X, state):
        raise NotImplementedError


class EncoderDecoder(nn.Module):
    """`encoder` then `decoder`: forward(enc_X, dec_X, *args) returns
    decoder(dec_X, decoder.init_state(encoder(enc_X, *args), *args))."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder

    def forward(self, enc_X, dec_X, *args):
        enc_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_outputs, *args)
        return self.decoder(dec_X, dec_state)


class Seq2SeqEncoder(Encoder):
    """Embedding then a `num_layers` GRU (dropout between layers), from a zero state.

    X: (batch, num_steps) token ids. Returns (output (num_steps, batch, num_hiddens), state
    (num_layers, batch, num_hiddens)): time-major, as `nn.GRU` computes.
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("Seq2SeqEncoder", dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)

    def forward(self, X, *args):
        checks.token_ids("Seq2SeqEncoder", "X", X, self.embedding.num_embeddings)
        X = self.embedding(X).permute(1, 0, 2)
        return self.rnn(X)


def sequence_mask(X, valid_len, value=0):
    """X (batch, steps, ...) with every entry at step j >= valid_len[b] of row b set to
    `value` (whole trailing vectors for 3-D X). Returns a new tensor (X is left unchanged;
    gradients flow to the kept entries)."""
    valid_len = torch.as_tensor(valid_len, device=X.device)
    seq2seq.check_sequence_mask(X, valid_len)
    steps = torch.arange(X.shape[1], dtype=torch.float32, device=X.device)
    keep = steps[None, :] < valid_len[:, None]
    return X.masked_fill(~keep.reshape(keep.shape + (1,) * (X.ndim - 2)), value)


class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    """Softmax cross-entropy per sequence, padding excluded.

    forward(pred (batch, num_steps, vocab) logits, label (batch, num_steps) ids, valid_len
    (batch,)) -> (batch,): the per-token losses of steps t < valid_len, summed and divided by
    num_steps (all positions, as in the book, not by the valid count). Masked steps count 0
    whatever their logits (NaN and infinities too); a label id outside [0, vocab) is a
    ValueError.
    """

    def forward(self, pred, label, valid_len):
        seq2seq.check_masked_softmax_ce(pred, label, valid_len)
        checks.token_ids("MaskedSoftmaxCELoss", "label", label, pred.shape[-1])
        self.reduction = "none"
        unweighted = super().forward(pred.permute(0, 2, 1), label.long())
        return sequence_mask(unweighted, valid_len).mean(dim=1)


def _initialize(net, device):
    """Xavier-uniform weights for every nn.Linear and every weight matrix of every nn.GRU
    (exact types; biases and embeddings keep theirs), then move the net to `device`."""
    def init_weights(m):
        if type(m) is nn.Linear:
            nn.init.xavier_uniform_(m.weight)
        if type(m) is nn.GRU:
            for name in m._flat_weights_names:
                if "weight" in name:
                    nn.init.xavier_uniform_(m._parameters[name])

    net.apply(init_weights)
    net.to(device)


def _decoder_input(Y, bos):
    """Teacher forcing: `bos` followed by Y[:, :-1], for Y (batch, num_steps)."""
    return torch.cat([torch.full_like(Y[:, :1], bos), Y[:, :-1]], 1)


def train_seq2seq(net, data_iter, lr, num_epochs, tgt_vocab, device):
    """Train an encoder-decoder with teacher forcing: Xavier re-initialisation, Adam(lr),
    the masked softmax cross-entropy (backward of its sum over the batch, no division by the
    token count), gradients clipped to norm 1. Plots the loss per token every 10 epochs and
    prints `loss …, … tokens/sec on {device}`. Batches are (X, X_valid_len, Y,
    Y_valid_len). Returns None."""
    seq2seq.check_training(lr, num_epochs)
    _initialize(net, device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss = MaskedSoftmaxCELoss()
    net.train()

    def step(batch):
        X, X_valid_len, Y, Y_valid_len = [x.to(device) for x in batch]
        optimizer.zero_grad()
        Y_hat, _ = net(X, _decoder_input(Y, tgt_vocab["<bos>"]), X_valid_len)
        l = loss(Y_hat, Y, Y_valid_len)
        l.sum().backward()
        grad_clipping(net, 1)
        optimizer.step()
        return l.detach().sum(), Y_valid_len.sum()

    seq2seq.train_seq2seq(step, data_iter, num_epochs, device, len(tgt_vocab))


def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps, device,
                    save_attention_weights=False):
    """Greedy translation of one sentence (net in eval mode, no gradients): returns (the
    predicted tokens joined by spaces, the decoder's `attention_weights` after every step
    when `save_attention_weights`, else [])."""
    net.eval()
    ids, valid_len = seq2seq.source_ids(src_sentence, src_vocab, num_steps)
    enc_X = torch.tensor([ids], dtype=torch.long, device=device)
    enc_valid_len = torch.tensor([valid_len], device=device)

    def decode_step(token, state):
        Y, state = net.decoder(torch.tensor([[token]], dtype=torch.long, device=device), state)
        return int(Y.argmax(dim=2)[0, 0]), state

    with torch.no_grad():
        state = net.decoder.init_state(net.encoder(enc_X, enc_valid_len), enc_valid_len)
        attention = (lambda: net.decoder.attention_weights) if save_attention_weights else None
        return seq2seq.greedy_decode(decode_step, state, tgt_vocab, num_steps, attention)
