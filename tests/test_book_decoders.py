"""The book's own decoders (notebook cells of 9.7, 10.4 and 10.7, not saved) on the saved
pieces: the decoders the spec writes in the book's style and each framework's idiom (Gluon
Blocks, torch nn.Modules, Keras layers: `spec.modern_rnns.book_decoder_class`,
`spec.attention_mechanisms.book_decoders`), combined with the saved encoder in
`EncoderDecoder`, trained a few epochs by the saved `train_seq2seq` and decoded by
`predict_seq2seq`, as the book does before it plots the attention weights with
`show_heatmaps`; in TensorFlow under Keras 3 and under tf-keras (tox env tensorflow-keras2).
"""

import contextlib
import io

import numpy as np
import pytest

from spec import attention_mechanisms as attention
from spec import modern_rnns as s2s

NUM_STEPS, NUM_EPOCHS, LR = 5, 12, 0.02
BATCHES = [s2s.toy_batch(seed, num_steps=NUM_STEPS) for seed in range(3)]
EMBED, HIDDENS, LAYERS = 8, 16, 2
HEADS, FFN_HIDDENS = 2, 16
KINDS = ("seq2seq", "bahdanau", "transformer")


def _decoders(b):
    """{kind: decoder class} of backend b: the book's 9.7 decoder ('seq2seq') and its 10.4
    ('bahdanau') and 10.7 ('transformer') attention decoders, as the spec writes them in the
    book's style for each framework."""
    attention_decoder, transformer_decoder = attention.book_decoders(b)
    return {"seq2seq": s2s.book_decoder_class(b), "bahdanau": attention_decoder,
            "transformer": transformer_decoder}


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
