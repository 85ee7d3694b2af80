"""Text preprocessing and language-model data (sections 8.2-8.3) in each backend: the real
Time Machine through the real download path, Vocab's ordering rules, and the properties of
the two minibatch samplers (shapes, shifts, contiguity, coverage, seeded draws).

The spec entries (spec/recurrent_neural_networks.py) compare every backend with NumPy/Python
references; these tests state the properties directly."""

import collections
import io
import random
from contextlib import redirect_stdout

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec import support
from spec.recurrent_neural_networks import TIME_MACHINE

TOKEN_DTYPE = {"mxnet": "float32", "torch": "int64", "tensorflow": "int32"}


# ------------------------------------------------------------------ 8.2 real data


def test_time_machine_downloads_through_the_hub_and_gives_the_books_numbers(backend):
    d2l = backend.d2l
    with support.data_sandbox() as (cache, www, url):
        support.copy_shared(TIME_MACHINE[0], www)
        first = io.StringIO()
        with redirect_stdout(first):
            lines = d2l.read_time_machine()
        second = io.StringIO()
        with redirect_stdout(second):
            corpus, vocab = d2l.load_corpus_time_machine()
    path = cache / TIME_MACHINE[0]
    assert first.getvalue() == f"Downloading {path} from {url}{TIME_MACHINE[0]}...\n"
    assert second.getvalue() == ""  # the cached copy is reused
    assert len(lines) == 3221
    assert lines[0] == "the time machine by h g wells"
    assert (len(corpus), len(vocab)) == (170580, 28)
    assert sorted(vocab.idx_to_token) == sorted(["<unk>", " "] + list("abcdefghijklmnopqrstuvwxyz"))
    assert vocab.token_freqs[0][0] == " "  # the space is the most frequent character
    assert vocab.to_tokens(corpus[:29]) == list("the time machine by h g wells")


def test_tokenize_unknown_type_prints_the_books_line_and_returns_none(backend, capsys):
    assert backend.d2l.tokenize(["the time"], token="sentence") is None
    assert capsys.readouterr().out == "ERROR: unknown token type: sentence\n"


# ------------------------------------------------------------------ 8.2 Vocab

words = st.sampled_from(["a", "b", "c", "the", "<pad>", "<unk>"])


@given(st.lists(st.lists(words, max_size=6), max_size=6), st.integers(0, 3))
def test_vocab_orders_by_count_then_first_appearance(backend, lines, min_freq):
    vocab = backend.d2l.Vocab(lines, min_freq=min_freq, reserved_tokens=["<pad>"])
    flat = [t for line in lines for t in line]
    counts = collections.Counter(flat)
    corpus_part = vocab.idx_to_token[2:]
    assert vocab.idx_to_token[:2] == ["<unk>", "<pad>"] and vocab.unk == 0
    assert len(vocab) == len(vocab.idx_to_token) == len(set(vocab.idx_to_token))
    assert set(corpus_part) == {t for t, c in counts.items()
                                if c >= min_freq and t not in ("<unk>", "<pad>")}
    keys = [(-counts[t], flat.index(t)) for t in corpus_part]
    assert keys == sorted(keys)
    assert [c for _, c in vocab.token_freqs] == sorted(counts.values(), reverse=True)


@given(st.lists(st.lists(words, min_size=1, max_size=5), min_size=1, max_size=5))
def test_vocab_lookups_nest_and_invert(backend, lines):
    vocab = backend.d2l.Vocab(lines)
    indices = vocab[lines]
    assert [vocab.to_tokens(row) for row in indices] == lines
    assert vocab[tuple(lines[0])] == indices[0]
    assert vocab["never seen"] == vocab[12345] == 0
    assert vocab.to_tokens(indices[0][0]) == lines[0][0]


def test_vocab_defaults_and_one_dimensional_tokens(backend):
    assert backend.d2l.Vocab().idx_to_token == ["<unk>"]
    vocab = backend.d2l.Vocab(list("abbccc"), reserved_tokens=["a"])
    assert vocab.idx_to_token == ["<unk>", "a", "c", "b"]
    assert vocab.token_freqs == [("c", 3), ("b", 2), ("a", 1)]


def test_count_corpus_flattens_one_level(backend):
    counter = backend.d2l.count_corpus([["a", "b"], ["b"]])
    assert isinstance(counter, collections.Counter) and counter == {"a": 1, "b": 2}
    assert backend.d2l.count_corpus([]) == collections.Counter()


# ------------------------------------------------------------------ 8.3 samplers


@st.composite
def sampler_args(draw):
    """(corpus length, batch_size, num_steps, seed)."""
    return (draw(st.integers(0, 150)), draw(st.integers(1, 5)), draw(st.integers(1, 8)),
            draw(st.integers(0, 10_000)))


def _batches(backend, fn_name, corpus, batch_size, num_steps, seed):
    random.seed(seed)
    fn = getattr(backend.d2l, fn_name)
    batches = []
    for X, Y in fn(corpus, batch_size, num_steps):
        assert backend.dtype_name(X) == backend.dtype_name(Y) == TOKEN_DTYPE[backend.name]
        batches.append((backend.numpy(X).astype(np.int64), backend.numpy(Y).astype(np.int64)))
    return batches


@given(sampler_args())
def test_random_sampler_properties(backend, args):
    length, batch_size, num_steps, seed = args
    batches = _batches(backend, "seq_data_iter_random", list(range(length)), batch_size,
                       num_steps, seed)
    random.seed(seed)
    offset = random.randint(0, num_steps - 1)
    subseqs = max(0, (length - offset - 1) // num_steps)
    assert len(batches) == subseqs // batch_size
    starts = []
    for X, Y in batches:
        assert X.shape == Y.shape == (batch_size, num_steps)
        np.testing.assert_array_equal(Y, X + 1)  # the corpus is 0, 1, 2, ...: Y is X shifted
        np.testing.assert_array_equal(X, X[:, :1] + np.arange(num_steps))  # contiguous rows
        assert Y.max() <= length - 1  # no example runs past the end
        starts += X[:, 0].tolist()
    assert all((s - offset) % num_steps == 0 for s in starts)
    assert len(set(starts)) == len(starts)  # subsequences do not overlap


@given(sampler_args())
def test_sequential_sampler_properties(backend, args):
    length, batch_size, num_steps, seed = args
    batches = _batches(backend, "seq_data_iter_sequential", list(range(length)), batch_size,
                       num_steps, seed)
    random.seed(seed)
    offset = random.randint(0, num_steps)
    width = max(0, (length - offset - 1) // batch_size)
    assert len(batches) == width // num_steps
    for i, (X, Y) in enumerate(batches):
        assert X.shape == Y.shape == (batch_size, num_steps)
        np.testing.assert_array_equal(Y, X + 1)
        np.testing.assert_array_equal(X[:, 0], offset + np.arange(batch_size) * width
                                      + i * num_steps)
        assert Y.max() <= length - 1
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(X1[:, 0], X0[:, -1] + 1)  # rows continue the text


@pytest.mark.parametrize("fn_name,first_draw", [
    ("seq_data_iter_random", lambda n: random.randint(0, n - 1)),
    ("seq_data_iter_sequential", lambda n: random.randint(0, n))])
def test_samplers_draw_exactly_the_books_random_calls(backend, fn_name, first_draw):
    corpus, batch_size, num_steps = list(range(50)), 2, 4
    random.seed(3)
    list(getattr(backend.d2l, fn_name)(corpus, batch_size, num_steps))
    after_sampler = random.getstate()
    random.seed(3)
    offset = first_draw(num_steps)
    if fn_name == "seq_data_iter_random":
        random.shuffle(list(range((len(corpus) - offset - 1) // num_steps)))
    assert after_sampler == random.getstate()


@pytest.mark.parametrize("fn_name,offsets", [("seq_data_iter_random", range(5)),
                                             ("seq_data_iter_sequential", range(6))])
def test_random_offsets_cover_the_corpus_over_seeds(backend, fn_name, offsets):
    length, num_steps = 23, 5
    seen_offsets, covered = set(), set()
    for seed in range(60):
        for batch_size in (1, 2):
            batches = _batches(backend, fn_name, list(range(length)), batch_size, num_steps,
                               seed)
            xs = [X for X, _ in batches]
            if xs:
                seen_offsets.add(int(min(X.min() for X in xs)) % num_steps
                                 if fn_name == "seq_data_iter_random" else int(xs[0][0, 0]))
            covered.update(int(t) for X in xs for t in X.ravel())
    assert seen_offsets == set(offsets)
    assert covered == set(range(length - 1))  # every token with a successor is an input


def test_seeded_samplers_repeat(backend):
    corpus = list(np.random.default_rng(0).integers(0, 28, 300))
    for fn_name in ("seq_data_iter_random", "seq_data_iter_sequential"):
        a = _batches(backend, fn_name, corpus, 4, 7, 123)
        b = _batches(backend, fn_name, corpus, 4, 7, 123)
        assert len(a) > 0 and all(np.array_equal(x, y) for p, q in zip(a, b)
                                  for x, y in zip(p, q))


# ------------------------------------------------------------------ 8.3 the loader


def test_seq_data_loader_looks_up_the_backend_functions(backend, monkeypatch):
    d2l = backend.d2l
    vocab = d2l.Vocab(list("abc"))
    monkeypatch.setattr(d2l, "load_corpus_time_machine",
                        lambda max_tokens: (list(range(max_tokens)), vocab))
    calls = []
    monkeypatch.setattr(d2l, "seq_data_iter_sequential",
                        lambda *args: calls.append(args) or iter([("X", "Y")]))
    loader = d2l.SeqDataLoader(2, 3, False, 40)
    assert (loader.corpus, loader.vocab, loader.batch_size, loader.num_steps) == (
        list(range(40)), vocab, 2, 3)
    assert list(loader) == list(loader) == [("X", "Y")]  # every iter() runs the sampler anew
    assert calls == [(list(range(40)), 2, 3)] * 2
    data_iter, returned_vocab = d2l.load_data_time_machine(2, 3, max_tokens=40)
    assert isinstance(data_iter, d2l.SeqDataLoader) and returned_vocab is vocab
    assert d2l.SeqDataLoader(2, 3, True, 40).data_iter_fn is d2l.seq_data_iter_random


def test_load_data_time_machine_on_the_real_book(backend):
    with support.shared_data_served(TIME_MACHINE[0]):
        data_iter, vocab = backend.d2l.load_data_time_machine(32, 35)
    random.seed(0)
    offset = random.randint(0, 35)  # the sequential sampler's one draw
    random.seed(0)
    epoch = [(backend.numpy(X), backend.numpy(Y)) for X, Y in data_iter]
    assert len(data_iter.corpus) == 10000 and len(vocab) == 28
    width = (10000 - offset - 1) // 32
    assert len(epoch) == width // 35
    text = "".join(vocab.to_tokens(data_iter.corpus))
    first_batch = epoch[0][0]
    for row in (0, 1, 31):
        start = offset + row * width
        assert "".join(vocab.to_tokens(first_batch[row].astype(int).tolist())) == \
            text[start:start + 35]
