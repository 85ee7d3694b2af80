"""The English-French dataset (section 9.5) and BLEU (section 9.7) in each backend: the real
fra-eng.zip through download_extract, vocabulary sizes and batches derived here
independently, padding and dtypes, and BLEU's properties.

The spec entries (spec/modern_rnns.py) compare every backend with Python references; these
tests state the properties directly."""

import collections
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec import support
from spec.modern_rnns import FRA_ENG, fra_text_reference, preprocess_nmt_reference

ID_DTYPE = {"mxnet": "float32", "torch": "int64", "tensorflow": "int32"}
LENGTH_DTYPE = {"mxnet": "int32", "torch": "int64", "tensorflow": "int32"}


# ------------------------------------------------------------------ 9.5 real data


def test_read_data_nmt_extracts_the_real_archive(backend):
    with support.shared_data_served(FRA_ENG[0]) as (cache, _, _):
        text = backend.d2l.read_data_nmt()
        assert sorted(p.name for p in (cache / "fra-eng").iterdir()) == ["_about.txt",
                                                                        "fra.txt"]
    assert text.startswith("Go.\tVa !\nHi.\tSalut !\nRun!\tCours\u202f!\n")
    assert text.count("\n") == 167130


def test_preprocess_nmt_on_the_real_text(backend):
    head = fra_text_reference()[:300_000]
    processed = backend.d2l.preprocess_nmt(head)
    assert processed == preprocess_nmt_reference(head)
    assert processed.startswith("go .\tva !\nhi .\tsalut !\nrun !\tcours !\n")
    source, target = backend.d2l.tokenize_nmt(processed, 600)
    assert len(source) == len(target) == 601  # lines 0..600: the book's off-by-one
    assert (source[:2], target[:2]) == ([["go", "."], ["hi", "."]], [["va", "!"], ["salut", "!"]])
    lines = processed.split("\n")[:601]
    assert [" ".join(s) + "\t" + " ".join(t) for s, t in zip(source, target)] == lines


def test_tokenize_nmt_reads_num_examples_plus_one_lines(backend):
    text = "a .\tb .\nc\td\nno tab\ne\tf\tg\nh\ti"
    assert backend.d2l.tokenize_nmt(text, 1) == ([["a", "."], ["c"]], [["b", "."], ["d"]])
    assert backend.d2l.tokenize_nmt(text, 3) == ([["a", "."], ["c"]], [["b", "."], ["d"]])
    assert backend.d2l.tokenize_nmt(text)[0] == [["a", "."], ["c"], ["h"]]
    assert backend.d2l.tokenize_nmt(text, 0) == backend.d2l.tokenize_nmt(text)


def _expected_vocab_size(sentences, min_freq=2):
    counts = collections.Counter(t for s in sentences for t in s)
    return 4 + sum(1 for t, c in counts.items()
                   if c >= min_freq and t not in ("<unk>", "<pad>", "<bos>", "<eos>"))


def test_load_data_nmt_on_the_real_archive(backend):
    batch_size, num_steps, num_examples = 16, 8, 600
    with support.shared_data_served(FRA_ENG[0]):
        data_iter, src_vocab, tgt_vocab = backend.d2l.load_data_nmt(batch_size, num_steps,
                                                                    num_examples)
    # Independent derivation from the archive: the first 601 lines, all of them pairs.
    pairs = [line.split("\t") for line in fra_text_reference().split("\n")[:num_examples + 1]]
    assert all(len(p) == 2 for p in pairs)
    source = [preprocess_nmt_reference(en).split(" ") for en, _ in pairs]
    target = [preprocess_nmt_reference(fr).split(" ") for _, fr in pairs]
    assert len(src_vocab) == _expected_vocab_size(source) == 184
    assert len(tgt_vocab) == _expected_vocab_size(target) == 201
    assert src_vocab.idx_to_token[:4] == ["<unk>", "<pad>", "<bos>", "<eos>"]

    batches = [[backend.numpy(t) for t in batch] for batch in data_iter]
    assert len(batches) == math.ceil(len(pairs) / batch_size)
    X, X_len, Y, Y_len = batches[0]
    assert X.shape == Y.shape == (batch_size, num_steps)
    assert X_len.shape == Y_len.shape == (batch_size,)
    assert backend.dtype_name(next(iter(data_iter))[0]) == ID_DTYPE[backend.name]
    rows = {}
    for X, X_len, Y, Y_len in batches:
        for x, xl, y, yl in zip(X.astype(int), X_len, Y.astype(int), Y_len):
            for ids, valid, vocab in ((x, xl, src_vocab), (y, yl, tgt_vocab)):
                assert valid == np.sum(ids != vocab["<pad>"])
                assert (ids[:valid] != vocab["<pad>"]).all() and (ids[valid:] == 1).all()
            rows[tuple(x), tuple(y)] = rows.get((tuple(x), tuple(y)), 0) + 1
    expected = collections.Counter()
    for src, tgt in zip(source, target):
        x = (src_vocab[src] + [3] + [1] * num_steps)[:num_steps]
        y = (tgt_vocab[tgt] + [3] + [1] * num_steps)[:num_steps]
        expected[tuple(x), tuple(y)] += 1
    assert rows == dict(expected)  # every example exactly once, source kept with target


def test_load_data_nmt_shuffles(backend):
    with support.shared_data_served(FRA_ENG[0]):
        data_iter, _, _ = backend.d2l.load_data_nmt(8, 6, 100)
    epochs = [np.concatenate([backend.numpy(X) for X, *_ in data_iter]) for _ in range(3)]
    assert any(not np.array_equal(epochs[0], e) for e in epochs[1:])


# ------------------------------------------------------------------ 9.5 arrays


def test_build_array_nmt_pads_truncates_and_types(backend):
    vocab = backend.d2l.Vocab([["a", "b", "c"]], reserved_tokens=["<pad>", "<bos>", "<eos>"])
    ids, valid_len = backend.d2l.build_array_nmt([["a"], ["a", "b", "c"], []], vocab, 3)
    a, b, c = vocab[["a", "b", "c"]]
    np.testing.assert_array_equal(backend.numpy(ids), [[a, 3, 1], [a, b, c], [3, 1, 1]])
    np.testing.assert_array_equal(backend.numpy(valid_len), [2, 3, 1])  # row 1 lost '<eos>'
    assert backend.dtype_name(ids) == ID_DTYPE[backend.name]
    assert backend.dtype_name(valid_len) == LENGTH_DTYPE[backend.name]


@given(st.lists(st.integers(0, 9), max_size=8), st.integers(0, 10), st.integers(-2, 2))
def test_truncate_pad_properties(backend, line, num_steps, pad):
    out = backend.d2l.truncate_pad(line, num_steps, pad)
    assert len(out) == num_steps and out is not line
    assert out[:len(line)] == line[:num_steps]
    assert out[len(line):] == [pad] * max(0, num_steps - len(line))


# ------------------------------------------------------------------ 9.7 BLEU

sentences = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1,
                     max_size=10).map(" ".join)


@given(sentences, st.integers(1, 4))
def test_bleu_of_a_sentence_with_itself_is_one(backend, sentence, k):
    expected = 1.0 if len(sentence.split(" ")) >= k else 0.0
    assert backend.d2l.bleu(sentence, sentence, k) == pytest.approx(expected, abs=1e-12)


@given(sentences, sentences, st.integers(1, 4))
def test_bleu_is_a_score_and_zero_without_shared_words(backend, pred, label, k):
    score = backend.d2l.bleu(pred, label, k)
    assert 0.0 <= score <= 1.0
    disjoint = pred.replace("a", "x").replace("b", "y").replace("c", "z").replace(
        "d", "w").replace("e", "v")
    assert backend.d2l.bleu(disjoint, label, k) == 0.0


def test_bleu_by_hand_and_short_predictions(backend):
    # len_pred 4 >= len_label 3: no brevity penalty; p1 = 3/4, p2 = 2/3.
    assert backend.d2l.bleu("a b c d", "a b c", 2) == pytest.approx(
        (3 / 4) ** 0.5 * (2 / 3) ** 0.25, rel=1e-12)
    # Brevity penalty exp(1 - 4/2); clipped unigrams: 'a' matches once, p1 = 1/2.
    assert backend.d2l.bleu("a a", "a b c d", 1) == pytest.approx(
        math.exp(1 - 4 / 2) * 0.5 ** 0.5, rel=1e-12)
    # The book divides by zero when len_pred < k; the guard returns 0.0.
    assert backend.d2l.bleu("a", "a b", 2) == 0.0
    assert backend.d2l.bleu("", "a b", 2) == 0.0
    # n-grams are keyed without a separator (kept from the book): bigram ('a', 'bc') of the
    # prediction matches ('ab', 'c') of the label, so p2 = 2/2 rather than 1/2.
    assert backend.d2l.bleu("x a bc", "ab c x a", 2) == pytest.approx(
        math.exp(1 - 4 / 3) * (2 / 3) ** 0.5 * 1.0 ** 0.25, rel=1e-12)


@pytest.mark.parametrize("args,name", [(("a", "a", 0), "k"), (("a", "a", -1), "k"),
                                       (("a", "a", 1.0), "k"), (("a", "", 1), "label_seq"),
                                       ((None, "a", 1), "pred_seq")])
def test_bleu_rejects_bad_input(backend, args, name):
    with pytest.raises(ValueError, match=name):
        backend.d2l.bleu(*args)
