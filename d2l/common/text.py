"""Text preprocessing and language-model data (sections 8.2-8.3), shared by every backend.

Everything here is pure Python and NumPy: reading and tokenizing The Time Machine, the
vocabulary, and the index work of the two minibatch samplers. Each backend turns the NumPy
batches into its tensors (`seq_data_iter_*` in `d2l.<framework>.recurrent_neural_networks`).

The samplers draw from Python's global `random` in the book's order, so with the same
`random.seed` every framework yields the same batches:

* random sampling: one `random.randint(0, num_steps - 1)` (the offset), then one
  `random.shuffle` of the list of subsequence starts;
* sequential partitioning: one `random.randint(0, num_steps)` (the offset, inclusive).
"""

import bisect
import collections
import contextlib
import gc
import itertools
import operator
import random
import re
import sys

import numpy as np

from . import checks
from .data_hub import download

_NON_LETTERS = re.compile("[^A-Za-z]+")
_TOKEN, _COUNT = operator.itemgetter(0), operator.itemgetter(1)


def _negated_count(token_freq):
    return -token_freq[1]


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector for the block (restoring its state after): building
    many small tuples or token lists would otherwise run it over and over, to find no cycles
    (it made Vocab and load_data_snli several times slower)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_time_machine():
    """The Time Machine as a list of lines (one per file line, empty ones included): every
    run of characters other than ASCII letters becomes one space, then strip, lower-case."""
    with open(download("time_machine"), encoding="utf-8") as f:
        lines = f.readlines()
    return [_NON_LETTERS.sub(" ", line).strip().lower() for line in lines]


def tokenize(lines, token="word"):
    """Split each line into tokens: 'word' splits on whitespace, 'char' gives its characters
    (spaces included). Returns a list of token lists; any other `token` prints
    `ERROR: unknown token type: {token}` and returns None (as the book does).

    `lines` must be a list (or tuple) of strings: one string is a ValueError (it is not a
    list of lines), anything else a TypeError."""
    _check_lines(lines)
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    print("ERROR: unknown token type: " + token)
    return None


def _check_lines(lines):
    """Raise ValueError for one string, TypeError for anything but a list/tuple of strings."""
    if isinstance(lines, str):
        raise ValueError(f"tokenize: lines must be a list of strings (one per line), not one "
                         f"string: {lines[:40]!r}")
    if not isinstance(lines, (list, tuple)) or not all(
            issubclass(kind, str) for kind in set(map(type, lines))):
        raise TypeError(f"tokenize: lines must be a list of strings (one per line), got "
                        f"{type(lines).__name__} {lines!r:.60}")


def count_corpus(tokens):
    """A `collections.Counter` of the tokens of a flat token list or a list of token lists
    (flattened one level when it is empty or its first element is a list). A string is a
    ValueError (it is not a list of tokens); unhashable tokens are a TypeError."""
    return _count("count_corpus", tokens)


def _count(fn, tokens):
    """count_corpus for the saved function `fn` (named in its errors)."""
    if isinstance(tokens, str):
        raise ValueError(f"{fn}: tokens must be a list of tokens (or of token lists), not one "
                         f"string: {tokens[:40]!r}")
    try:
        if len(tokens) == 0 or isinstance(tokens[0], list):
            tokens = itertools.chain.from_iterable(tokens)
        return collections.Counter(tokens)
    except TypeError as error:
        raise TypeError(f"{fn}: tokens must be a list of hashable tokens or of token lists "
                        f"({error})") from None


class Vocab:
    """Token vocabulary: index 0 is '<unk>', then `reserved_tokens` in order, then every
    corpus token seen at least `min_freq` times, most frequent first (ties in order of first
    appearance). A corpus token already present (a reserved one seen in the text) is not
    repeated; `reserved_tokens` must be a list of distinct tokens other than '<unk>' (a
    string or repeats are a ValueError); `tokens` as in `count_corpus`.

    Attributes: `token_freqs` (list of (token, count), count descending), `idx_to_token`
    (list), `token_to_idx` (dict), `unk` (0). `vocab[token]` is its index (0 if unknown);
    `vocab[list_or_tuple]` maps the elements, recursively. `to_tokens` is the inverse.
    """

    def __init__(self, tokens=None, min_freq=0, reserved_tokens=None):
        tokens = [] if tokens is None else tokens
        reserved_tokens = _reserved_list(reserved_tokens)
        checks.real_number("Vocab", "min_freq", min_freq)
        with gc_paused():  # one (token, count) tuple per distinct token, no cycles
            self._build(_count("Vocab", tokens), min_freq, reserved_tokens)
        self.unk = 0

    def _build(self, counter, min_freq, reserved_tokens):
        """token_freqs, idx_to_token and token_to_idx from the Counter of the corpus."""
        # Counter keeps first-appearance order and sorted() is stable (also with
        # reverse=True), so ties keep it too.
        self.token_freqs = sorted(counter.items(), key=_COUNT, reverse=True)
        # Counts descend: the tokens kept are a prefix, found by bisection on -count.
        kept = bisect.bisect_right(self.token_freqs, -min_freq, key=_negated_count)
        frequent = list(map(_TOKEN, self.token_freqs[:kept]))
        special = ["<unk>", *reserved_tokens]
        if any(token in counter for token in special):  # never listed twice
            taken = set(special)
            frequent = [token for token in frequent if token not in taken]
        self.idx_to_token = special + frequent
        self.token_to_idx = dict(zip(self.idx_to_token, range(len(self.idx_to_token))))

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        nested = [issubclass(kind, (list, tuple)) for kind in set(map(type, tokens))]
        if not any(nested):  # flat: one C-level pass of dict lookups
            return list(map(self.token_to_idx.get, tokens, itertools.repeat(self.unk)))
        if all(nested):  # sequences only: look all their elements up at once, then cut
            ids = self[list(itertools.chain.from_iterable(tokens))]
            ends = list(itertools.accumulate(map(len, tokens)))
            return list(map(ids.__getitem__, map(slice, [0] + ends, ends)))
        return [self[t] for t in tokens]

    def to_tokens(self, indices):
        """The token of an index, or a list of tokens for a list/tuple of indices. An index
        outside [0, len(self)) is a ValueError (Python would count a negative one from the
        end), one that is not an integer a TypeError."""
        many = isinstance(indices, (list, tuple))
        try:
            tokens = (list(map(self.idx_to_token.__getitem__, indices)) if many
                      else self.idx_to_token[indices])
            lowest = min(indices, default=0) if many else indices
        except IndexError:
            lowest = -1
        except TypeError:
            raise TypeError(f"Vocab.to_tokens: indices must be an int or a list of ints, got "
                            f"{indices!r:.60}") from None
        if lowest < 0:
            raise ValueError(f"Vocab.to_tokens: indices must lie in [0, {len(self)}), got "
                             f"{indices!r:.60}")
        return tokens


def _reserved_list(reserved_tokens):
    """`reserved_tokens` (None, a list, a tuple, ...) as a list; ValueError if they are one
    string, repeat or include '<unk>' (index 0 is '<unk>')."""
    if isinstance(reserved_tokens, str):
        raise ValueError(f"Vocab: reserved_tokens must be a list of tokens, not one string: "
                         f"{reserved_tokens[:40]!r}")
    reserved_tokens = [] if reserved_tokens is None else list(reserved_tokens)
    if "<unk>" in reserved_tokens or len(set(reserved_tokens)) < len(reserved_tokens):
        raise ValueError(f"Vocab: reserved_tokens must be distinct tokens other than '<unk>', "
                         f"got {reserved_tokens!r}")
    return reserved_tokens


def load_corpus_time_machine(max_tokens=-1):
    """(corpus, vocab) of The Time Machine at character level: `corpus` is the flat list of
    the indices of every character of every line (line breaks are not tokens), cut to
    `max_tokens` when that is positive; `vocab` is built without reserved tokens."""
    tokens = tokenize(read_time_machine(), "char")
    vocab = Vocab(tokens)
    lookup = vocab.token_to_idx.__getitem__
    corpus = list(map(lookup, itertools.chain.from_iterable(tokens)))
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


# ------------------------------------------------------------- 8.3 minibatch sampling


def check_sampler_args(fn, batch_size, num_steps):
    """Raise ValueError unless batch_size and num_steps are positive ints."""
    checks.positive_int(fn, "batch_size", batch_size)
    checks.positive_int(fn, "num_steps", num_steps)


def sampler_corpus(fn, corpus, batch_size, num_steps):
    """`corpus` as an int64 NumPy array for the sampler `fn`, after `check_sampler_args`.
    Raises TypeError naming corpus unless it is a list or 1-D array of integer ids (floats
    are truncated, as int() does). A corpus too short for one minibatch is fine: the
    sampler yields no minibatches."""
    check_sampler_args(fn, batch_size, num_steps)
    try:
        ids = _int64_array(corpus)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"{fn}: corpus must be a list of integer token ids ({error})") from None
    if ids.ndim != 1:
        raise TypeError(f"{fn}: corpus must be a flat list of token ids, got shape {ids.shape}")
    return ids


def _int64_array(values):
    """`values` (a list of ints, an array, ...) as an int64 NumPy array; a list goes through
    np.fromiter, about twice as fast as np.asarray for a million Python ints."""
    if isinstance(values, list):
        return np.fromiter(values, dtype=np.int64, count=len(values))
    return np.asarray(values, dtype=np.int64)


def random_epoch(corpus, batch_size, num_steps):
    """One epoch of random sampling: (X, Y) int64 NumPy arrays of shape
    (num_batches, batch_size, num_steps), X[i] and Y[i] being minibatch i.

    Drops the first `random.randint(0, num_steps - 1)` tokens, cuts the rest into
    non-overlapping subsequences of num_steps tokens (each with its next token available for
    Y), shuffles their starts with `random.shuffle` and takes batch_size starts per batch;
    Y is X shifted by one token. Leftover subsequences are dropped.
    """
    offset = random.randint(0, num_steps - 1)
    tokens = _int64_array(corpus)[offset:]
    num_subseqs = max(0, (len(tokens) - 1) // num_steps)
    order = list(range(num_subseqs))
    random.shuffle(order)
    num_batches = num_subseqs // batch_size
    starts = _int64_array(order[:num_batches * batch_size]) * num_steps
    # One gather for the epoch: window (i, b) is start_ib + (0, 1, ..., num_steps - 1).
    windows = starts.reshape(num_batches, batch_size, 1) + np.arange(num_steps)
    return tokens[windows], tokens[windows + 1]


def sequential_epoch(corpus, batch_size, num_steps):
    """One epoch of sequential partitioning: (X, Y) int64 NumPy arrays of shape
    (num_batches, batch_size, num_steps) such that row b of minibatch i + 1 continues row b
    of minibatch i in the text.

    Drops the first `random.randint(0, num_steps)` tokens, keeps the largest multiple of
    batch_size tokens that still has a next token, lays them out as batch_size rows and cuts
    consecutive windows of num_steps columns; Y is X shifted by one token.
    """
    offset = random.randint(0, num_steps)
    tokens = _int64_array(corpus)
    num_tokens = max(0, (len(tokens) - offset - 1) // batch_size * batch_size)
    num_batches = num_tokens // batch_size // num_steps

    def windows(start):
        rows = tokens[start:start + num_tokens].reshape(batch_size, -1)
        cut = rows[:, :num_batches * num_steps].reshape(batch_size, num_batches, num_steps)
        return cut.transpose(1, 0, 2).copy()

    return windows(offset), windows(offset + 1)


class SeqDataLoader:
    """Minibatches of The Time Machine (characters): every `iter()` runs the chosen sampler
    anew (a new random offset per epoch). The sampler is looked up on the backend module
    (`d2l.seq_data_iter_random` or `d2l.seq_data_iter_sequential`), as in the book.

    Attributes: `data_iter_fn`, `corpus` (list of indices), `vocab`, `batch_size`,
    `num_steps`. Each backend subclasses it and names its package in `backend`.
    """

    backend = None

    def __init__(self, batch_size, num_steps, use_random_iter, max_tokens):
        check_sampler_args("SeqDataLoader", batch_size, num_steps)
        d2l = sys.modules[self.backend]
        self.data_iter_fn = (d2l.seq_data_iter_random if use_random_iter
                             else d2l.seq_data_iter_sequential)
        self.corpus, self.vocab = d2l.load_corpus_time_machine(max_tokens)
        self.batch_size, self.num_steps = batch_size, num_steps

    def __iter__(self):
        return self.data_iter_fn(self.corpus, self.batch_size, self.num_steps)


def load_data_time_machine(d2l, batch_size, num_steps, use_random_iter=False,
                           max_tokens=10000):
    """(d2l.SeqDataLoader(...), its vocab) for the backend module `d2l`."""
    check_sampler_args("load_data_time_machine", batch_size, num_steps)
    data_iter = d2l.SeqDataLoader(batch_size, num_steps, use_random_iter, max_tokens)
    return data_iter, data_iter.vocab


def tensor_batches(epoch, to_tensor, unstack, corpus, batch_size, num_steps):
    """Generator over the (X, Y) minibatches of `epoch(corpus, batch_size, num_steps)` (a
    sampler above, run at the first next()): one `to_tensor` conversion per epoch, then
    `unstack` splits it into its minibatches along the first axis."""
    Xs, Ys = (unstack(to_tensor(a)) for a in epoch(corpus, batch_size, num_steps))
    yield from zip(Xs, Ys)
