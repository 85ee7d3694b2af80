"""Chapter 9, Modern Recurrent Neural Networks, for mxnet: the machine-translation dataset
(9.5, built on `d2l.common.machine_translation`), the encoder-decoder interfaces (9.6) and
sequence-to-sequence learning (9.7)."""

import sys

from mxnet import autograd, gluon, init, np, npx
from mxnet.gluon import nn, rnn

from ..common import checks, machine_translation, seq2seq
from . import aliases
from .recurrent_neural_networks import grad_clipping

# 9.5: Machine-translation data
__all__ = ["build_array_nmt", "load_data_nmt"]


def _index_tensor(a):
    """An index array as `d2l.tensor` makes it from Python ints: float32 in MXNet."""
    return aliases.tensor(a, dtype="float32")


def _length_tensor(a):
    """Valid lengths as the book's int32 mask sum gives them: int32 in MXNet."""
    return aliases.tensor(a, dtype="int32")


def build_array_nmt(lines, vocab, num_steps):
    """(array, valid_len): each token list as ids with `vocab['<eos>']` appended, truncated
    or padded with `vocab['<pad>']` to num_steps, array (N, num_steps) float32; valid_len
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


class Encoder(nn.Block):
    """Base encoder of the encoder-decoder architecture: `forward(X, *args)` is abstract."""

    def forward(self, X, *args):
        raise NotImplementedError


class Decoder(nn.Block):
    """Base decoder: `init_state(enc_outputs, *args)` turns the encoder's outputs into the
    decoder state, `forward(X, state)` decodes; both are abstract."""

    def init_state(self, enc_outputs, *args):
        raise NotImplementedError

    def forward(self, X, state):
        raise NotImplementedError


class EncoderDecoder(nn.Block):
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

    X: (batch, num_steps) token ids. Returns (output (num_steps, batch, num_hiddens), state):
    time-major, and the state is a list holding one (num_layers, batch, num_hiddens) array,
    as Gluon's GRU returns it.
    """

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs):
        super().__init__(**kwargs)
        checks.dropout("Seq2SeqEncoder", dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = rnn.GRU(num_hiddens, num_layers, dropout=dropout)

    def forward(self, X, *args):
        checks.token_ids("Seq2SeqEncoder", "X", X, self.embedding.weight.shape[0])
        X = self.embedding(X).swapaxes(0, 1)
        state = self.rnn.begin_state(batch_size=X.shape[1], ctx=X.ctx)
        return self.rnn(X, state)


def sequence_mask(X, valid_len, value=0):
    """X (batch, steps, ...) with every entry at step j >= valid_len[b] of row b set to
    `value` (whole trailing vectors for 3-D X); `npx.sequence_mask` along axis 1. Returns a
    new array; gradients flow to the kept entries. (Not saved by the MXNet book, which calls
    `npx.sequence_mask`; provided so `d2l.sequence_mask` means the same in every backend.)

    Step j is kept iff j < valid_len[b], as in PyTorch and TensorFlow (see `kept_steps`)."""
    if not isinstance(valid_len, np.ndarray):
        valid_len = np.array(valid_len, ctx=X.ctx)
    seq2seq.check_sequence_mask(X, valid_len)
    return npx.sequence_mask(X, kept_steps(valid_len.as_in_ctx(X.ctx), X.shape[1]),
                             use_sequence_length=True, value=value, axis=1)


def kept_steps(valid_len, steps):
    """The number of steps j < valid_len of each row (of `steps`): valid_len rounded up,
    NaN to 0, clipped to [0, steps]. npx.sequence_mask truncates fractional lengths,
    miscounts negative ones and crashes on NaN, so it is given these counts instead
    (element-wise ops on the lengths only, no wait)."""
    lens = valid_len.astype("float32")
    return np.clip(np.ceil(np.where(np.isnan(lens), 0, lens)), 0, steps)


class MaskedSoftmaxCELoss(gluon.loss.SoftmaxCELoss):
    """Softmax cross-entropy per sequence, padding excluded.

    forward(pred (batch, num_steps, vocab) logits, label (batch, num_steps) ids, valid_len
    (batch,)) -> (batch,): the per-token losses of steps t < valid_len, summed and divided by
    num_steps (all positions, as in the book, not by the valid count). Masked steps count 0
    whatever their logits (NaN and infinities too); a label id outside [0, vocab) is a
    ValueError.
    """

    def forward(self, pred, label, valid_len):
        seq2seq.check_masked_softmax_ce(pred, label, valid_len)
        # asnumpy waits only for the ops writing the labels (none, for a batch of data)
        checks.token_ids("MaskedSoftmaxCELoss", "label", label, pred.shape[-1])
        # SoftmaxCELoss's own computation (sparse labels, logits), with the masked steps'
        # losses replaced, not multiplied by 0 (which keeps NaN and infinities)
        unweighted = -npx.pick(npx.log_softmax(pred, axis=self._axis), label, axis=self._axis)
        return sequence_mask(unweighted, valid_len).mean(axis=1)


def _initialize(net, device):
    """Xavier initialisation of every parameter on `device`, replacing any earlier one."""
    net.initialize(init.Xavier(), force_reinit=True, ctx=device)


def _decoder_input(Y, bos):
    """Teacher forcing: `bos` followed by Y[:, :-1], for Y (batch, num_steps)."""
    return np.concatenate([np.full((Y.shape[0], 1), bos, dtype=Y.dtype, ctx=Y.ctx),
                           Y[:, :-1]], 1)


def train_seq2seq(net, data_iter, lr, num_epochs, tgt_vocab, device):
    """Train an encoder-decoder with teacher forcing: Xavier re-initialisation, Adam(lr)
    through a Gluon Trainer stepped with the token count (gradients divided by it), the
    masked softmax cross-entropy, gradients clipped to norm 1 before that division. Plots
    the loss per token every 10 epochs and prints `loss …, … tokens/sec on {device}`.
    Batches are (X, X_valid_len, Y, Y_valid_len). Returns None."""
    seq2seq.check_training(lr, num_epochs)
    _initialize(net, device)
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": lr})
    loss = MaskedSoftmaxCELoss()

    def step(batch):
        X, X_valid_len, Y, Y_valid_len = [x.as_in_ctx(device) for x in batch]
        with autograd.record():
            Y_hat, _ = net(X, _decoder_input(Y, tgt_vocab["<bos>"]), X_valid_len)
            l = loss(Y_hat, Y, Y_valid_len)
        l.backward()
        grad_clipping(net, 1)
        num_tokens = Y_valid_len.sum()
        trainer.step(num_tokens)
        return l.sum(), num_tokens

    seq2seq.train_seq2seq(step, data_iter, num_epochs, device, len(tgt_vocab))


def predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps, device,
                    save_attention_weights=False):
    """Greedy translation of one sentence: returns (the predicted tokens joined by spaces,
    the decoder's `attention_weights` after every step when `save_attention_weights`,
    else [])."""
    ids, valid_len = seq2seq.source_ids(src_sentence, src_vocab, num_steps)
    enc_X = np.array([ids], ctx=device)
    enc_valid_len = np.array([valid_len], ctx=device)

    def decode_step(token, state):
        Y, state = net.decoder(np.array([[token]], ctx=device), state)
        return int(Y.argmax(axis=2)[0, 0]), state

    state = net.decoder.init_state(net.encoder(enc_X, enc_valid_len), enc_valid_len)
    attention = (lambda: net.decoder.attention_weights) if save_attention_weights else None
    return seq2seq.greedy_decode(decode_step, state, tgt_vocab, num_steps, attention)
