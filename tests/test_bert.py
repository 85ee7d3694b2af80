"""BERT (14.8-14.10) behaviour beyond the spec entries: the layouts and dtypes of the
pretraining data, the statistics of the random choices, the upstream bugs fixed, and a few
pretraining steps of the book's small BERT."""

import math
import random

import numpy as np
import pytest

from spec import natural_language_processing_pretraining as spec
from spec.attention_mechanisms import run

# dtypes of the seven columns (token ids, segments, valid lengths, positions, weights,
# labels, NSP labels), per framework (behaviour.md 14.9; TensorFlow: int32 like its ids)
DTYPES = {"mxnet": ["int32", "int32", "float32", "int32", "float32", "int32", "bool"],
          "torch": ["int64", "int64", "float32", "int64", "float32", "int64", "int64"],
          "tensorflow": ["int32"] * 2 + ["float32", "int32", "float32", "int32", "int32"]}
PARAGRAPHS = spec.read_wiki_reference(spec.wiki_text(120, seed=7))
# Binomial counts are accepted within Z standard deviations: a false alarm rate of about
# 6e-7 per check for a correct implementation.
Z = 5.0


def _within(count, n, p):
    return abs(count - n * p) <= Z * math.sqrt(n * p * (1 - p))


def test_dataset_columns_have_the_layouts_and_dtypes_of_the_book(backend):
    random.seed(0)
    dataset = backend.d2l._WikiTextDataset(PARAGRAPHS[:30], 40)
    example = dataset[0]
    shapes = [tuple(np.shape(backend.numpy(t))) for t in example]
    assert shapes == [(40,), (40,), (), (6,), (6,), (6,), ()]
    assert [backend.dtype_name(t) for t in example] == DTYPES[backend.name]
    columns = backend.d2l._pad_bert_inputs(
        [([5, 6, 7], [1], [6], [0, 0, 1], True)], 10, dataset.vocab)
    assert [backend.dtype_name(c[0]) for c in columns] == DTYPES[backend.name]


def test_loader_batches_hold_every_example_once(backend):
    with spec.wiki_served(spec.wiki_text(30, seed=1)):
        random.seed(3)
        train_iter, vocab = backend.d2l.load_data_wiki(8, 32)
        batches = spec._batches(backend, train_iter)
    assert {len(b[0]) for b in batches[:-1]} == {8}
    tokens = np.concatenate([b[0] for b in batches])
    assert tokens.shape[1] == 32 and tokens.max() < len(vocab)
    assert [str(b.dtype) for b in batches[0]] == DTYPES[backend.name]


def test_next_sentence_pairs_are_half_true():
    from d2l.common import bert_data

    random.seed(1)
    paragraphs = [[s.split() for s in p] for p in PARAGRAPHS]
    flags = [bert_data._get_next_sentence(["a"], ["b"], paragraphs)[2] for _ in range(4000)]
    assert _within(sum(flags), len(flags), 0.5)


def test_mlm_replacement_is_80_10_10_with_vocabulary_words():
    """Counts of '<mask>', kept and replaced tokens (a replacement that happens to draw the
    original token counts as kept; over 300+ words that has probability < 1%); every
    replacement is a token string of the vocabulary (upstream inserted integer ids)."""
    from d2l.common import bert_data
    from d2l.common.text import Vocab

    sentences = [s.split() for p in PARAGRAPHS for s in p]
    vocab = Vocab(sentences, min_freq=1, reserved_tokens=spec.BERT_RESERVED)
    random.seed(4)
    counts, n = {"mask": 0, "keep": 0, "word": 0}, 0
    for sentence in sentences[:1500]:
        tokens = ["<cls>"] + sentence + ["<sep>"]
        new, pairs = bert_data._replace_mlm_tokens(tokens, list(range(1, len(tokens) - 1)),
                                                  2, vocab)
        for position, original in pairs:
            n += 1
            replaced = new[position]
            assert isinstance(replaced, str) and replaced in vocab.token_to_idx
            counts["mask" if replaced == "<mask>" else
                   "keep" if replaced == original else "word"] += 1
    assert _within(counts["mask"], n, 0.8)
    assert _within(counts["keep"], n, 0.1 + 0.1 / len(vocab) * 3)
    assert _within(counts["word"], n, 0.1)


def test_same_seed_same_examples_other_seed_other_examples(backend):
    def arrays(seed):
        random.seed(seed)
        dataset = backend.d2l._WikiTextDataset(PARAGRAPHS[:20], 32)
        return [np.stack([backend.numpy(dataset[i][c]) for i in range(len(dataset))])
                for c in range(7)]

    first, again, other = arrays(5), arrays(5), arrays(6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, other))


def test_pad_rejects_an_example_longer_than_max_len(backend):
    vocab = backend.d2l.Vocab([["a"]], reserved_tokens=spec.BERT_RESERVED)
    with pytest.raises(ValueError, match="max_len"):
        backend.d2l._pad_bert_inputs([([1] * 12, [1], [2], [0] * 12, True)], 10, vocab)


def test_mlm_loss_ignores_padded_predictions(backend):
    """The loss of the spec's padded batch differs from the unmasked mean upstream PyTorch
    computed (so the reference check can tell them apart), and changing the logits' labels
    at padded slots leaves it unchanged."""
    net = spec.build_bert(backend, "model", spec.LOSS_BERT,
                          spec.bert_params(np.random.default_rng(1), spec.LOSS_BERT))
    batch = spec.loss_batch()
    mlm = float(backend.numpy(spec.batch_loss(backend, net, batch)[0]))
    tokens, segments, lens, positions, weights, labels, nsp = batch
    shifted = np.where(weights > 0, labels, (labels + 3) % spec.LOSS_BERT["vocab_size"])
    moved = (tokens, segments, lens, positions, weights, shifted, nsp)
    assert float(backend.numpy(spec.batch_loss(backend, net, moved)[0])) == pytest.approx(
        mlm, rel=1e-6)
    params = spec.bert_params(np.random.default_rng(1), spec.LOSS_BERT)
    _, mlm_hat, _ = spec.bert_model_reference(params, tokens, segments, lens, positions, 2, 2)
    unmasked = spec.cross_entropy(mlm_hat.reshape(-1, spec.LOSS_BERT["vocab_size"]),
                                  labels.reshape(-1)).mean()
    assert abs(mlm - unmasked) > 1e-2


def test_positional_embedding_is_trained(backend):
    """One SGD step moves the positional embedding rows of the used positions (upstream
    PyTorch added `.data`, so they stayed put)."""
    s = spec.LOSS_BERT
    net = spec.build_bert(backend, "model", s, spec.bert_params(np.random.default_rng(1), s))
    before = spec.bert_params(np.random.default_rng(1), s)["0.weight"]
    spec.train_steps(backend, net, [spec.loss_batch()], 0.5, 1)
    after = backend.d2l.export_params(net)["0.weight"]
    assert np.abs(after - before)[0, :10].max() > 1e-4


def test_model_without_pred_positions_returns_no_mlm_output(backend):
    s = spec.LOSS_BERT
    net = spec.build_bert(backend, "model", s, spec.bert_params(np.random.default_rng(2), s))
    ids = backend.tensor(np.ones((2, 4)), spec.ids_dtype(backend))
    encoded, mlm, nsp = run(backend, net, ids, ids * 0, None, None)
    assert mlm is None
    assert tuple(encoded.shape) == (2, 4, s["num_hiddens"]) and tuple(nsp.shape) == (2, 2)


# The book's small BERT (14.10): 2 layers, 128 hidden, 2 heads, 256 FFN, max_len 64.
BOOK_BERT = {"num_heads": 2, "num_hiddens": 128, "ffn_num_hiddens": 256, "num_layers": 2,
             "max_len": 64}


def _book_pretraining(b, steps=4):
    """`steps` SGD steps of the book's small BERT on a batch of generated WikiText-2
    (load_data_wiki's vocabulary, the dataset's first 32 examples), from one set of
    canonical weights: [[mlm, nsp] per step]."""
    text = spec.wiki_text(300, seed=2)
    with spec.wiki_served(text):
        random.seed(0)
        _, vocab = b.d2l.load_data_wiki(32, BOOK_BERT["max_len"])
    random.seed(0)
    dataset = b.d2l._WikiTextDataset(spec.read_wiki_reference(text), BOOK_BERT["max_len"])
    s = dict(BOOK_BERT, vocab_size=len(vocab))
    # One batch, seen at every step: generated sentences are independent draws, so only
    # memorising a batch can lower the NSP loss.
    rows = [[b.numpy(t) for t in dataset[i]] for i in range(32)]
    batches = [tuple(np.stack([r[c] for r in rows]) for c in range(7))]
    # small weights (N(0, 0.05) instead of the spec's 0.5) keep 128-wide layers in their
    # smooth range, so SGD descends steadily
    params = {k: v if k.endswith(("gamma", "beta")) else v / 10
              for k, v in spec.bert_params(np.random.default_rng(0), s).items()}
    net = spec.build_bert(b, "model", s, params)
    return spec.train_steps(b, net, batches, 0.02, steps, len(vocab))


@pytest.mark.slow
def test_book_small_bert_pretraining_steps_reduce_both_losses(backend):
    history = _book_pretraining(backend)
    assert history[-1][0] < history[0][0] and history[-1][1] < history[0][1], history


@pytest.mark.slow
def test_book_small_bert_pretraining_agrees_across_frameworks(all_backends):
    histories = {b.name: np.array(_book_pretraining(b)) for b in all_backends}
    first, *others = histories.values()
    for other in others:
        np.testing.assert_allclose(other, first, rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("inlined", [True, False], ids=["inlined-draws", "random-module"])
def test_dataset_matches_reference_with_special_tokens_in_the_text(monkeypatch, inlined):
    """Sentences holding '<sep>' or '<cls>' (their positions are no MLM candidates), with the
    inlined draws and with `random`'s own functions (the fallback on other Pythons)."""
    from d2l.common import bert_data

    matches = bert_data._inlined_draws_match()
    monkeypatch.setattr(bert_data, "_inlined_draws_match", lambda: inlined and matches)
    paragraphs = [list(p) for p in PARAGRAPHS[:25]]
    paragraphs[3][0] = "a <sep> b " + paragraphs[3][0]
    paragraphs[7][1] = "<cls> " + paragraphs[7][1]
    random.seed(12)
    arrays = bert_data.WikiTextExamples(paragraphs, 40).arrays
    random.seed(12)
    _, expected = spec.dataset_reference(paragraphs, 40)
    for got, want in zip(arrays, expected):
        np.testing.assert_array_equal(got, np.stack(want))


def test_inlined_draws_reproduce_this_pythons_random():
    from d2l.common import bert_data

    assert bert_data._inlined_draws_match()
