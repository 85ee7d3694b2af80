"""Sequence-to-sequence learning (sections 9.6-9.7) beyond the spec entries: the book's
encoder-decoder from canonical weights against NumPy and across frameworks, train_seq2seq
trajectories across frameworks, its Xavier re-initialisation, the greedy loop of
predict_seq2seq, and the book's run on the real fra-eng data.

Training agreement: MXNet's `trainer.step(num_tokens)` divides the gradients by the batch's
token count, PyTorch and TensorFlow do not. Adam is invariant to a constant gradient scale (up
to its epsilon), so trajectories agree exactly when every batch holds the same number of
target tokens; the tests use such batches, and show that MXNet departs when the counts
differ. M/P re-initialise with Xavier inside train_seq2seq; the tests replace that hook
(`_initialize`) with the canonical weights (spec.modern_rnns.canonical_init).
"""

import numpy as np
import pytest

from spec import modern_rnns as s2s

SIZES = s2s.TOY_SIZES
EQUAL_TOKENS = [s2s.toy_batch(1, valid_lens=[5, 3, 2, 4]),
                s2s.toy_batch(2, valid_lens=[4, 4, 3, 3])]  # 14 target tokens each
UNEQUAL_TOKENS = [s2s.toy_batch(1, valid_lens=[5, 5, 5, 5]),
                  s2s.toy_batch(2, valid_lens=[1, 1, 2, 1])]  # 20 and 5


# ------------------------------------------------------------ the model, canonical weights


def _net_outputs(b, params, batch):
    """(logits (batch, num_steps, vocab), decoder state (num_layers, batch, H)) of the
    encoder-decoder on X (encoder) and Y (decoder input)."""
    X, X_valid_len, Y, _ = batch
    net = s2s.seq2seq_net(b, params, SIZES)
    enc_X, dec_X, valid_len = s2s.backend_batch(b, (X, Y, X_valid_len))
    logits, state = net(enc_X, dec_X, valid_len)
    return b.numpy(logits), s2s.stacked_state(b, state)


def _numpy_outputs(params, batch):
    X, _, Y, _ = batch
    _, enc_state = s2s.encoder_reference(params, X)
    return s2s.decoder_reference(params, Y, enc_state)


def test_encoder_decoder_from_canonical_weights_matches_numpy(backend):
    """Seq2SeqEncoder + the book's decoder in EncoderDecoder: the decoder starts from the
    encoder's final state and reads its last layer as context at every step."""
    params = s2s.seq2seq_params(SIZES, seed=4)
    logits, state = _net_outputs(backend, params, EQUAL_TOKENS[0])
    expected_logits, expected_state = _numpy_outputs(params, EQUAL_TOKENS[0])
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(state, expected_state, rtol=1e-5, atol=1e-5)


def test_encoder_decoder_outputs_agree_across_frameworks(all_backends):
    params = s2s.seq2seq_params(SIZES, seed=4)
    results = {b.name: _net_outputs(b, params, EQUAL_TOKENS[1]) for b in all_backends}
    first, *others = all_backends
    for other in others:
        for a, c in zip(results[first.name], results[other.name]):
            np.testing.assert_allclose(c, a, rtol=1e-5, atol=1e-5,
                                       err_msg=f"{first.name} vs {other.name}")


def test_encoder_state_formats(backend):
    """M: a list holding (num_layers, batch, H); P: that tensor; T: a list of num_layers
    (batch, H) tensors, with batch-major outputs."""
    params = s2s.seq2seq_params(s2s.ENCODER_SIZES, seed=1)
    encoder = s2s.seq2seq_encoder(backend, params, s2s.ENCODER_SIZES)
    outputs, state = encoder(s2s.ids(backend, np.zeros((3, 5))))
    shapes = {"mxnet": ((5, 3, 6), [(2, 3, 6)]), "torch": ((5, 3, 6), (2, 3, 6)),
              "tensorflow": ((3, 5, 6), [(3, 6), (3, 6)])}[backend.name]
    got_state = ([tuple(s.shape) for s in state] if isinstance(state, list)
                 else tuple(state.shape))
    assert (tuple(outputs.shape), got_state) == shapes


# ------------------------------------------------------------------------ train_seq2seq


def _histories(backends, batches, num_epochs=10, lr=0.05):
    params = s2s.seq2seq_params(SIZES, seed=8)
    return {b.name: s2s.run_train_seq2seq(b, params, SIZES, batches, lr, num_epochs)[0]
            for b in backends}


def test_train_seq2seq_trajectories_agree_across_frameworks(all_backends):
    """Same canonical weights, same batches (equal token counts), 10 epochs of Adam: the
    per-epoch loss per token agrees across frameworks, and goes down."""
    histories = _histories(all_backends, EQUAL_TOKENS)
    first, *others = all_backends
    for other in others:
        np.testing.assert_allclose(histories[other.name], histories[first.name], rtol=1e-3,
                                   err_msg=f"{first.name} vs {other.name}")
    assert histories[first.name][-1] < 0.6 * histories[first.name][0]


def test_mxnet_gradient_scaling_shows_with_unequal_token_counts(all_backends):
    """The documented difference: with batches of 20 and 5 target tokens, MXNet (gradients
    divided by the count) leaves the PyTorch/TensorFlow trajectory (measured: by 90% within
    10 epochs), while those two stay together (measured: 0.2%; Keras' Adam has epsilon 1e-7
    where PyTorch's has 1e-8, which shows once the batches' gradients differ in scale)."""
    names = [b.name for b in all_backends]
    if "mxnet" not in names:
        pytest.skip("needs MXNet and another framework")
    histories = _histories(all_backends, UNEQUAL_TOKENS)
    others = [n for n in names if n != "mxnet"]
    assert max(abs(np.array(histories["mxnet"]) / histories[others[0]] - 1)) > 0.1
    for name in others[1:]:
        np.testing.assert_allclose(histories[name], histories[others[0]], rtol=5e-3)


def test_train_seq2seq_reinitialises_with_xavier(backend):
    """M: Xavier-uniform on every weight (embeddings too), biases zero. P: Xavier-uniform on
    the dense weights and every GRU weight matrix, embeddings and biases kept. T does not
    re-initialise (train_seq2seq trains the weights it is given)."""
    if backend.name == "tensorflow":
        pytest.skip("TensorFlow's train_seq2seq does not re-initialise")
    import importlib

    params = s2s.seq2seq_params(SIZES, seed=3, scale=2.0)
    net = s2s.seq2seq_net(backend, params, SIZES)
    module = importlib.import_module(f"d2l.{backend.name}.modern_rnns")
    module._initialize(net, backend.d2l.try_gpu())
    after = backend.d2l.export_params(net)
    assert after.keys() == params.keys()
    for key, value in after.items():
        name = key.split(".", 1)[1]
        embedding = key.split(".")[0] in ("0", "2")
        if "weight" in name and (backend.name == "mxnet" or not embedding):
            bound = np.sqrt(6 / sum(value.shape))
            assert np.abs(value).max() <= bound and not np.allclose(value, params[key]), key
        elif backend.name == "mxnet":
            np.testing.assert_array_equal(value, 0, err_msg=key)
        else:
            np.testing.assert_array_equal(value, params[key], err_msg=key)


@pytest.mark.gpu
def test_train_seq2seq_and_predict_on_gpu_match_cpu(gpu_backend):
    """train_seq2seq on the GPU follows the CPU run (same canonical weights and batches, TF32
    off), reports the GPU as its device, and the trained nets translate alike."""
    from spec import backends

    if gpu_backend.name == "torch":
        gpu_backend.fw.backends.cuda.matmul.allow_tf32 = False
        gpu_backend.fw.backends.cudnn.allow_tf32 = False
    elif gpu_backend.name == "tensorflow":
        gpu_backend.fw.config.experimental.enable_tensor_float_32_execution(False)
    params, vocab = s2s.seq2seq_params(SIZES, seed=8), s2s.toy_vocab()
    runs = {}
    for b in (backends.Backend(gpu_backend.name), gpu_backend):
        history, _, printed, net = s2s.run_train_seq2seq(b, params, SIZES, EQUAL_TOKENS, 0.05,
                                                         10)
        runs[b.gpu] = history, printed, s2s.predict(b, net, "a b c", vocab, vocab, 5)[0]
    np.testing.assert_allclose(runs[True][0], runs[False][0], rtol=1e-4)
    assert "cuda" in runs[True][1] or "gpu" in runs[True][1].lower(), runs[True][1]
    assert runs[True][2] == runs[False][2]


# ---------------------------------------------------------------------- predict_seq2seq


def _scripted_net(b, script):
    """An EncoderDecoder whose decoder emits the ids of `script` one per step (one-hot
    logits) and exposes the step index as `attention_weights`; `seen` records what the
    encoder, init_state and the decoder were given."""
    d2l, seen = b.d2l, {"decoder inputs": []}
    method = "call" if b.name == "tensorflow" else "forward"

    def encode(self, X, valid_len, **kwargs):
        seen["enc_X"], seen["enc_valid_len"] = b.numpy(X).tolist(), b.numpy(valid_len).tolist()
        return X

    def init_state(self, enc_outputs, valid_len):
        seen["init_state valid_len"] = b.numpy(valid_len).tolist()
        return b.tensor(np.zeros(1, np.float32))

    def decode(self, X, state, **kwargs):
        step = int(b.numpy(state)[0])
        seen["decoder inputs"].append(int(b.numpy(X).reshape(-1)[0]))
        self.weights_now = b.tensor(np.full((1, 1, 2), step, np.float32))
        logits = np.zeros((1, 1, len(s2s.TOY_TOKENS)), np.float32)
        logits[0, 0, script[step]] = 1
        return b.tensor(logits), state + 1

    encoder = type("ScriptedEncoder", (d2l.Encoder,), {method: encode})()
    decoder = type("ScriptedDecoder", (d2l.Decoder,), {
        method: decode, "init_state": init_state,
        "attention_weights": property(lambda self: self.weights_now)})()
    return d2l.EncoderDecoder(encoder, decoder), seen


def test_predict_seq2seq_stops_at_eos_and_saves_attention_weights(backend):
    vocab = s2s.toy_vocab()
    net, seen = _scripted_net(backend, [4, 5, 3, 6, 7])
    translation, weights = s2s.predict(backend, net, "A b", vocab, vocab, 5,
                                       save_attention_weights=True)
    assert translation == "a b"
    assert [backend.numpy(w).tolist() for w in weights] == [[[[i, i]]] for i in range(3)]
    assert seen["decoder inputs"] == [vocab["<bos>"], 4, 5]


def test_predict_seq2seq_stops_after_num_steps_without_eos(backend):
    vocab = s2s.toy_vocab()
    net, _ = _scripted_net(backend, [4, 5, 6, 7, 4, 5, 6])
    assert s2s.predict(backend, net, "a", vocab, vocab, 4) == ("a b c d", [])


def test_predict_seq2seq_source_ids_and_valid_len(backend):
    """Lower-cased, split on single spaces ('' is a token: <unk>), <eos> appended, then
    truncated to num_steps; enc_valid_len counts before truncation (it can exceed
    num_steps, as in the book) and reaches both the encoder and init_state."""
    vocab = s2s.toy_vocab()
    net, seen = _scripted_net(backend, [3])
    s2s.predict(backend, net, "D  c", vocab, vocab, 6)
    assert seen["enc_X"] == [[7, 0, 6, 3, 1, 1]] and seen["enc_valid_len"] == [4]
    s2s.predict(backend, net, "a b c d a b c", vocab, vocab, 4)
    assert seen["enc_X"] == [[4, 5, 6, 7]]
    assert seen["enc_valid_len"] == seen["init_state valid_len"] == [8]


# --------------------------------------------------------------- the book's run (9.7)


def test_seq2seq_learns_the_real_fra_eng_data(backend):
    """Ten epochs of the book's setup on the real fra-eng.zip (600 pairs): the loss per token
    falls by a third, the printed line holds the last epoch's loss, and the four book
    sentences get translated (BLEU in [0, 1])."""
    history, results, printed, _ = s2s.book_translation(backend, num_epochs=10)
    assert len(history) == 10 and history[-1] < 0.67 * history[0]
    match = s2s.SEQ2SEQ_PRINTED.match(printed)
    assert match and match.group(1) == f"{history[-1]:.3f}"
    assert [eng for eng, _, _ in results] == [eng for eng, _ in s2s.BOOK_EXAMPLES]
    assert all(isinstance(t, str) and 0 <= score <= 1 for _, t, score in results)


@pytest.mark.slow
def test_seq2seq_with_the_books_settings(backend):
    """Section 9.7 as printed: 300 epochs (seed 0). Measured: final loss 0.019 (PyTorch),
    0.020 (MXNet), 0.030 (TensorFlow; Keras drops inputs inside each GRU cell where the
    others drop between layers); 'go .' -> 'va !' everywhere; BLEU of the four sentences
    1.0/0.0/0.658/0.512 (M, P: 'i lost .' is missed) and 1.0/1.0/0.658/0.512 (T). Which
    sentences come out right depends on the random run, as in the book."""
    history, results, _, _ = s2s.book_translation(backend, num_epochs=300)
    translations = {eng: t for eng, t, _ in results}
    assert translations["go ."] == "va !"
    assert sum(score >= 0.5 for _, _, score in results) >= 2
    assert history[-1] < 0.04
