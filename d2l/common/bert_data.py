"""BERT input representation and pretraining data (sections 14.8-14.9), shared by every
backend: pure Python and NumPy.

Randomness comes from Python's global `random`, in the book's order, so the same
`random.seed` gives the same examples in every framework: `_read_wiki` shuffles the
paragraphs once; the dataset then draws the next-sentence pairs of every paragraph (one
`random.random()` per consecutive pair, plus two `random.choice` for a random next
sentence), and only then the masks of every example (one `random.shuffle` of its candidate
positions, then one to three draws per prediction).

Fix of the book's code: the 10% "random word" replacement inserts a random token *string*
of the vocabulary (upstream inserted its integer id, which the vocabulary then mapped to
'<unk>').
"""

import functools
import itertools
import os
import random

import numpy as np

from . import checks
from .text import Vocab, tokenize

RESERVED_TOKENS = ["<pad>", "<mask>", "<cls>", "<sep>"]


def get_tokens_and_segments(tokens_a, tokens_b=None):
    """(['<cls>'] + tokens_a + ['<sep>'] (+ tokens_b + ['<sep>']), segment ids): 0 for
    '<cls>', tokens_a and its '<sep>', 1 for tokens_b and its '<sep>'."""
    tokens = ["<cls>", *tokens_a, "<sep>"]
    segments = [0] * len(tokens)
    if tokens_b is not None:
        tokens += [*tokens_b, "<sep>"]
        segments += [1] * (len(tokens_b) + 1)
    return tokens, segments


def check_bert_inputs(fn, tokens, segments, vocab_size, max_len):
    """tokens (batch, steps) ids in [0, vocab_size), segments of the same shape in {0, 1},
    steps <= max_len (the positional embedding's length): else ValueError naming the
    argument."""
    shape = checks.shape_of(tokens)
    if len(shape) != 2 or shape[1] > max_len:
        raise ValueError(f"{fn}: tokens must be (batch, steps) with steps <= max_len="
                         f"{max_len}, got shape {shape}")
    if checks.shape_of(segments) != shape:
        raise ValueError(f"{fn}: segments must have the shape of tokens {shape}, got "
                         f"{checks.shape_of(segments)}")
    checks.token_ids(fn, "tokens", tokens, vocab_size)
    checks.token_ids(fn, "segments", segments, 2)


def check_positions(fn, pred_positions, X_shape):
    """pred_positions (batch, num_preds) of positions in [0, steps) of X (batch, steps, h)."""
    shape, X_shape = checks.shape_of(pred_positions), tuple(X_shape)
    if len(shape) != 2 or shape[0] != X_shape[0]:
        raise ValueError(f"{fn}: pred_positions must be (batch, num_preds) for X of shape "
                         f"{X_shape}, got shape {shape}")
    checks.token_ids(fn, "pred_positions", pred_positions, X_shape[1])


def _read_wiki(data_dir):
    """The paragraphs of `data_dir`/wiki.train.tokens, shuffled with `random.shuffle`: every
    line with at least two ' . '-separated sentences, stripped, lower-cased and split on
    ' . ' (a list of sentence strings)."""
    file_name = os.path.join(data_dir, "wiki.train.tokens")
    with open(file_name, encoding="utf-8") as f:
        lines = f.readlines()
    paragraphs = [line.strip().lower().split(" . ") for line in lines
                  if len(line.split(" . ")) >= 2]
    random.shuffle(paragraphs)
    return paragraphs


def _get_next_sentence(sentence, next_sentence, paragraphs):
    """(sentence, next_sentence, True) with probability 0.5 (one `random.random()`), else
    (sentence, a random sentence of a random paragraph, False)."""
    if random.random() < 0.5:
        return sentence, next_sentence, True
    return sentence, random.choice(random.choice(paragraphs)), False


def _check_paragraphs(fn, paragraphs):
    if not isinstance(paragraphs, (list, tuple)) or not paragraphs:
        raise ValueError(f"{fn}: paragraphs must be a non-empty list of paragraphs (lists of "
                         f"sentences), got {paragraphs!r:.60}")


def _get_nsp_data_from_paragraph(paragraph, paragraphs, vocab, max_len):
    """[(tokens, segments, is_next)] for each consecutive sentence pair (i, i + 1) of
    `paragraph` (token lists) whose two sentences fit in `max_len` with '<cls>' and two
    '<sep>'; the next-sentence draw is made for every pair, fitting or not. `vocab` is
    unused (the book's signature)."""
    _check_paragraphs("_get_nsp_data_from_paragraph", paragraphs)
    nsp_data = []
    for i in range(len(paragraph) - 1):
        tokens_a, tokens_b, is_next = _get_next_sentence(paragraph[i], paragraph[i + 1],
                                                         paragraphs)
        if len(tokens_a) + len(tokens_b) + 3 <= max_len:
            nsp_data.append((*get_tokens_and_segments(tokens_a, tokens_b), is_next))
    return nsp_data


def _replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab):
    """(a copy of tokens with num_mlm_preds positions replaced, [(position, original token)]).

    Shuffles `candidate_pred_positions` in place (as the book does) and takes the first
    num_mlm_preds: each becomes '<mask>' (random() < 0.8), stays (then random() < 0.5), or
    becomes a random token string of `vocab` (`random.randint(0, len(vocab) - 1)`)."""
    mlm_input_tokens = list(tokens)
    pred_positions_and_labels = []
    random.shuffle(candidate_pred_positions)
    rand, randint, idx_to_token = random.random, random.randint, vocab.idx_to_token
    for position in candidate_pred_positions[:num_mlm_preds]:
        if rand() < 0.8:
            mlm_input_tokens[position] = "<mask>"
        elif rand() >= 0.5:
            mlm_input_tokens[position] = idx_to_token[randint(0, len(vocab) - 1)]
        pred_positions_and_labels.append((position, tokens[position]))
    return mlm_input_tokens, pred_positions_and_labels


def _get_mlm_data_from_tokens(tokens, vocab):
    """(input token ids, prediction positions (ascending), label ids): max(1,
    round(0.15 * len(tokens))) positions other than '<cls>' and '<sep>' are chosen and
    replaced by `_replace_mlm_tokens`."""
    candidates = [i for i, token in enumerate(tokens) if token not in ("<cls>", "<sep>")]
    num_mlm_preds = max(1, round(len(tokens) * 0.15))
    mlm_input_tokens, pairs = _replace_mlm_tokens(tokens, candidates, num_mlm_preds, vocab)
    pairs.sort()  # positions are distinct: by position
    return (vocab[mlm_input_tokens], [p for p, _ in pairs], vocab[[label for _, label in pairs]])


def check_max_len(fn, max_len):
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 4:
        raise ValueError(f"{fn}: max_len must be an int >= 4 ('<cls>', two '<sep>' and one "
                         f"token), got {max_len!r}")


def pad_bert_arrays(examples, max_len, vocab):
    """The seven padded arrays of `examples` ((token_ids, pred_positions, mlm_label_ids,
    segments, is_next) each), one row per example: token ids (n, max_len) padded with
    vocab['<pad>'], segments (n, max_len) padded with 0, valid lengths (n,) float32,
    prediction positions (n, P) padded with 0, MLM weights (n, P) float32 (1 real, 0
    padding), MLM labels (n, P) padded with 0, NSP labels (n,) bool; P = round(0.15 *
    max_len). Integer arrays are int64."""
    check_max_len("_pad_bert_inputs", max_len)
    token_ids, pred_positions, labels, segments, is_next = (
        [list(column) for column in zip(*examples)] if examples else ([],) * 5)
    return _pad_arrays(token_ids, pred_positions, labels, segments, is_next, max_len,
                       vocab["<pad>"])


def _pad_arrays(token_ids, pred_positions, labels, segments, is_next, max_len, pad_id):
    """`pad_bert_arrays` of the columns; `segments` holds segment lists or, per example,
    the position where segment 1 starts."""
    num_preds, n = round(max_len * 0.15), len(token_ids)
    lens = np.fromiter(map(len, token_ids), np.int64, n)
    num_real = np.fromiter(map(len, pred_positions), np.int64, n)
    if n and (lens.max() > max_len or num_real.max() > num_preds):
        raise ValueError(f"_pad_bert_inputs: max_len={max_len} is too small for an example of "
                         f"{lens.max()} tokens and {num_real.max()} predictions (at most "
                         f"{num_preds} = round(0.15 * max_len))")
    if n and isinstance(segments[0], int):
        steps = np.arange(max_len)
        first = np.asarray(segments, np.int64)[:, None]
        segment_rows = ((steps >= first) & (steps < lens[:, None])).astype(np.int64)
    else:
        segment_rows = _rows(segments, lens, max_len, 0)
    return (_rows(token_ids, lens, max_len, pad_id), segment_rows, lens.astype(np.float32),
            _rows(pred_positions, num_real, num_preds, 0),
            (np.arange(num_preds) < num_real[:, None]).astype(np.float32),
            _rows(labels, num_real, num_preds, 0), np.array(is_next, dtype=bool).reshape(n))


def _rows(sequences, lengths, width, fill):
    """Ragged int sequences as one (n, width) int64 array padded with `fill`: one flat copy
    scattered through a mask (no Python loop over the rows)."""
    out = np.full((len(sequences), width), fill, np.int64)
    flat = np.fromiter(itertools.chain.from_iterable(sequences), np.int64, int(lengths.sum()))
    out[np.arange(width) < lengths[:, None]] = flat
    return out


# --- the dataset's fast path: the same draws from `random`, fewer Python calls per draw --

def _below(getrandbits, n):
    """An int in [0, n) drawn as CPython's Random._randbelow does (getrandbits of n's bit
    length, redrawn while >= n)."""
    if n <= 0:
        raise IndexError("Cannot choose from an empty sequence")
    k = n.bit_length()
    r = getrandbits(k)
    while r >= n:
        r = getrandbits(k)
    return r


_BITS = [n.bit_length() for n in range(1025)]


def _shuffle(x, getrandbits):
    """random.shuffle(x) (Fisher-Yates from the end) with its draws inlined."""
    bits = _BITS if len(x) < len(_BITS) else [n.bit_length() for n in range(len(x) + 1)]
    for i in range(len(x) - 1, 0, -1):
        n = i + 1
        j = getrandbits(bits[n])
        while j >= n:
            j = getrandbits(bits[n])
        x[i], x[j] = x[j], x[i]


@functools.cache
def _inlined_draws_match():
    """Whether `_below` / `_shuffle` reproduce this Python's random.choice, randint and
    shuffle exactly (same values, same generator state after); checked on first use on a
    private generator, else the dataset calls `random` itself."""
    ours, theirs = random.Random(2024), random.Random(2024)
    x, y = list(range(40)), list(range(40))
    theirs.shuffle(x)
    _shuffle(y, ours.getrandbits)
    picks = [theirs.choice(range(n)) for n in range(1, 30)] + [
        theirs.randint(0, n) for n in range(30)]
    mine = [_below(ours.getrandbits, n) for n in range(1, 30)] + [
        _below(ours.getrandbits, n + 1) for n in range(30)]
    return x == y and picks == mine and ours.getstate() == theirs.getstate()


def _draws():
    """(below(n), shuffle(x)) drawing from the global `random` as the book's calls do."""
    if _inlined_draws_match():
        getrandbits = random.getrandbits
        return (lambda n: _below(getrandbits, n)), (lambda x: _shuffle(x, getrandbits))
    return random.randrange, random.shuffle


def _nsp_pairs(paragraphs, max_len, below):
    """(first sentence index, second sentence index, is_next) of every kept pair, over the
    flat list of sentences, with the draws of `_get_nsp_data_from_paragraph`."""
    rand, pairs, start, num_paragraphs = random.random, [], 0, len(paragraphs)
    starts = list(itertools.accumulate(map(len, paragraphs), initial=0))
    for paragraph in paragraphs:
        for i in range(len(paragraph) - 1):
            a = paragraph[i]
            if rand() < 0.5:
                b_index, b, is_next = start + i + 1, paragraph[i + 1], True
            else:
                p = below(num_paragraphs)
                j = below(len(paragraphs[p]))
                b_index, b, is_next = starts[p] + j, paragraphs[p][j], False
            if len(a) + len(b) + 3 <= max_len:
                pairs.append((start + i, b_index, is_next))
        start += len(paragraph)
    return pairs


def _mlm_examples(pairs, sentence_ids, vocab, below, shuffle):
    """Token id lists, sorted prediction positions, label ids and segment splits of every
    pair, with the draws of `_get_mlm_data_from_tokens`."""
    cls, sep, mask = vocab["<cls>"], vocab["<sep>"], vocab["<mask>"]
    rand, vocab_size = random.random, len(vocab)
    # sentences holding '<cls>' or '<sep>' themselves (their positions are no candidates)
    special = {i for i, ids in enumerate(sentence_ids) if cls in ids or sep in ids}
    tokens_out, positions_out, labels_out, firsts = [], [], [], []
    for a_index, b_index, _ in pairs:
        a, b = sentence_ids[a_index], sentence_ids[b_index]
        tokens = [cls, *a, sep, *b, sep]
        if a_index in special or b_index in special:
            candidates = [i for i, t in enumerate(tokens) if t != cls and t != sep]
        else:
            candidates = [*range(1, len(a) + 1), *range(len(a) + 2, len(tokens) - 1)]
        shuffle(candidates)
        chosen = sorted(candidates[:max(1, round(len(tokens) * 0.15))])
        labels = [tokens[i] for i in chosen]
        for i in candidates[:len(chosen)]:  # draws in shuffled order
            if rand() < 0.8:
                tokens[i] = mask
            elif rand() >= 0.5:
                tokens[i] = below(vocab_size)  # a random word: its id
        tokens_out.append(tokens)
        positions_out.append(chosen)
        labels_out.append(labels)
        firsts.append(len(a) + 2)
    return tokens_out, positions_out, labels_out, firsts


class WikiTextExamples:
    """The examples of `_WikiTextDataset(paragraphs, max_len)` as padded NumPy arrays
    (`arrays`, the seven of `pad_bert_arrays`) and the vocabulary (`vocab`): sentences are
    word-tokenised, `Vocab(sentences, min_freq=5, reserved_tokens=['<pad>', '<mask>',
    '<cls>', '<sep>'])`, then next-sentence pairs paragraph by paragraph, then the masks of
    every example, then padding. ValueError naming `paragraphs` when there are none, naming
    `max_len` when no sentence pair fits in it."""

    def __init__(self, paragraphs, max_len):
        _check_paragraphs("_WikiTextDataset", paragraphs)
        check_max_len("_WikiTextDataset", max_len)
        paragraphs = [tokenize(paragraph, token="word") for paragraph in paragraphs]
        sentences = [sentence for paragraph in paragraphs for sentence in paragraph]
        self.vocab = Vocab(sentences, min_freq=5, reserved_tokens=RESERVED_TOKENS)
        below, shuffle = _draws()
        pairs = _nsp_pairs(paragraphs, max_len, below)
        if not pairs:
            raise ValueError(f"_WikiTextDataset: max_len={max_len} is smaller than every "
                             f"sentence pair with its 3 special tokens: no examples")
        tokens, positions, labels, firsts = _mlm_examples(pairs, self.vocab[sentences],
                                                          self.vocab, below, shuffle)
        self.arrays = _pad_arrays(tokens, positions, labels, firsts,
                                  [is_next for _, _, is_next in pairs], max_len,
                                  self.vocab["<pad>"])

    def __len__(self):
        return len(self.arrays[0])
