"""The dataset for pretraining word embeddings (section 14.3), shared by every backend.

PTB sentences, subsampling of frequent words, skip-gram centres and contexts, and noise words
for negative sampling. Pure Python and NumPy; each backend turns minibatches into its tensors
(`batchify`, `load_data_ptb` in `d2l.<framework>.natural_language_processing_pretraining`).

Randomness comes from Python's global `random`, drawn in the book's order, so the same
`random.seed` gives the same examples in every framework (and as the book's loops give):

* `subsampling`: one `random.uniform(0, 1)` per token, in corpus order;
* `get_centers_and_contexts`: one `random.randint(1, max_window_size)` per centre;
* `get_negatives`: `random.choices(population, weights, k=10000)` per refill of the
  `RandomGenerator`, candidates taken in order.

The draws are vectorized without changing them: Python's `random` is a Mersenne Twister, and
NumPy's `MT19937` started from the same state gives the same 32-bit words and the same
53-bit doubles (`random.random()`); `randint` and `choices` are reproduced from those with
Python's own rules (`getrandbits` rejection sampling, bisection on cumulative weights), and
the global state is then moved on by exactly the words the book's loops would have used.
"""

import itertools
import math
import numbers
import os
import random

import numpy as np

from . import checks
from .data_hub import download_extract
from .text import count_corpus

REFILL = 10000  # candidates RandomGenerator draws per refill, as in the book
SUBSAMPLING_T = 1e-4  # the word2vec subsampling threshold t


# ------------------------------------------------ Python's random, many draws at a time


class _PythonStream:
    """The words of Python's global Mersenne Twister from its current state on, drawn in
    bulk through NumPy. `commit(words)` moves the global state on by `words` 32-bit words
    (what the equivalent Python calls consume); nothing changes it before that."""

    def __init__(self):
        self._version, internal, self._gauss = random.getstate()
        self._key = np.array(internal[:-1], dtype=np.uint32)
        self._pos = internal[-1]
        self.used = 0  # words handed out so far

    def _generator(self, skip):
        bits = np.random.MT19937()
        bits.state = {"bit_generator": "MT19937", "state": {"key": self._key, "pos": self._pos}}
        if skip:
            bits.random_raw(skip)
        return bits

    def words(self, n):
        """The next `n` 32-bit words (what `random.getrandbits(32)` returns), as uint64."""
        out = self._generator(self.used).random_raw(n)
        self.used += n
        return out

    def doubles(self, n):
        """The next `n` values of `random.random()` (two words each)."""
        out = np.random.Generator(self._generator(self.used)).random(n)
        self.used += 2 * n
        return out

    def commit(self, words=None):
        """Set Python's global state to `words` words past the start (default: all used)."""
        state = self._generator(self.used if words is None else words).state["state"]
        internal = tuple(int(k) for k in state["key"]) + (int(state["pos"]),)
        random.setstate((self._version, internal, self._gauss))


def _randbelow(stream, n, count):
    """`count` draws of Python's `random._randbelow(n)` (what `randint(a, a + n - 1)` adds to
    a) for n < 2**32: `getrandbits(k)` with k = n.bit_length(), rejected while >= n, one
    word per try. Returns int64."""
    k = n.bit_length()
    out, need = [], count
    while need:
        # Acceptance is > 1/2 per word: 2 * need + 64 words rarely run out.
        words = stream.words(2 * need + 64) >> np.uint64(32 - k)
        accepted = np.flatnonzero(words < n)[:need]
        out.append(words[accepted].astype(np.int64))
        # Give back the words after the last accepted one (or keep all if too few).
        if len(accepted) == need:
            stream.used -= len(words) - (accepted[-1] + 1)
        need -= len(accepted)
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def _choices(stream, cum_weights, k):
    """`k` draws of `random.choices(range(n), cum_weights=cum_weights)`: bisect_right of
    random() * total into cum_weights[:n-1]. Returns int64 indices in [0, n)."""
    cum = np.asarray(cum_weights, dtype=np.float64)
    scaled = stream.doubles(k) * (float(cum_weights[-1]) + 0.0)
    return np.minimum(_bisect_right(cum, scaled), len(cum) - 1)


def _bisect_right(cum, x, buckets=1 << 18):
    """np.searchsorted(cum, x, side='right') for many x >= 0 (cum ascending), through a
    table: x's bucket floor(x * buckets / cum[-1]) settles the answer unless some cum value
    falls in the same bucket (then x is searched for). Bucketing is monotone, so a value in
    a lower bucket is below x and one in a higher bucket above it."""
    if len(x) < 4 * buckets:
        return np.searchsorted(cum, x, side="right")
    scale = buckets / cum[-1]
    cum_buckets = (cum * scale).astype(np.int64)
    # Per bucket: how many cum values lie in lower buckets, or -1 where one lies inside.
    table = np.searchsorted(cum_buckets, np.arange(buckets + 2), side="left")
    table[cum_buckets[cum_buckets <= buckets + 1]] = -1
    out = table[(x * scale).astype(np.int64)]
    unsure = np.flatnonzero(out < 0)
    out[unsure] = np.searchsorted(cum, x[unsure], side="right")
    return out


# ------------------------------------------------------------------------- reading PTB


def read_ptb():
    """The PTB training split as a list of sentences, each a list of word tokens: one per
    line of `ptb/ptb.train.txt`, the empty one after the final newline included (42069)."""
    data_dir = download_extract("ptb")
    with open(os.path.join(data_dir, "ptb.train.txt"), encoding="utf-8") as f:
        raw_text = f.read()
    return [line.split() for line in raw_text.split("\n")]


def _sentences(fn, sentences, name="sentences"):
    """`sentences` (a list of token lists) as (flat token list, lengths int64 array);
    ValueError naming the argument `name` for anything else."""
    if isinstance(sentences, (str, bytes)) or not isinstance(sentences, (list, tuple)) or \
            not all(isinstance(s, (list, tuple)) for s in sentences):
        raise ValueError(f"{fn}: {name} must be a list of token lists, got "
                         f"{type(sentences).__name__} {sentences!r:.60}")
    lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
    return list(itertools.chain.from_iterable(sentences)), lengths


def _split(flat, lengths):
    """`flat` (a list) cut into consecutive lists of `lengths`."""
    ends = np.cumsum(lengths).tolist()
    return list(map(flat.__getitem__, map(slice, [0, *ends[:-1]], ends)))


# ---------------------------------------------------------------------------- subsampling


def _subsample_ids(ids, num_ids):
    """Which token occurrences subsampling keeps (boolean array), for the token ids `ids`
    (int64, one per occurrence, < num_ids): occurrence i of a token counted c times among the
    n tokens stays iff random.uniform(0, 1) < sqrt(1e-4 / c * n), one draw per token."""
    counts = np.bincount(ids, minlength=num_ids).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # ids never seen are never looked up
        keep_below = np.sqrt(SUBSAMPLING_T / counts * float(len(ids)))
    stream = _PythonStream()
    kept = stream.doubles(len(ids)) < keep_below[ids]
    stream.commit()
    return kept


def subsampling(sentences, vocab):
    """Subsample frequent words (word2vec): every token first becomes
    `vocab.idx_to_token[vocab[token]]` (rare ones '<unk>'), then each occurrence is kept
    with probability sqrt(1e-4 * n / count(token)) (n: number of tokens), drawn with one
    `random.uniform(0, 1)` per token in corpus order. Returns the list of token lists."""
    flat, lengths = _sentences("subsampling", sentences)
    ids = _ids(vocab[flat])
    kept = _subsample_ids(ids, len(vocab.idx_to_token))
    tokens = list(map(vocab.idx_to_token.__getitem__, ids[kept].tolist()))
    return _split(tokens, _kept_lengths(kept, lengths))


def _ids(values):
    return np.fromiter(values, dtype=np.int64, count=len(values))


def _kept_lengths(kept, lengths):
    """Lengths of the sentences after dropping the tokens where `kept` is False."""
    running = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
    ends = np.cumsum(lengths)
    return running[ends] - running[ends - lengths]


# ------------------------------------------------------------------ centres and contexts


def _context_bounds(lengths, max_window_size):
    """For the sentences of `lengths` with at least 2 tokens, every position's centre and
    context bounds in the flat token list: (positions, lo, hi) int64 arrays, the context of
    position p being [lo, p) + (p, hi). One random.randint(1, max_window_size) per centre."""
    starts = np.cumsum(lengths) - lengths
    long_enough = lengths >= 2
    line_start = np.repeat(starts[long_enough], lengths[long_enough])
    line_end = line_start + np.repeat(lengths[long_enough], lengths[long_enough])
    positions = line_start + _within_lines(lengths[long_enough])
    if max_window_size >= 2**32:  # several words per draw: let Python draw them
        windows = np.array([random.randint(1, max_window_size) for _ in positions], np.int64)
    else:
        stream = _PythonStream()
        windows = 1 + _randbelow(stream, max_window_size, len(positions))
        stream.commit()
    lo = np.maximum(line_start, positions - windows)
    hi = np.minimum(line_end, positions + 1 + windows)
    return positions, lo, hi


def _within_lines(lengths):
    """0, 1, ..., l - 1 for every length l, concatenated."""
    total = int(lengths.sum())
    return np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def get_centers_and_contexts(corpus, max_window_size):
    """Skip-gram centres and contexts: every token of every sentence with at least 2 tokens
    is a centre; its window size is random.randint(1, max_window_size) (one draw per centre,
    in order) and its context the tokens at most that far away in its sentence, itself
    excluded. Returns (centers: flat list, contexts: list of lists)."""
    _check_window("get_centers_and_contexts", max_window_size)
    flat, lengths = _sentences("get_centers_and_contexts", corpus, "corpus")
    positions, lo, hi = _context_bounds(lengths, max_window_size)
    centers = list(map(flat.__getitem__, positions.tolist()))
    return centers, _contexts(flat, positions, lo, hi)


def _check_window(fn, max_window_size):
    checks.positive_int(fn, "max_window_size", max_window_size)


def _contexts(flat, positions, lo, hi):
    """[flat[lo:p] + flat[p+1:hi] for each position p], as lists."""
    return [flat[a:p] + flat[p + 1:b]
            for a, p, b in zip(lo.tolist(), positions.tolist(), hi.tolist())]


# ----------------------------------------------------------------------- noise words


class RandomGenerator:
    """Draws indices in [0, n) with probabilities proportional to `sampling_weights` (n of
    them, non-negative, not all 0): `draw()` returns the next of `candidates`, refilled with
    random.choices(population, sampling_weights, k=10000) when used up.

    Attributes: `population` (0 ... n-1), `sampling_weights`, `candidates`, `i` (the next
    candidate's position)."""

    def __init__(self, sampling_weights):
        self.sampling_weights = _weights("RandomGenerator", "sampling_weights",
                                         sampling_weights)
        self.population = list(range(len(self.sampling_weights)))
        self._cum_weights = list(itertools.accumulate(self.sampling_weights))
        self.candidates = []
        self.i = 0

    def draw(self):
        if self.i == len(self.candidates):
            self.candidates = self._refill(1)
            self.i = 0
        self.i += 1
        return self.candidates[self.i - 1]

    def _refill(self, times):
        """`times` refills of 10000 candidates in one go, as one list."""
        return self._refill_array(times).tolist()

    def _refill_array(self, times):
        """`times` refills of 10000 candidates in one go, as an int64 array."""
        stream = _PythonStream()
        out = _choices(stream, self._cum_weights, times * REFILL)
        stream.commit()
        return out


def _weights(fn, name, weights):
    """`weights` as a list of floats; ValueError naming `name` unless they are finite,
    non-negative, not empty and not all zero."""
    try:
        values = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: {name} must be a list of numbers, got {weights!r:.60}") \
            from None
    if not values or not all(0 <= w < math.inf for w in values) or not sum(values) > 0:
        raise ValueError(f"{fn}: {name} must be finite non-negative numbers, not all zero, "
                         f"got {weights!r:.60}")
    return values


def noise_weights(corpus):
    """Noise-word weights as the book builds them: count ** 0.75 for every token of
    `count_corpus(corpus)`, in the Counter's order (first appearance). RandomGenerator's
    index i is then taken as the token id i (kept from the book: it assumes the Counter's
    order is the id order, which it is not; see the spec entry of get_negatives)."""
    return [count ** 0.75 for count in count_corpus(corpus).values()]


def get_negatives(all_contexts, corpus, K):
    """K noise words per context word: for each context list, draws from a RandomGenerator
    over `noise_weights(corpus)` until it has len(context) * K ids not in that context
    (ids 0 ... n-1, n the number of distinct tokens in `corpus`).
    Returns the list of noise-id lists (one per context)."""
    checks.non_negative_int("get_negatives", "K", K)
    if not isinstance(all_contexts, (list, tuple)) or not all(
            isinstance(c, (list, tuple)) for c in all_contexts):
        raise ValueError(f"get_negatives: all_contexts must be a list of id lists, got "
                         f"{all_contexts!r:.60}")
    if not any(all_contexts) or K == 0:
        return [[] for _ in all_contexts]
    weights = noise_weights(corpus) if _is_corpus(corpus) else []
    if not weights:
        raise ValueError(f"get_negatives: corpus must be a non-empty list of token ids (or "
                         f"of id lists) to draw noise words from, got {corpus!r:.60}")
    _check_drawable(all_contexts, weights)
    lengths = [len(context) for context in all_contexts]
    ends = list(itertools.accumulate(lengths))
    starts = [0, *ends[:-1]]
    # Each context is flat[start:end] (no centre to leave out: centre = end).
    flat = list(itertools.chain.from_iterable(all_contexts))
    noise = _draw_negatives(RandomGenerator(weights), flat, starts, ends, ends, K)
    return _split(noise.tolist(), [length * K for length in lengths])


def _is_corpus(corpus):
    return isinstance(corpus, (list, tuple)) and all(
        isinstance(t, numbers.Integral) or isinstance(t, (list, tuple)) for t in corpus)


def _check_drawable(all_contexts, weights):
    """ValueError naming all_contexts if a context holds every id of positive weight (no
    noise word could ever be drawn for it)."""
    drawable = {i for i, w in enumerate(weights) if w > 0}
    if len(drawable) <= max(map(len, all_contexts)):
        for context in all_contexts:
            if context and drawable <= set(context):
                raise ValueError(f"get_negatives: all_contexts holds a context {context!r:.60} "
                                 f"with every id the corpus has: no noise word can be drawn")


def _draw_negatives(generator, flat, lo, centre, hi, K):
    """The noise words of the book's loop over `generator`'s candidates, laid end to end
    (int64): per context, candidates are taken in order, skipping those in the context,
    until len(context) * K are taken. Context j is flat[lo[j]:centre[j]] +
    flat[centre[j] + 1:hi[j]] (lists of ints). Candidates come in bulk (whole refills);
    Python's state ends where the book's generator leaves it."""
    start = _PythonStream()
    needs = [(b - a - (c < b)) * K for a, c, b in zip(lo, centre, hi)]
    candidates = generator._refill_array(-(-int(sum(needs) * 1.05 + 64) // REFILL))
    listed = candidates.tolist()  # slices of a list are cheaper than of an array
    at, skipped = 0, []
    # The whole window [a, b) holds the context: disjoint from it, nothing is skipped.
    windows = map(set, map(flat.__getitem__, map(slice, lo, hi)))
    for j, (window, n) in enumerate(zip(windows, needs)):
        while at + n > len(listed):  # rare: 5% more than needed were drawn
            listed += generator._refill(1)
        if window.isdisjoint(listed[at:at + n]):
            at += n
            continue
        a, c, b = lo[j], centre[j], hi[j]
        context = set(flat[a:c] + flat[c + 1:b])
        while n:
            if listed[at] in context:
                skipped.append(at)
            else:
                n -= 1
            at += 1
            if n and at == len(listed):
                listed += generator._refill(1)
    # The book's generator drew whole refills only: as many as reach candidate `at`.
    start.commit(-(-at // REFILL) * REFILL * 2)
    if len(listed) > len(candidates):
        candidates = np.array(listed)
    return np.delete(candidates[:at], skipped)


# --------------------------------------------------------------------- minibatches


def batchify_arrays(data):
    """The book's batchify on NumPy: `data` is a list of (center, context list, noise list).
    Returns int64 arrays (centers (B, 1), contexts_negatives (B, L), masks (B, L),
    labels (B, L)), L the longest context + noise list: each row holds the context, then the
    noise words, then 0s; masks are 1 on real entries, labels 1 on the context."""
    if not isinstance(data, (list, tuple)) or not data or not all(
            isinstance(d, (list, tuple)) and len(d) == 3 for d in data):
        raise ValueError(f"batchify: data must be a non-empty list of (center, contexts, "
                         f"negatives) triples, got {data!r:.60}")
    centers = np.array([_scalar(center) for center, _, _ in data], dtype=np.int64)
    contexts = [list(context) for _, context, _ in data]
    negatives = [list(noise) for _, _, noise in data]
    return pad_rows(centers, _lengths(contexts), _flat(contexts), _lengths(negatives),
                    _flat(negatives))


def _scalar(value):
    return int(np.asarray(value).reshape(()))


def _lengths(lists):
    return np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))


def _flat(lists):
    return np.array(list(itertools.chain.from_iterable(lists)), dtype=np.int64)


def pad_rows(centers, context_lengths, contexts, noise_lengths, negatives):
    """Batch arrays (see `batchify_arrays`) from the rows' contexts and noise words, each
    laid end to end (`contexts`, `negatives`) with their lengths per row."""
    lengths = context_lengths + noise_lengths
    columns = np.arange(int(lengths.max(initial=0)))
    labels = columns < context_lengths[:, None]
    masks = columns < lengths[:, None]
    contexts_negatives = np.zeros(masks.shape, dtype=np.int64)
    # Boolean indexing fills row by row: each row's context, then its noise words.
    contexts_negatives[labels] = contexts
    contexts_negatives[masks & ~labels] = negatives
    return (centers.reshape(-1, 1), contexts_negatives, masks.astype(np.int64),
            labels.astype(np.int64))


class SkipGramExamples:
    """The (center, context, negatives) examples of `load_data_ptb`, stored flat: example i
    is `self[i]` (a triple of an id and two id lists); `batch(indices)` gives the batchify
    arrays of those examples with one gather.

    Built from int64 arrays: `centers` (N,), the contexts and the noise words laid end to
    end (`contexts`, `negatives`) and the length of each (`context_lengths`,
    `noise_lengths`, (N,))."""

    def __init__(self, centers, contexts, context_lengths, negatives, noise_lengths):
        self.centers, self.contexts, self.negatives = centers, contexts, negatives
        self.context_lengths, self.noise_lengths = context_lengths, noise_lengths
        self.context_starts = np.cumsum(context_lengths) - context_lengths
        self.noise_starts = np.cumsum(noise_lengths) - noise_lengths

    def __len__(self):
        return len(self.centers)

    def __getitem__(self, i):
        context = self.context_starts[i] + np.arange(self.context_lengths[i])
        noise = self.noise_starts[i] + np.arange(self.noise_lengths[i])
        return (int(self.centers[i]), self.contexts[context].tolist(),
                self.negatives[noise].tolist())

    def batch(self, indices):
        """batchify_arrays of the examples `indices` (in that order)."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        context_lengths, noise_lengths = self.context_lengths[indices], \
            self.noise_lengths[indices]
        contexts = self.contexts[_row_offsets(self.context_starts[indices], context_lengths)]
        negatives = self.negatives[_row_offsets(self.noise_starts[indices], noise_lengths)]
        return pad_rows(self.centers[indices], context_lengths, contexts, noise_lengths,
                        negatives)


def _row_offsets(starts, lengths):
    """starts[r] + (0, 1, ..., lengths[r] - 1) for every row r, concatenated."""
    return np.repeat(starts, lengths) + _within_lines(lengths)


def ptb_examples(d2l, max_window_size, num_noise_words):
    """(SkipGramExamples, vocab) of the book's pipeline on PTB, for the backend module `d2l`:
    read_ptb -> Vocab(min_freq=10) -> subsampling -> ids -> centres/contexts (randint per
    centre) -> negatives (num_noise_words per context word). Draws exactly what the saved
    functions draw, on ids without going through strings."""
    _check_window("load_data_ptb", max_window_size)
    checks.non_negative_int("load_data_ptb", "num_noise_words", num_noise_words)
    sentences = d2l.read_ptb()
    vocab = d2l.Vocab(sentences, min_freq=10)
    flat, lengths = _sentences("load_data_ptb", sentences)
    ids = _ids(vocab[flat])
    kept = _subsample_ids(ids, len(vocab))
    corpus_ids, lengths = ids[kept], _kept_lengths(kept, lengths)
    positions, lo, hi = _context_bounds(lengths, max_window_size)
    flat_ids = corpus_ids.tolist()
    generator = RandomGenerator(noise_weights([flat_ids]))
    negatives = _draw_negatives(generator, flat_ids, lo.tolist(), positions.tolist(),
                                hi.tolist(), num_noise_words)
    context_lengths = hi - lo - 1
    # The contexts laid end to end: each centre's window [lo, hi) without the centre.
    window = _row_offsets(lo, hi - lo)
    flat_contexts = corpus_ids[window[window != np.repeat(positions, hi - lo)]]
    examples = SkipGramExamples(corpus_ids[positions], flat_contexts, context_lengths,
                                negatives, context_lengths * num_noise_words)
    return examples, vocab
