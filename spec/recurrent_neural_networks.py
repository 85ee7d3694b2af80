"""Chapter 8, Recurrent Neural Networks: the text pipeline (8.2-8.3), the RNN from scratch
(8.5) and the concise RNN model (8.6)."""

import contextlib
import functools
import hashlib
import io
import os
import random
import re
import types
import warnings
from contextlib import redirect_stdout

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from d2l.common import data_hub

from . import canonical, reference, support
from .entry import EXACT, REJECTED_TOKEN_IDS, Entry, Invalid, Reject, Tol, rejected_token_ids
from .strategies import arrays, shapes

# 8.2-8.3: Text data
# Independent references: plain Python loops written from behaviour.md, no d2l code.

TIME_MACHINE = ("timemachine.txt", "090b5e7e70c295757f55df93cb0a180b9691891a")


def vocab_reference(tokens, min_freq=0, reserved_tokens=()):
    """(idx_to_token, token_freqs) of the book's Vocab, by explicit counting and ranking."""
    flat = [t for line in tokens for t in line] if tokens and isinstance(tokens[0], list) \
        else list(tokens)
    counts, first_seen = {}, {}
    for position, token in enumerate(flat):
        counts[token] = counts.get(token, 0) + 1
        first_seen.setdefault(token, position)
    ranked = sorted(counts, key=lambda t: (-counts[t], first_seen[t]))
    idx_to_token = ["<unk>"] + list(reserved_tokens)
    for token in ranked:
        if counts[token] >= min_freq and token not in idx_to_token:
            idx_to_token.append(token)
    return idx_to_token, [[t, counts[t]] for t in ranked]


class ReferenceVocab:
    """The lookups of Vocab over `vocab_reference`, for feeding backends a known vocab."""

    def __init__(self, tokens, min_freq=0, reserved_tokens=()):
        self.idx_to_token, self.token_freqs = vocab_reference(tokens, min_freq,
                                                              reserved_tokens)

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        return self.idx_to_token.index(tokens) if tokens in self.idx_to_token else 0


def read_time_machine_reference():
    """The lines of the shared copy: non-letters -> spaces, runs collapsed, stripped, lower."""
    text = (support.SHARED_DATA / TIME_MACHINE[0]).read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines[-1] == "":  # readlines() gives no empty line after a final newline
        lines.pop()
    letters_only = ["".join(c if c.isascii() and c.isalpha() else " " for c in line)
                    for line in lines]
    return [" ".join(line.split()).lower() for line in letters_only]


def time_machine_corpus_reference():
    """(corpus, idx_to_token) of the character-level Time Machine."""
    chars = [list(line) for line in read_time_machine_reference()]
    idx_to_token, _ = vocab_reference(chars)
    index = {t: i for i, t in enumerate(idx_to_token)}
    return [index[c] for line in chars for c in line], idx_to_token


def random_batches_reference(corpus, batch_size, num_steps):
    """Random sampling with the book's draws: randint(0, num_steps-1), then shuffle."""
    corpus = corpus[random.randint(0, num_steps - 1):]
    count = (len(corpus) - 1) // num_steps
    starts = list(range(0, count * num_steps, num_steps))
    random.shuffle(starts)
    batches = []
    for b in range(0, (count // batch_size) * batch_size, batch_size):
        chosen = starts[b:b + batch_size]
        batches.append(([corpus[s:s + num_steps] for s in chosen],
                        [corpus[s + 1:s + 1 + num_steps] for s in chosen]))
    return batches


def sequential_batches_reference(corpus, batch_size, num_steps):
    """Sequential partitioning with the book's draw: randint(0, num_steps) as the offset."""
    offset = random.randint(0, num_steps)
    usable = max(0, (len(corpus) - offset - 1) // batch_size * batch_size)
    width = usable // batch_size
    rows_x = [corpus[offset + r * width:offset + (r + 1) * width] for r in range(batch_size)]
    rows_y = [corpus[offset + 1 + r * width:offset + 1 + (r + 1) * width]
              for r in range(batch_size)]
    return [([row[s:s + num_steps] for row in rows_x], [row[s:s + num_steps] for row in rows_y])
            for s in range(0, width // num_steps * num_steps, num_steps)]


def stack_batches(batches, batch_size, num_steps):
    """[X of all batches (n, batch_size, num_steps), Y likewise, n] as float64 arrays."""
    xs = np.asarray([x for x, _ in batches], np.float64).reshape(-1, batch_size, num_steps)
    ys = np.asarray([y for _, y in batches], np.float64).reshape(-1, batch_size, num_steps)
    return [xs, ys, len(batches)]


@st.composite
def sampler_inputs(draw):
    """(corpus, batch_size, num_steps, seed): corpora of 0-150 token ids (length drawn
    uniformly, so most examples yield several batches)."""
    length, seed = draw(st.integers(0, 150)), draw(st.integers(0, 2**16))
    corpus = np.random.default_rng(seed).integers(0, 30, length).tolist()
    return corpus, draw(st.integers(1, 6)), draw(st.integers(1, 9)), seed


def _sampler_call(fn_name):
    def call(b, corpus, batch_size, num_steps, seed):
        random.seed(seed)
        batches = [(b.numpy(X), b.numpy(Y))
                   for X, Y in getattr(b.d2l, fn_name)(corpus, batch_size, num_steps)]
        return stack_batches(batches, batch_size, num_steps)
    return call


def _sampler_reference(generate):
    def reference(corpus, batch_size, num_steps, seed):
        random.seed(seed)
        return stack_batches(generate(corpus, batch_size, num_steps), batch_size, num_steps)
    return reference


@st.composite
def token_lists(draw):
    """A 1-D token list or a list of token lists over a small alphabet (ties are common)."""
    word = st.sampled_from(["a", "b", "the", "x", "<pad>", "<unk>", "z"])
    if draw(st.booleans()):
        return draw(st.lists(st.lists(word, max_size=6), max_size=6))
    return draw(st.lists(word, max_size=20))


@st.composite
def vocab_inputs(draw):
    """(tokens, min_freq, reserved_tokens, queries, indices)."""
    tokens = draw(token_lists())
    reserved = draw(st.lists(st.sampled_from(["<pad>", "<bos>", "<eos>", "a"]), unique=True,
                             max_size=3))
    query = st.sampled_from(["a", "b", "the", "<pad>", "<bos>", "unseen", 7])
    queries = draw(st.one_of(query, st.lists(query, max_size=4),
                             st.lists(st.lists(query, max_size=3), max_size=3),
                             st.tuples(query, query)))
    indices = draw(st.lists(st.integers(0, len(reserved)), max_size=4))
    return tokens, draw(st.integers(0, 3)), reserved, queries, indices


def _vocab_observation(idx_to_token, token_freqs, lookups, to_tokens, unk):
    return [idx_to_token, [list(p) for p in token_freqs], lookups, to_tokens, unk]


def _vocab_call(b, tokens, min_freq, reserved, queries, indices):
    vocab = b.d2l.Vocab(tokens, min_freq, reserved)
    assert [vocab.token_to_idx[t] for t in vocab.idx_to_token] == list(range(len(vocab)))
    return _vocab_observation(vocab.idx_to_token, vocab.token_freqs, vocab[queries],
                              [vocab.to_tokens(indices), vocab.to_tokens(len(reserved))],
                              vocab.unk)


def _vocab_reference(tokens, min_freq, reserved, queries, indices):
    vocab = ReferenceVocab(tokens, min_freq, reserved)
    return _vocab_observation(vocab.idx_to_token, vocab.token_freqs, vocab[queries],
                              [[vocab.idx_to_token[i] for i in indices],
                               vocab.idx_to_token[len(reserved)]], 0)


def _count_corpus_reference(tokens):
    """[[token, count], ...] in order of first appearance."""
    counts = {}
    for line in (tokens if tokens and isinstance(tokens[0], list) else [tokens]):
        for token in line:
            counts[token] = counts.get(token, 0) + 1
    return [[t, c] for t, c in counts.items()]


@st.composite
def text_lines(draw):
    line = st.text(st.sampled_from("ab Z\t.-"), max_size=12)
    return draw(st.lists(line, max_size=5)), draw(st.sampled_from(["word", "char"]))


def _tokenize_reference(lines, token):
    if token == "word":
        return [[w for w in line.replace("\t", " ").split(" ") if w] for line in lines]
    return [[line[i] for i in range(len(line))] for line in lines]


# Edge cases (`Entry.edges`): the references above, with the spec's decisions on bad input.


def _tokenize_edge_reference(lines, token):
    """One string is not a list of lines (ValueError); anything but a list/tuple of strings
    is a TypeError; empty lists and blank lines tokenize to empty lists."""
    if isinstance(lines, str):
        raise Invalid("lines")
    if not isinstance(lines, (list, tuple)) or not all(isinstance(x, str) for x in lines):
        raise Invalid("lines", TypeError)
    return _tokenize_reference(lines, token)


@st.composite
def tokenize_edges(draw):
    line = st.text(st.sampled_from("ab \t"), max_size=4)
    lines = draw(st.one_of(
        st.just([]), st.lists(st.sampled_from(["", " ", "\t\t"]), min_size=1, max_size=3),
        line, st.none(), st.integers(),
        st.lists(st.one_of(line, st.integers(), st.none(), st.just(["a"])), min_size=1,
                 max_size=3)))
    return lines, draw(st.sampled_from(["word", "char"]))


def _vocab_edge_reference(tokens, min_freq, reserved, queries, indices):
    """A string as tokens or as reserved_tokens is a ValueError (not a list of tokens), so
    is an index outside [0, len(vocab)) given to to_tokens."""
    if isinstance(reserved, str):
        raise Invalid("reserved_tokens")
    if isinstance(tokens, str):
        raise Invalid("tokens")
    if not all(0 <= i < len(ReferenceVocab(tokens, min_freq, reserved)) for i in indices):
        raise Invalid("indices")
    return _vocab_reference(tokens, min_freq, reserved, queries, indices)


@st.composite
def vocab_edges(draw):
    """One edge per case: a string for tokens or reserved_tokens, an index out of range
    (negative or >= len), an empty corpus, a min_freq above every count."""
    tokens, min_freq, reserved, queries, indices = draw(vocab_inputs())
    case = draw(st.sampled_from(["tokens", "reserved", "index", "empty", "rare"]))
    if case == "tokens":
        tokens = draw(st.sampled_from(["", "a", "the x"]))
    elif case == "reserved":
        reserved = draw(st.sampled_from(["<pad>", "", "ab"]))
    elif case == "index":
        size = len(ReferenceVocab(tokens, min_freq, reserved))
        indices = indices + [draw(st.sampled_from([-1, -size, size, size + 3]))]
    elif case == "empty":
        tokens = draw(st.sampled_from([[], [[]], [[], []]]))
    else:
        min_freq = 100
    return tokens, min_freq, reserved, queries, indices


def _count_corpus_edge_reference(tokens):
    """A string is a ValueError; tokens that cannot be counted (lists nested two deep) a
    TypeError."""
    if isinstance(tokens, str):
        raise Invalid("tokens")
    lines = tokens if tokens and isinstance(tokens[0], list) else [tokens]
    if any(isinstance(t, list) for line in lines for t in line):
        raise Invalid("tokens", TypeError)
    return _count_corpus_reference(tokens)


def count_corpus_edges():
    return st.tuples(st.one_of(
        st.sampled_from(["", "abc", [], [[]], [[], ["a"]], [[["a"]]], [["a"], [["b"]]]]),
        token_lists()))


def _sampler_edge_reference(generate):
    """Sizes must be positive ints, the corpus a flat list/array of integer ids; a corpus
    too short for one minibatch yields none."""
    def reference(corpus, batch_size, num_steps, seed):
        for name, value in (("batch_size", batch_size), ("num_steps", num_steps)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise Invalid(name)
        if np.asarray(corpus, object).ndim != 1 or not all(
                isinstance(t, (int, np.integer)) for t in corpus):
            raise Invalid("corpus", TypeError)
        return _sampler_reference(generate)(corpus, batch_size, num_steps, seed)
    return reference


@st.composite
def sampler_edges(draw):
    """Corpora shorter than one minibatch (as lists or arrays), bad corpora (strings, None,
    nested lists, a number) and bad sizes (0, negative, float, bool), one edge a case."""
    batch_size, num_steps = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2 ** 16))
    corpus = list(range(draw(st.integers(0, batch_size * num_steps + 1))))
    case = draw(st.sampled_from(["short", "array", "corpus", "batch_size", "num_steps"]))
    if case == "array":
        corpus = np.asarray(corpus, draw(st.sampled_from([np.int32, np.int64])))
    elif case == "corpus":
        corpus = draw(st.sampled_from([["a", "b"], [1, None], [[1, 2], [3, 4]], "abc", 7]))
    elif case == "batch_size":
        batch_size = draw(st.sampled_from([0, -2, 1.5, True]))
    elif case == "num_steps":
        num_steps = draw(st.sampled_from([0, -1, 2.0, False]))
    return corpus, batch_size, num_steps, seed


def _unknown_token_probe(b):
    printed = io.StringIO()
    with redirect_stdout(printed):
        result = b.d2l.tokenize(["a b"], "sentence")
    return [printed.getvalue(), result]


def _time_machine_hub_probe(b):
    with support.shared_data_served(TIME_MACHINE[0]) as (cache, _, _):
        path = b.d2l.download("time_machine")
        return [list(b.d2l.DATA_HUB["time_machine"]), os.path.relpath(path, cache),
                support.sha1(path)]


def _read_time_machine_probe(b):
    with support.shared_data_served(TIME_MACHINE[0]):
        lines = b.d2l.read_time_machine()
    return [len(lines), lines[:20], hashlib.sha1("\n".join(lines).encode()).hexdigest()]


def _read_time_machine_expect():
    lines = read_time_machine_reference()
    return [3221, lines[:20], hashlib.sha1("\n".join(lines).encode()).hexdigest()]


def _corpus_probe(b):
    with support.shared_data_served(TIME_MACHINE[0]):
        corpus, vocab = b.d2l.load_corpus_time_machine()
        short, _ = b.d2l.load_corpus_time_machine(1000)
    return [len(corpus), len(vocab), vocab.idx_to_token, corpus[:100],
            hashlib.sha1(np.asarray(corpus, np.int64).tobytes()).hexdigest(),
            short == corpus[:1000]]


def _corpus_expect():
    corpus, idx_to_token = time_machine_corpus_reference()
    return [170580, 28, idx_to_token, corpus[:100],
            hashlib.sha1(np.asarray(corpus, np.int64).tobytes()).hexdigest(), True]


def _loader_probe(b):
    """SeqDataLoader(3, 5, use_random_iter, 200) twice: both samplers, two seeded epochs."""
    observed = []
    with support.shared_data_served(TIME_MACHINE[0]):
        for use_random_iter in (False, True):
            loader = b.d2l.SeqDataLoader(3, 5, use_random_iter, 200)
            random.seed(11)
            epochs = [[(b.numpy(X), b.numpy(Y)) for X, Y in loader] for _ in range(2)]
            observed += [loader.data_iter_fn.__name__, loader.corpus, len(loader.vocab),
                         loader.batch_size, loader.num_steps,
                         [stack_batches(e, 3, 5) for e in epochs]]
    return observed


def _loader_expect():
    corpus = time_machine_corpus_reference()[0][:200]
    expected = []
    for name, generate in (("seq_data_iter_sequential", sequential_batches_reference),
                           ("seq_data_iter_random", random_batches_reference)):
        random.seed(11)
        epochs = [generate(corpus, 3, 5) for _ in range(2)]
        expected += [name, corpus, 28, 3, 5, [stack_batches(e, 3, 5) for e in epochs]]
    return expected


def _load_data_time_machine_probe(b):
    with support.shared_data_served(TIME_MACHINE[0]):
        data_iter, vocab = b.d2l.load_data_time_machine(4, 6)
        random.seed(5)
        batches = [(b.numpy(X), b.numpy(Y)) for X, Y in data_iter]
    return [type(data_iter).__name__, vocab is data_iter.vocab, len(data_iter.corpus),
            data_iter.data_iter_fn.__name__, stack_batches(batches, 4, 6)]


def _load_data_time_machine_expect():
    corpus = time_machine_corpus_reference()[0][:10000]
    random.seed(5)
    return ["SeqDataLoader", True, 10000, "seq_data_iter_sequential",
            stack_batches(sequential_batches_reference(corpus, 4, 6), 4, 6)]


def _sampler_rejects():
    return (Reject("batch_size 0", lambda b: ([1, 2, 3], 0, 1), match="batch_size"),
            Reject("num_steps 0", lambda b: ([1, 2, 3], 1, 0), match="num_steps"),
            Reject("float batch_size", lambda b: ([1, 2, 3], 1.5, 1), match="batch_size"))


DATA_ENTRIES = [
    Entry("DATA_HUB['time_machine']", "8.2", "",
          "timemachine.txt under DATA_URL, sha1 090b5e7e...; the real file downloads through "
          "`download` with that hash.",
          probe=_time_machine_hub_probe,
          expect=lambda: [[data_hub.DATA_URL + TIME_MACHINE[0], TIME_MACHINE[1]],
                          TIME_MACHINE[0], TIME_MACHINE[1]], tol=EXACT),
    Entry("read_time_machine", "8.2", "read_time_machine()",
          "Lines of the downloaded book (empty ones kept): every run of non-ASCII-letters "
          "becomes one space, then strip and lower-case; 3221 lines.",
          probe=_read_time_machine_probe, expect=_read_time_machine_expect, tol=EXACT),
    Entry("tokenize", "8.2", "tokenize(lines, token='word')",
          "'word': line.split() per line; 'char': list(line) per line (spaces are tokens). "
          "lines must be a list (or tuple) of strings: one string is a ValueError naming "
          "lines (it is not a list of lines), anything else a TypeError; [] gives [].",
          reference=_tokenize_edge_reference, inputs=text_lines, edges=tokenize_edges,
          call=lambda b, lines, token: b.d2l.tokenize(lines, token), tol=EXACT),
    Entry("tokenize (unknown token type)", "8.2", "tokenize(lines, token)",
          "Any other token type prints 'ERROR: unknown token type: {token}' and returns None "
          "(kept from the book).",
          probe=_unknown_token_probe,
          expect=lambda: ["ERROR: unknown token type: sentence\n", None], tol=EXACT),
    Entry("Vocab", "8.2", "Vocab(tokens=None, min_freq=0, reserved_tokens=None)",
          "idx_to_token: '<unk>' (index 0, `unk`), the reserved tokens, then tokens with count "
          ">= min_freq by count descending, ties in order of first appearance, none twice; "
          "token_freqs: (token, count) in that order; vocab[x] maps lists/tuples recursively, "
          "unknown -> 0; to_tokens is the inverse. reserved_tokens that repeat or hold "
          "'<unk>' are a ValueError (the book's code would index them twice). A string as "
          "tokens or reserved_tokens is a ValueError naming it (a string is not a list of "
          "tokens: upstream reserves one token per character); to_tokens of an index outside "
          "[0, len) is a ValueError naming indices (Python would count -1 from the end), of a "
          "non-integer a TypeError.",
          reference=_vocab_edge_reference, inputs=vocab_inputs, edges=vocab_edges,
          call=_vocab_call, tol=EXACT,
          rejects=(Reject("'<unk>' reserved", lambda b: (["a"], 0, ["<unk>"]),
                          match="reserved_tokens"),
                   Reject("repeated reserved token", lambda b: (["a"], 0, ["<pad>", "<pad>"]),
                          match="reserved_tokens"))),
    Entry("count_corpus", "8.2", "count_corpus(tokens)",
          "collections.Counter of a flat token list or of a list of token lists (flattened "
          "one level), in order of first appearance. A string is a ValueError naming tokens; "
          "unhashable tokens (lists nested two deep) a TypeError.",
          reference=_count_corpus_edge_reference, inputs=lambda: st.tuples(token_lists()),
          edges=count_corpus_edges,
          call=lambda b, tokens: [list(p) for p in b.d2l.count_corpus(tokens).items()],
          tol=EXACT),
    Entry("load_corpus_time_machine", "8.2", "load_corpus_time_machine(max_tokens=-1)",
          "(corpus, vocab) at character level: 170580 indices (line breaks are not tokens), "
          "28 vocabulary entries (26 letters, space, '<unk>'); max_tokens > 0 truncates.",
          probe=_corpus_probe, expect=_corpus_expect, tol=EXACT),
    Entry("seq_data_iter_random", "8.3", "seq_data_iter_random(corpus, batch_size, num_steps)",
          "Drops randint(0, num_steps-1) tokens, shuffles the starts of the "
          "(len-1)//num_steps subsequences with random.shuffle and yields "
          "(len-1)//num_steps//batch_size batches (X, Y) of shape (batch_size, num_steps), "
          "Y = X shifted by one; dtype M float32, P int64, T int32. Same seed, same batches "
          "in every framework. A corpus too short for one minibatch yields none; corpus must "
          "be a flat list or array of integer ids (else TypeError naming corpus), "
          "batch_size and num_steps positive ints (else ValueError naming them).",
          reference=_sampler_edge_reference(random_batches_reference),
          inputs=sampler_inputs, edges=sampler_edges,
          call=_sampler_call("seq_data_iter_random"), tol=EXACT,
          rejects=_sampler_rejects()),
    Entry("seq_data_iter_sequential", "8.3",
          "seq_data_iter_sequential(corpus, batch_size, num_steps)",
          "Offset randint(0, num_steps) (inclusive); the next "
          "(len-offset-1)//batch_size*batch_size tokens as batch_size rows; consecutive "
          "windows of num_steps columns, Y = X shifted by one; dtype as seq_data_iter_random. "
          "Edge cases as seq_data_iter_random.",
          reference=_sampler_edge_reference(sequential_batches_reference),
          inputs=sampler_inputs, edges=sampler_edges,
          call=_sampler_call("seq_data_iter_sequential"), tol=EXACT,
          rejects=_sampler_rejects()),
    Entry("SeqDataLoader", "8.3", "SeqDataLoader(batch_size, num_steps, use_random_iter, "
          "max_tokens)",
          "data_iter_fn = d2l.seq_data_iter_random or d2l.seq_data_iter_sequential (looked "
          "up on the backend module); corpus, vocab from load_corpus_time_machine(max_tokens); "
          "every iter() runs the sampler anew.",
          probe=_loader_probe, expect=_loader_expect, tol=EXACT,
          rejects=(Reject("batch_size 0", lambda b: (0, 5, False, 100), match="batch_size"),
                   Reject("num_steps 0", lambda b: (2, 0, False, 100), match="num_steps"))),
    Entry("load_data_time_machine", "8.3",
          "load_data_time_machine(batch_size, num_steps, use_random_iter=False, "
          "max_tokens=10000)",
          "(SeqDataLoader(batch_size, num_steps, use_random_iter, max_tokens), its vocab).",
          probe=_load_data_time_machine_probe, expect=_load_data_time_machine_expect,
          tol=EXACT,
          rejects=(Reject("batch_size -1", lambda b: (-1, 5), match="batch_size"),)),
]


# 8.5: RNN from scratch and training
# A small character corpus (my own text) and its vocabulary: '<unk>', space, a-z.
SCRATCH_TEXT = (
    "the time traveller sat by the fire and talked of the fourth dimension while the lamp "
    "burned low the doctor and the editor listened and the young man laughed at the idea "
    "that one could travel in time as one travels in space the traveller only smiled and "
    "said that a machine might carry a man forward to see the far future or back to the "
    "distant past and that he had built such a machine in his laboratory then he showed "
    "them a small model of brass and ivory and quartz and set it going on the table")
CHARS = ["<unk>", " ", *"abcdefghijklmnopqrstuvwxyz"]


class CharVocab:
    """The part of `Vocab` that `predict_ch8` uses: `vocab[token]` and `idx_to_token`."""

    def __init__(self, tokens):
        self.idx_to_token = list(tokens)
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __getitem__(self, token):
        return self.token_to_idx.get(token, 0)

    def __len__(self):
        return len(self.idx_to_token)


VOCAB = CharVocab(CHARS)
CORPUS = [VOCAB[c] for c in SCRATCH_TEXT]


def scratch_params(vocab_size, num_hiddens, seed, scale=0.5):
    """Random parameters of the book's scratch RNN, keyed by `reference.SCRATCH_RNN_NAMES`
    (W_xh (V, H), W_hh (H, H), b_h (H,), W_hq (H, V), b_q (V,)), float32."""
    rng = np.random.default_rng(seed)
    layout = {"W_xh": (vocab_size, num_hiddens), "W_hh": (num_hiddens, num_hiddens),
              "b_h": (num_hiddens,), "W_hq": (num_hiddens, vocab_size), "b_q": (vocab_size,)}
    return {k: rng.normal(0, scale, shape).astype(np.float32) for k, shape in layout.items()}


def scratch_rnn_functions(b, params):
    """The book's `get_params`, `init_state` and `rnn` of section 8.5 for backend `b`,
    written with the d2l aliases; `get_params` returns `params` as the framework's trainable
    parameters (in the book's order) instead of drawing them."""
    d2l = b.d2l

    def get_params(vocab_size, num_hiddens, device=None):
        assert (vocab_size, num_hiddens) == params["W_xh"].shape
        return [b.param(params[k]) for k in reference.SCRATCH_RNN_NAMES]

    def init_state(batch_size, num_hiddens, device=None):
        return (b.tensor(np.zeros((batch_size, num_hiddens), np.float32)),)

    def rnn(inputs, state, params):
        W_xh, W_hh, b_h, W_hq, b_q = params
        (H,) = state
        outputs = []
        for X in inputs:
            H = d2l.tanh(d2l.matmul(X, W_xh) + d2l.matmul(H, W_hh) + b_h)
            outputs.append(d2l.matmul(H, W_hq) + b_q)
        return d2l.concat(outputs, axis=0), (H,)

    return get_params, init_state, rnn


def scratch_rnn(b, params):
    """`RNNModelScratch` of the book's RNN holding `params`, in the backend's argument
    order (TensorFlow: no device, get_params last)."""
    get_params, init_state, rnn = scratch_rnn_functions(b, params)
    vocab_size, num_hiddens = params["W_xh"].shape
    if b.name == "tensorflow":
        return b.d2l.RNNModelScratch(vocab_size, num_hiddens, init_state, rnn, get_params)
    return b.d2l.RNNModelScratch(vocab_size, num_hiddens, b.device, get_params, init_state,
                                 rnn)


def scratch_export(b, net):
    """The scratch model's parameters as a NumPy dict keyed like `scratch_params`."""
    params = net.trainable_variables if b.name == "tensorflow" else net.params
    return {k: b.numpy(p) for k, p in zip(reference.SCRATCH_RNN_NAMES, params)}


def token_ids(b, X):
    """Token ids as the backend's `seq_data_iter_*` yield them (`d2l.tensor` of ints):
    float32 in MXNet, int64 in PyTorch, int32 in TensorFlow."""
    dtype = {"mxnet": "float32", "torch": "int64", "tensorflow": "int32"}[b.name]
    return b.tensor(np.asarray(X), dtype)


class SequentialBatches:
    """A re-iterable loader like `SeqDataLoader` with sequential partitioning, on a private
    `random.Random(seed)`: every pass draws a new offset in [0, num_steps] and yields
    adjacent (X, Y) windows (batch_size, num_steps), as NumPy (`b` None) or as `b`'s tensors.
    `random_iter=True` samples like `seq_data_iter_random` instead (shuffled subsequences)."""

    def __init__(self, corpus, batch_size, num_steps, seed, b=None, random_iter=False):
        self.corpus, self.batch_size, self.num_steps = np.asarray(corpus), batch_size, num_steps
        self.rng, self.b, self.random_iter = random.Random(seed), b, random_iter

    def _numpy_batches(self):
        corpus, n, steps = self.corpus, self.batch_size, self.num_steps
        if self.random_iter:
            corpus = corpus[self.rng.randint(0, steps - 1):]
            starts = list(range(0, (len(corpus) - 1) // steps * steps, steps))
            self.rng.shuffle(starts)
            for i in range(0, len(starts) // n * n, n):
                rows = np.array(starts[i:i + n])[:, None] + np.arange(steps)
                yield corpus[rows], corpus[rows + 1]
            return
        offset = self.rng.randint(0, steps)
        num_tokens = (len(corpus) - offset - 1) // n * n
        Xs = corpus[offset:offset + num_tokens].reshape(n, -1)
        Ys = corpus[offset + 1:offset + 1 + num_tokens].reshape(n, -1)
        for i in range(0, Xs.shape[1] // steps * steps, steps):
            yield Xs[:, i:i + steps], Ys[:, i:i + steps]

    def __iter__(self):
        for X, Y in self._numpy_batches():
            yield (X, Y) if self.b is None else (token_ids(self.b, X), token_ids(self.b, Y))


def loss_and_updater(b, net, lr):
    """What `train_ch8` passes to `train_epoch_ch8` for a scratch model: the framework's
    cross-entropy and, in MXNet/PyTorch, `sgd` on `net.params` as a function of the batch
    size; in TensorFlow a Keras SGD optimizer."""
    if b.name == "mxnet":
        return (b.fw.gluon.loss.SoftmaxCrossEntropyLoss(),
                lambda batch_size: b.d2l.sgd(net.params, lr, batch_size))
    if b.name == "torch":
        return (b.fw.nn.CrossEntropyLoss(),
                lambda batch_size: b.d2l.sgd(net.params, lr, batch_size))
    from tensorflow import keras

    return (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            keras.optimizers.SGD(learning_rate=lr))


def train_epoch(b, net, train_iter, loss, updater, use_random_iter):
    """`train_epoch_ch8` with the backend's signature (TensorFlow takes no device)."""
    if b.name == "tensorflow":
        return b.d2l.train_epoch_ch8(net, train_iter, loss, updater, use_random_iter)
    return b.d2l.train_epoch_ch8(net, train_iter, loss, updater, b.device, use_random_iter)


def predict(b, prefix, num_preds, net, vocab):
    """`predict_ch8` with the backend's signature (TensorFlow takes no device)."""
    if b.name == "tensorflow":
        return b.d2l.predict_ch8(prefix, num_preds, net, vocab)
    return b.d2l.predict_ch8(prefix, num_preds, net, vocab, b.device)


def train_ch8_device(b):
    """The device argument of `train_ch8`: a device, or a OneDeviceStrategy in TensorFlow."""
    if b.name == "tensorflow":
        return b.fw.distribute.OneDeviceStrategy(b.device)
    return b.device


# grad_clipping


@st.composite
def _clipping_inputs(draw):
    """1-4 gradient arrays and a threshold from 0.05 to 5 times their global norm (so both
    sides of the norm are drawn)."""
    grads = [draw(arrays(shapes(max_dims=2), -3, 3)) for _ in range(draw(st.integers(1, 4)))]
    norm = float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads)))
    ratio = draw(st.floats(0.05, 5.0))
    return grads, ratio * norm if norm > 0 else ratio


def _clip_edge_reference(grads, theta):
    """theta must be a positive finite number; non-finite gradients follow the book's test
    (an infinite norm scales by 0, so infinite entries become NaN; a NaN norm changes
    nothing)."""
    if isinstance(theta, bool) or not 0 < theta < np.inf:
        raise Invalid("theta")
    with np.errstate(invalid="ignore"):
        return reference.clip_by_global_norm(grads, theta)


@st.composite
def _clipping_edges(draw):
    """Gradients holding inf, -inf or NaN, or a bad theta (0, negative, NaN, inf)."""
    grads, theta = draw(_clipping_inputs())
    if draw(st.booleans()):
        return grads, draw(st.sampled_from([0.0, -1.0, np.nan, np.inf]))
    grads = [g.copy() for g in grads]
    for g in grads[:draw(st.integers(1, len(grads)))]:
        g.reshape(-1)[draw(st.integers(0, g.size - 1))] = draw(
            st.sampled_from([np.inf, -np.inf, np.nan]))
    return grads, theta


def scratch_with_grads(b, grads):
    """An object with `.params` (as the scratch model has) whose gradients are `grads`."""
    params = [b.param(np.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        if b.name == "mxnet":
            p.grad[:] = b.tensor(g)
        else:
            p.grad = b.tensor(g)
    return types.SimpleNamespace(params=params)


def _clip_call(b, grads, theta):
    """Clip `grads` with the backend's grad_clipping; the gradients read back afterwards
    (from the parameters in MXNet/PyTorch, where clipping is in place)."""
    if b.name == "tensorflow":
        return [b.numpy(g) for g in b.d2l.grad_clipping([b.tensor(g) for g in grads], theta)]
    net = scratch_with_grads(b, grads)
    b.d2l.grad_clipping(net, theta)
    return [b.numpy(p.grad) for p in net.params]


_MODEL_GRADS = [np.arange(-3, 3, dtype=np.float32).reshape(2, 3) / 2,
                np.array([0.5, -1.0], np.float32)]


def _clip_model_probe(b):
    """grad_clipping on a framework model: a Gluon Dense(2, in_units=3) / nn.Linear(3, 2)
    whose weight and bias gradients are set, read back from the model after the call; in
    TensorFlow the weight's gradient comes as tf.IndexedSlices (as an embedding's does)."""
    observed = []
    for theta in (1.0, 100.0):
        if b.name == "tensorflow":
            tf = b.fw
            weight = tf.IndexedSlices(b.tensor(_MODEL_GRADS[0]), b.tensor(np.arange(2)),
                                      dense_shape=b.tensor(np.array([2, 3])))
            clipped = b.d2l.grad_clipping([weight, b.tensor(_MODEL_GRADS[1])], theta)
            observed.append([b.numpy(g) for g in clipped])
            continue
        if b.name == "mxnet":
            net = b.fw.gluon.nn.Dense(2, in_units=3)
            net.initialize(ctx=b.device)
            for p, g in zip((net.weight, net.bias), _MODEL_GRADS):
                p.grad()[:] = b.tensor(g)
        else:
            net = b.fw.nn.Linear(3, 2).to(b.device)
            for p, g in zip((net.weight, net.bias), _MODEL_GRADS):
                p.grad = b.tensor(g)
        b.d2l.grad_clipping(net, theta)
        observed.append([b.numpy(p.grad() if b.name == "mxnet" else p.grad)
                         for p in (net.weight, net.bias)])
    return observed


def _no_net(b):
    return [] if b.name == "tensorflow" else types.SimpleNamespace(params=[])


SCRATCH_ENTRIES = [
    Entry("grad_clipping", "8.5", "M, P: grad_clipping(net, theta) | T: grad_clipping(grads, "
          "theta)",
          "If the global L2 norm ||g|| of all gradients exceeds theta, every gradient is "
          "multiplied by theta / ||g||. MXNet/PyTorch: the gradients of net's parameters (a "
          "Gluon Block's / nn.Module's, else net.params), in place. TensorFlow: returns the "
          "list (tf.IndexedSlices made dense). Non-finite gradients follow the book's test "
          "(an infinite norm scales every gradient by 0, so infinite entries become NaN; a "
          "NaN norm is not > theta: nothing changes); theta must be a positive finite number "
          "(ValueError naming theta).",
          reference=_clip_edge_reference, inputs=_clipping_inputs, edges=_clipping_edges,
          call=_clip_call,
          rejects=(Reject("theta 0", lambda b: (_no_net(b), 0), match="theta"),
                   Reject("negative theta", lambda b: (_no_net(b), -1.0), match="theta"))),
    Entry("grad_clipping (framework model)", "8.5", "grad_clipping(net, theta)",
          "A Gluon Block / nn.Module's parameter gradients are clipped in place; TensorFlow "
          "densifies tf.IndexedSlices gradients.",
          probe=_clip_model_probe,
          expect=lambda: [reference.clip_by_global_norm(_MODEL_GRADS, theta)
                          for theta in (1.0, 100.0)]),
]


# RNNModelScratch


@st.composite
def _scratch_inputs(draw):
    """Weights of a scratch RNN, token ids X (batch, num_steps) and a state H."""
    vocab_size, num_hiddens = draw(st.integers(2, 8)), draw(st.integers(1, 6))
    batch, num_steps = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    params = scratch_params(vocab_size, num_hiddens, draw(st.integers(0, 2 ** 16)))
    X = draw(hnp.arrays(np.int64, (batch, num_steps), elements=st.integers(0, vocab_size - 1)))
    H = draw(arrays((batch, num_hiddens), -1, 1))
    return params, X, H


def _scratch_call(b, params, X, H):
    net = scratch_rnn(b, params)
    Y, (H_new,) = net(token_ids(b, X), (b.tensor(H),))
    if b.name == "tensorflow":
        (zeros,) = net.begin_state(len(X), dtype=b.fw.float32)
    else:
        (zeros,) = net.begin_state(len(X), b.device)
    return [b.numpy(Y), b.numpy(H_new), b.numpy(zeros)]


def _scratch_reference(params, X, H):
    Y, H_new, _ = reference.scratch_rnn(params, X, H)
    return [Y, H_new, np.zeros_like(H)]


def _scratch_args(b, vocab_size, num_hiddens):
    functions = scratch_rnn_functions(b, scratch_params(3, 2, 0))
    if b.name == "tensorflow":
        return vocab_size, num_hiddens, functions[1], functions[2], functions[0]
    return vocab_size, num_hiddens, b.device, *functions


SCRATCH_ENTRIES += [
    Entry("RNNModelScratch", "8.5",
          "M, P: RNNModelScratch(vocab_size, num_hiddens, device, get_params, init_state, "
          "forward_fn) | T: RNNModelScratch(vocab_size, num_hiddens, init_state, forward_fn, "
          "get_params)",
          "net(X, state) one-hot encodes the ids X.T (num_steps, batch, vocab_size) float32 "
          "and returns forward_fn(inputs, state, params); begin_state(batch_size, device) "
          "(T: extra arguments ignored) returns init_state(batch_size, num_hiddens[, "
          "device]). Checked with the book's RNN functions (tanh RNN, outputs stacked "
          "time-major).",
          reference=_scratch_reference, inputs=_scratch_inputs, call=_scratch_call,
          tol=Tol(1e-5, 1e-5),
          rejects=(Reject("vocab_size 0", lambda b: _scratch_args(b, 0, 2),
                          match="vocab_size"),
                   Reject("num_hiddens -1", lambda b: _scratch_args(b, 3, -1),
                          match="num_hiddens"))),
    Entry("RNNModelScratch (token ids out of range)", "8.5", "net(X, state)",
          "An id of X below 0 or >= vocab_size (one-hot would give a zero vector in M and T, "
          "an error inside P): ValueError naming X, in all three (eager TensorFlow).",
          probe=lambda b: rejected_token_ids(
              "RNNModelScratch", "X", lambda X: scratch_rnn(b, scratch_params(3, 2, 0))(
                  token_ids(b, X), (b.tensor(np.zeros((2, 2), np.float32)),)), 3),
          expect=lambda: REJECTED_TOKEN_IDS, book=False),
]


# predict_ch8

PREDICT_PARAMS = dict(vocab_size=len(CHARS), num_hiddens=16, seed=11, scale=0.8)


def _predict_probe(b):
    net = scratch_rnn(b, scratch_params(**PREDICT_PARAMS))
    return [predict(b, "time traveller", 30, net, VOCAB), predict(b, "x", 0, net, VOCAB),
            predict(b, "q", 5, net, VOCAB)]


def decode(params, prefix, num_preds):
    """NumPy's `predict_ch8` string with `VOCAB`; asserts the argmax is never near a tie."""
    ids, gap = reference.scratch_rnn_predict(params, [VOCAB[c] for c in prefix], num_preds)
    assert gap > 1e-3, f"argmax too close to a tie ({gap:.2g}): choose other weights"
    return "".join(VOCAB.idx_to_token[i] for i in ids)


def _predict_expect():
    params = scratch_params(**PREDICT_PARAMS)
    return [decode(params, "time traveller", 30), "x", decode(params, "q", 5)]


def _predict_args(b, prefix, num_preds):
    return (prefix, num_preds, None, VOCAB) + (() if b.name == "tensorflow" else (b.device,))


SCRATCH_ENTRIES += [
    Entry("predict_ch8", "8.5", "M, P: predict_ch8(prefix, num_preds, net, vocab, device) | "
          "T: predict_ch8(prefix, num_preds, net, vocab)",
          "Greedy generation from begin_state(batch_size=1): the prefix warms the state up, "
          "then num_preds times the argmax id is appended; returns the prefix and the "
          "predictions joined (length len(prefix) + num_preds).",
          probe=_predict_probe, expect=_predict_expect,
          rejects=(Reject("empty prefix", lambda b: _predict_args(b, "", 3), match="prefix"),
                   Reject("negative num_preds", lambda b: _predict_args(b, "ab", -1),
                          match="num_preds"))),
]


# train_epoch_ch8 and train_ch8: the scratch RNN from the same weights on the same batches

# Weights drawn with scale 0.1 and lr 1 (the book's lr): float32 runs stay within ~1e-6 of
# the float64 reference for 10 epochs (with scale 0.3 this tiny corpus makes training chaotic
# and float32 rounding grows to ~4e-4 by epoch 10).
TRAIN_SETUP = dict(vocab_size=len(CHARS), num_hiddens=16, seed=3, scale=0.1)
# train_epoch_ch8 runs 3 epochs from larger weights, where the gradient norm exceeds 1 at
# 11 of the 60 steps, so the clipping inside the loop is exercised too (training without
# it misses the tolerance); with scale 0.5 float32 rounding grows to ~1e-3 by epoch 3.
EPOCH_SETUP = dict(TRAIN_SETUP, scale=0.3)
BATCH_SIZE, NUM_STEPS, LR = 4, 6, 1.0
CH8_BATCH_SIZE = 16  # train_ch8 runs 10 epochs: fewer, wider batches keep it quick


def _epochs_probe(b, use_random_iter, num_epochs=3):
    """Perplexity per epoch and the final weights, epoch after epoch on fresh batches."""
    net = scratch_rnn(b, scratch_params(**EPOCH_SETUP))
    loss, updater = loss_and_updater(b, net, LR)
    batches = SequentialBatches(CORPUS, BATCH_SIZE, NUM_STEPS, 5, b, use_random_iter)
    ppls = [train_epoch(b, net, batches, loss, updater, use_random_iter)[0]
            for _ in range(num_epochs)]
    return [ppls, scratch_export(b, net)]


def _epochs_expect(use_random_iter, num_epochs=3):
    params = scratch_params(**EPOCH_SETUP)
    batches = SequentialBatches(CORPUS, BATCH_SIZE, NUM_STEPS, 5, None, use_random_iter)
    ppls = []
    for _ in range(num_epochs):
        ppl, params = reference.scratch_rnn_epoch(params, list(batches), LR, use_random_iter)
        ppls.append(ppl)
    return [ppls, params]


def _epoch_args(b, train_iter):
    return (None, train_iter, None, None) + (() if b.name == "tensorflow" else (b.device,)) \
        + (False,)


SCRATCH_ENTRIES += [
    Entry("train_epoch_ch8", "8.5",
          "M, P: train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter) | "
          "T: train_epoch_ch8(net, train_iter, loss, updater, use_random_iter)",
          "One epoch of truncated BPTT: a new state at the first batch (detached between "
          "batches), labels Y.T flattened, mean loss, gradients clipped to norm 1, update "
          "with batch size 1; returns (exp(mean token loss), tokens/sec). Checked from the "
          "same weights on the same batches against NumPy BPTT for three epochs.",
          probe=functools.partial(_epochs_probe, use_random_iter=False),
          expect=functools.partial(_epochs_expect, use_random_iter=False),
          tol=Tol(2e-5, 2e-5),
          rejects=(Reject("no batches", lambda b: _epoch_args(b, []), match="train_iter"),)),
    Entry("train_epoch_ch8 (random iter)", "8.5", "train_epoch_ch8(..., use_random_iter=True)",
          "With random sampling a new state begins at every batch.",
          probe=functools.partial(_epochs_probe, use_random_iter=True),
          expect=functools.partial(_epochs_expect, use_random_iter=True),
          tol=Tol(2e-5, 2e-5)),
]


TRAIN_CH8_PRINTED = re.compile(
    r"(time traveller[ a-z]{50}\n)?perplexity \d+\.\d, \d+\.\d tokens/sec on \S+\n"
    r"time traveller[ a-z]{50}\ntraveller[ a-z]{50}\n")


def run_train_ch8(b, net, train_iter, vocab, lr, num_epochs, use_random_iter=False):
    """train_ch8 with the backend's signature; returns (the plotted (epoch, perplexity)
    points, the printed text)."""
    import matplotlib.pyplot as plt

    before, printed = set(plt.get_fignums()), io.StringIO()
    with contextlib.redirect_stdout(printed), warnings.catch_warnings():
        # xlim [10, num_epochs] is singular for 10 epochs; matplotlib widens it and warns
        warnings.filterwarnings("ignore", "Attempting to set identical", UserWarning)
        b.d2l.train_ch8(net, train_iter, vocab, lr, num_epochs, train_ch8_device(b),
                        use_random_iter)
    (fig_num,) = set(plt.get_fignums()) - before
    axes = plt.figure(fig_num).axes[0]
    (line,) = axes.get_lines()
    points = [[float(x), float(y)] for x, y in zip(line.get_xdata(), line.get_ydata())]
    labels = [axes.get_xlabel(), axes.get_ylabel()]
    plt.close(fig_num)
    return points, labels, printed.getvalue()


def _train_ch8_probe(b, num_epochs=10):
    net = scratch_rnn(b, scratch_params(**TRAIN_SETUP))
    batches = SequentialBatches(CORPUS, CH8_BATCH_SIZE, NUM_STEPS, 5, b)
    points, labels, printed = run_train_ch8(b, net, batches, VOCAB, LR, num_epochs)
    return [points, labels, bool(TRAIN_CH8_PRINTED.fullmatch(printed)),
            printed.splitlines()[-2:]]


def _train_ch8_expect(num_epochs=10):
    params = scratch_params(**TRAIN_SETUP)
    batches = SequentialBatches(CORPUS, CH8_BATCH_SIZE, NUM_STEPS, 5)
    for _ in range(num_epochs):
        ppl, params = reference.scratch_rnn_epoch(params, list(batches), LR, False)
    samples = [decode(params, prefix, 50) for prefix in ("time traveller", "traveller")]
    return [[[10.0, ppl]], ["epoch", "perplexity"], True, samples]


def _train_ch8_args(b, lr, num_epochs):
    return None, None, VOCAB, lr, num_epochs, None


SCRATCH_ENTRIES += [
    Entry("train_ch8", "8.5",
          "M, P: train_ch8(net, train_iter, vocab, lr, num_epochs, device, "
          "use_random_iter=False) | T: train_ch8(net, train_iter, vocab, lr, num_epochs, "
          "strategy, use_random_iter=False)",
          "SGD (lr) on the mean cross-entropy, one train_epoch_ch8 per epoch; the perplexity "
          "is plotted every 10 epochs (xlabel 'epoch', ylabel 'perplexity', xlim [10, "
          "num_epochs]); prints 'perplexity …, … tokens/sec on {device}' and 50-character "
          "samples after 'time traveller' and 'traveller' (PyTorch and TensorFlow also print "
          "the 'time traveller' sample every 10 epochs). Checked on the scratch RNN against "
          "NumPy.",
          probe=_train_ch8_probe, expect=_train_ch8_expect, tol=Tol(2e-5, 2e-5),
          rejects=(Reject("lr 0", lambda b: _train_ch8_args(b, 0.0, 1), match="lr"),
                   Reject("num_epochs 0", lambda b: _train_ch8_args(b, 1.0, 0),
                          match="num_epochs"))),
]


# 8.6: Concise RNN model
# RNNModel over each framework's recurrent layer (kind, num_layers, bidirectional), loaded
# with the same canonical weights: layer 0 the recurrent layer, layer 1 the dense layer.
_RNN_MODEL_CASES = (("rnn", 1, False), ("gru", 1, False), ("lstm", 1, False),
                    ("gru", 2, False), ("lstm", 1, True))
_LM_VOCAB, _LM_HIDDENS, _LM_BATCH, _LM_STEPS = 7, 5, 3, 4


def _rnn_model_case(kind, num_layers, bidirectional, seed=8):
    """(canonical params, token ids (batch, num_steps), canonical initial state)."""
    directions = 2 if bidirectional else 1
    params = canonical.init_recurrent(kind, _LM_VOCAB, _LM_HIDDENS, num_layers, bidirectional,
                                      seed)
    rng = np.random.default_rng(seed)
    params["1.weight"] = rng.normal(0, 0.5, (directions * _LM_HIDDENS, _LM_VOCAB)).astype(
        np.float32)
    params["1.bias"] = rng.normal(0, 0.5, _LM_VOCAB).astype(np.float32)
    ids = rng.integers(0, _LM_VOCAB, (_LM_BATCH, _LM_STEPS))
    state = canonical.init_state(kind, num_layers, bidirectional, _LM_BATCH, _LM_HIDDENS, seed)
    return params, ids, state


def _token_ids(b, ids):
    """Token ids as the book's data iterators give them (MXNet float32, PyTorch int64,
    TensorFlow int32)."""
    return b.tensor(ids, {"mxnet": "float32", "torch": "int64"}.get(b.name, "int32"))


def _begin_state(b, net, batch_size):
    """net.begin_state as the book's train_epoch_ch8 calls it in each framework."""
    if b.name == "mxnet":
        return net.begin_state(batch_size=batch_size, ctx=b.device)
    if b.name == "torch":
        return net.begin_state(device=b.device, batch_size=batch_size)
    return net.begin_state(batch_size=batch_size, dtype=b.fw.float32)


def _rnn_model_probe(b):
    """Per case: [logits from the canonical initial state, the new state, begin_state], the
    states in canonical form."""
    observed = {}
    for kind, num_layers, bidirectional in _RNN_MODEL_CASES:
        params, ids, state = _rnn_model_case(kind, num_layers, bidirectional)
        layer = canonical.recurrent_layer(b, kind, _LM_HIDDENS, num_layers, bidirectional,
                                          input_size=_LM_VOCAB)
        net = b.d2l.RNNModel(layer, _LM_VOCAB)
        if b.name == "mxnet":
            net.initialize(force_reinit=True, ctx=b.device)
        b.d2l.import_params(net, params)
        logits, new_state = net(_token_ids(b, ids),
                                canonical.framework_state(b, layer, kind, state))
        zeros = _begin_state(b, net, _LM_BATCH)
        observed[f"{kind} x{num_layers}{' bi' if bidirectional else ''}"] = [
            b.numpy(logits), canonical.canonical_state(b, layer, kind, new_state),
            canonical.canonical_state(b, layer, kind, zeros)]
    return observed


def _rnn_model_expect():
    expected = {}
    for kind, num_layers, bidirectional in _RNN_MODEL_CASES:
        params, ids, state = _rnn_model_case(kind, num_layers, bidirectional)
        X = np.eye(_LM_VOCAB)[ids.T]
        Y, new_state = reference.recurrent(kind, reference.layer_params(params, 0), X, state)
        logits = Y.reshape(-1, Y.shape[-1]) @ params["1.weight"] + params["1.bias"]
        zeros = np.zeros_like(state[0] if kind == "lstm" else state)
        expected[f"{kind} x{num_layers}{' bi' if bidirectional else ''}"] = [
            logits, new_state, (zeros, zeros) if kind == "lstm" else zeros]
    return expected


def _rnn_model_bad_ids(b):
    layer = canonical.recurrent_layer(b, "gru", _LM_HIDDENS, input_size=_LM_VOCAB)
    net = b.d2l.RNNModel(layer, _LM_VOCAB)
    if b.name == "mxnet":
        net.initialize(ctx=b.device)
    return rejected_token_ids("RNNModel", "inputs", lambda X: net(
        _token_ids(b, X), _begin_state(b, net, len(X))), _LM_VOCAB)


def _dense_layer(b):
    if b.name == "torch":
        return b.fw.nn.Linear(3, 3)
    if b.name == "mxnet":
        return b.fw.gluon.nn.Dense(3)
    from tensorflow import keras

    return keras.layers.Dense(3)


def _wrong_rnn_layer(b):
    """A recurrent layer RNNModel cannot drive: batch-major in MXNet/PyTorch, a Keras RNN
    without return_state."""
    if b.name == "torch":
        return b.fw.nn.GRU(_LM_VOCAB, _LM_HIDDENS, batch_first=True)
    if b.name == "mxnet":
        return b.fw.gluon.rnn.GRU(_LM_HIDDENS, layout="NTC")
    from tensorflow import keras

    return keras.layers.GRU(_LM_HIDDENS, return_sequences=True)


CONCISE_ENTRIES = [
    Entry("RNNModel", "8.6", "RNNModel(rnn_layer, vocab_size, **kwargs)",
          "Language model: one-hot ids (batch, num_steps) -> time-major (num_steps, batch, "
          "vocab_size) -> the framework recurrent layer -> dense logits (num_steps * batch, "
          "vocab_size), rows in time-major order; returns (logits, new state). State and "
          "begin_state per framework: M the layer's list [h] / [h, c] (begin_state(batch_size"
          "=..., ctx=...)), P a tensor or (h, c) tuple (num_layers * directions, batch, H) "
          "(begin_state(device, batch_size=1)), T the Keras layer's state list "
          "(begin_state(batch_size, dtype=None); a batch-major layer with return_sequences "
          "and return_state gets batch-major one-hot inputs and its outputs are transposed; "
          "tf-keras also takes the book's time_major=True layer). "
          "Checked for RNN, GRU, LSTM, a 2-layer GRU and a bidirectional LSTM from canonical "
          "weights against NumPy.",
          probe=_rnn_model_probe, expect=_rnn_model_expect, tol=Tol(1e-5, 1e-5),
          rejects=(Reject("vocab_size 0", lambda b: (
                       canonical.recurrent_layer(b, "gru", _LM_HIDDENS, input_size=_LM_VOCAB),
                       0), match="vocab_size"),
                   Reject("not a recurrent layer", lambda b: (_dense_layer(b), _LM_VOCAB),
                          match="rnn_layer"),
                   Reject("batch-major layer / Keras RNN without return_state",
                          lambda b: (_wrong_rnn_layer(b), _LM_VOCAB), match="rnn_layer"))),
    Entry("RNNModel (token ids out of range)", "8.6", "net(inputs, state)",
          "An id of inputs below 0 or >= vocab_size: ValueError naming inputs, in all three "
          "(eager TensorFlow), where one-hot gives zero vectors in M and T.",
          probe=_rnn_model_bad_ids, expect=lambda: REJECTED_TOKEN_IDS, book=False),
]

ENTRIES = DATA_ENTRIES + SCRATCH_ENTRIES + CONCISE_ENTRIES
