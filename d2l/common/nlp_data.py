"""Sentiment analysis and natural language inference data (sections 15.1 and 15.4), and the
minibatch split of section 15.5, shared by every backend.

Everything here is pure Python and NumPy: reading the IMDb review folders and the SNLI
tab-separated files, turning token lists into padded id matrices, and the shard sizes of a
multi-device split. Each backend turns the NumPy arrays into its tensors and loaders.
"""

import itertools
import os
import re

import numpy as np

from . import checks
from .data_hub import download_extract
from .text import Vocab, gc_paused, tokenize

IMDB_LABELS = {"pos": 1, "neg": 0}
SNLI_LABELS = {"entailment": 0, "contradiction": 1, "neutral": 2}
SNLI_FILES = {True: "snli_1.0_train.txt", False: "snli_1.0_test.txt"}
MIN_FREQ = 5

_PARENS = str.maketrans("", "", "()")
_WHITESPACE_RUNS = re.compile(r"\s{2,}")
_OTHER_ASCII_WHITESPACE = "\n\t\r\x0b\x0c\x1c\x1d\x1e\x1f"  # str.isspace() but not ' '
# The first three tab-separated fields of every line that has them.
_FIRST_FIELDS = re.compile(r"^([^\t\n]*)\t([^\t\n]*)\t([^\t\n]*)", re.MULTILINE)
# A line with fewer than two tabs that is not blank.
_SHORT_LINE = re.compile(r"^(?![^\t\n]*\t[^\t\n]*\t)[^\n]*?\S", re.MULTILINE)
_SEPARATOR = "\x00"  # joins the sentences of a file for one pass of the regex; not \s


# ------------------------------------------------------------------------ 15.1 IMDb


def read_imdb(data_dir, is_train):
    """(data, labels): the text of every review of the `train` (is_train) or `test` split
    of the aclImdb folder `data_dir`, folder 'pos' (label 1) first, then 'neg' (label 0),
    files in `os.listdir` order, read as UTF-8 with every '\\n' removed."""
    split = os.path.join(data_dir, "train" if is_train else "test")
    if not os.path.isdir(split):
        raise ValueError(f"read_imdb: data_dir {data_dir!r} has no folder "
                         f"{os.path.basename(split)!r} (expected the extracted aclImdb folder)")
    data, labels = [], []
    for label, value in IMDB_LABELS.items():
        folder = os.path.join(split, label)
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), "rb") as f:
                data.append(f.read().decode("utf-8").replace("\n", ""))
            labels.append(value)
    return data, labels


def load_imdb(batch_size, num_steps, dtype):
    """The NumPy side of every backend's load_data_imdb: ((train_ids, train_labels),
    (test_ids, test_labels), vocab) with the arguments checked, aclImdb downloaded (or found)
    and read, and the reviews as `imdb_arrays` makes them."""
    check_loader_args("load_data_imdb", batch_size, num_steps)
    data_dir = download_extract("aclImdb", "aclImdb")
    train_data, test_data = read_imdb(data_dir, True), read_imdb(data_dir, False)
    train_ids, test_ids, vocab = imdb_arrays(train_data, test_data, num_steps, dtype)
    return (train_ids, train_data[1]), (test_ids, test_data[1]), vocab


def snli_sets(dataset_class, batch_size, num_steps):
    """(train_set, test_set) of every backend's load_data_snli: the arguments checked, SNLI
    downloaded (or found) and read into the backend's `dataset_class`, the test set with the
    training set's vocabulary."""
    check_loader_args("load_data_snli", batch_size, num_steps)
    data_dir = download_extract("SNLI")
    train_set = dataset_class(read_snli(data_dir, True), num_steps)
    return train_set, dataset_class(read_snli(data_dir, False), num_steps, train_set.vocab)


def imdb_arrays(train_data, test_data, num_steps, dtype=np.int64):
    """(train_ids, test_ids, vocab): word-tokenized reviews as (N, num_steps) id matrices
    of `dtype` truncated/padded with vocab['<pad>'], the vocabulary built from the training
    reviews with min_freq 5 and no reserved tokens, as the book's saved loader does (so
    '<pad>' is unknown and pads with 0, the id of '<unk>')."""
    with gc_paused():
        return _imdb_ids(train_data[0], test_data[0], num_steps, dtype)


def _imdb_ids(train_reviews, test_reviews, num_steps, dtype):
    train, test = token_stream(train_reviews), token_stream(test_reviews)
    vocab = Vocab(train[0], min_freq=MIN_FREQ)
    pad = vocab["<pad>"]
    return (padded_ids(*train, vocab, num_steps, pad, dtype),
            padded_ids(*test, vocab, num_steps, pad, dtype), vocab)


def check_loader_args(fn, batch_size, num_steps):
    """Raise ValueError unless batch_size and num_steps are positive ints."""
    checks.positive_int(fn, "batch_size", batch_size)
    checks.positive_int(fn, "num_steps", num_steps)


def token_stream(lines):
    """(tokens, lengths): the word tokens of all `lines` in order, in one flat list (those
    of `tokenize(lines)` chained), and each line's token count (int64 array).

    Lines whose only whitespace is single spaces between words (as read_snli makes them)
    are split in one call on their join and counted by their spaces; others go through
    `tokenize` line by line."""
    try:
        joined = "\n".join(lines)
    except TypeError:  # not strings: tokenize raises the error naming them
        joined = None
    if joined is not None and _single_spaced(joined, len(lines)):
        spaces = np.fromiter(map(str.count, lines, itertools.repeat(" ")), dtype=np.int64,
                             count=len(lines))
        return joined.split(), spaces + np.fromiter(map(bool, lines), dtype=np.int64,
                                                   count=len(lines))
    token_lists = tokenize(lines, "word")
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    return list(itertools.chain.from_iterable(token_lists)), lengths


def _single_spaced(joined, n):
    """Whether the n lines joined by '\n' are ASCII, hold no '\n' of their own and no
    whitespace but single spaces between words."""
    return (joined.isascii() and joined.count("\n") == n - 1 and "  " not in joined
            and " \n" not in joined and "\n " not in joined and joined[:1] != " "
            and joined[-1:] != " "
            and not any(c in joined for c in _OTHER_ASCII_WHITESPACE[1:]))


def padded_ids(tokens, lengths, vocab, num_steps, pad, dtype=np.int64):
    """A (len(lengths), num_steps) matrix of `dtype`: row i holds the ids of line i (its
    lengths[i] tokens, next in the flat list `tokens`), truncated to num_steps or
    right-padded with `pad`: `truncate_pad` of each line, done with one vocabulary pass over
    the kept tokens and one masked NumPy assignment."""
    kept = np.minimum(lengths, num_steps)
    total = int(kept.sum())
    if total < len(tokens):  # leave out the tokens cut off their line
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        tokens = itertools.compress(tokens, (np.arange(len(tokens)) - starts < num_steps))
    index = getattr(vocab, "token_to_idx", None)
    found = (map(index.get, tokens, itertools.repeat(vocab.unk)) if isinstance(index, dict)
             else vocab[list(tokens)])  # another vocabulary: its own lookup
    ids = np.fromiter(found, dtype=np.int64, count=total)
    out = np.full((len(lengths), num_steps), pad, dtype=dtype)
    out[np.arange(num_steps) < kept[:, None]] = ids  # row-major: line by line, in order
    return out


# ------------------------------------------------------------------------ 15.4 SNLI


def read_snli(data_dir, is_train):
    """(premises, hypotheses, labels) of `snli_1.0_train.txt` (is_train) or
    `snli_1.0_test.txt` in `data_dir`: the header line is skipped, each line split on tabs,
    and only lines whose gold label (column 0) is entailment (0), contradiction (1) or
    neutral (2) kept ('-', no consensus, is dropped). Premise and hypothesis are columns 1
    and 2 (binary parses) with '(' and ')' removed, every run of 2+ whitespace characters
    replaced by one space, and stripped.

    A non-empty line with fewer than three tab-separated fields is a ValueError naming the
    file and the line."""
    path = os.path.join(data_dir, SNLI_FILES[bool(is_train)])
    with open(path, encoding="utf-8") as f:
        text = f.read()
    body = text.partition("\n")[2]
    lines = body.count("\n") + (not body.endswith("\n") and bool(body))
    with gc_paused():
        columns, found = _snli_columns(body)
    bad = _SHORT_LINE.search(body) if found != lines else None  # blank or short lines
    if bad:
        line = bad.group(0).split("\n")[0]
        raise ValueError(f"read_snli: {path}, line {body.count(chr(10), 0, bad.start()) + 2}: "
                         f"expected at least 3 tab-separated fields (gold_label, "
                         f"sentence1_binary_parse, sentence2_binary_parse), got "
                         f"{len(line.split(chr(9)))}: {line[:60]!r}")
    return columns


def _snli_columns(body):
    """((premises, hypotheses, labels), number of lines with 3+ fields) of the lines of
    `body` (the file after its header); rows are kept when their label is one of three."""
    rows = _FIRST_FIELDS.findall(body)
    found = len(rows)
    rows = [row for row in rows if row[0] in SNLI_LABELS]
    return (_strip_parses([row[1] for row in rows]), _strip_parses([row[2] for row in rows]),
            [SNLI_LABELS[row[0]] for row in rows]), found


def _strip_parses(parses):
    """Each parse without parentheses, 2+ whitespace runs as one space, stripped: one pass
    over all of them joined by a non-whitespace separator."""
    if not parses:
        return []
    text = _SEPARATOR.join(parses)
    if text.count(_SEPARATOR) != len(parses) - 1:  # a parse holds the separator
        return [_WHITESPACE_RUNS.sub(" ", p.translate(_PARENS)).strip()
                for p in parses]
    text = _collapse_whitespace(text.translate(_PARENS))
    return [s.strip() for s in text.split(_SEPARATOR)]


def _collapse_whitespace(text):
    """`text` with every run of 2+ whitespace characters replaced by one space, except at
    its two ends, which the caller strips. When spaces are its only whitespace (as in
    SNLI's parses), splitting on whitespace and joining with spaces does that in half the
    time of the regex (a single space stays a single space)."""
    if not text.isascii() or any(c in text for c in _OTHER_ASCII_WHITESPACE):
        return _WHITESPACE_RUNS.sub(" ", text)
    return " ".join(text.split())


def snli_arrays(dataset, num_steps, vocab=None, dtype=np.int64):
    """(premises, hypotheses, labels, vocab) of SNLIDataset as NumPy arrays of `dtype`:
    (N, num_steps) id matrices truncated/padded with vocab['<pad>'] and labels (N,).
    Without a `vocab`, one is built from all premise and hypothesis tokens, min_freq 5,
    '<pad>' reserved (id 1)."""
    premises, hypotheses, labels = _snli_triple(dataset)
    checks.positive_int("SNLIDataset", "num_steps", num_steps)
    with gc_paused():
        P, H, vocab = _snli_ids(premises, hypotheses, num_steps, vocab, dtype)
    return P, H, np.asarray(labels, dtype=dtype).reshape(len(labels)), vocab


def _snli_ids(premises, hypotheses, num_steps, vocab, dtype):
    """(P, H, vocab) for snli_arrays; its token lists are gone once it returns."""
    premise, hypothesis = token_stream(premises), token_stream(hypotheses)
    if vocab is None:
        vocab = Vocab(premise[0] + hypothesis[0], min_freq=MIN_FREQ, reserved_tokens=["<pad>"])
    pad = vocab["<pad>"]
    return (padded_ids(*premise, vocab, num_steps, pad, dtype),
            padded_ids(*hypothesis, vocab, num_steps, pad, dtype), vocab)


def _snli_triple(dataset):
    """`dataset` as (premises, hypotheses, labels) lists of equal length, else ValueError."""
    if not isinstance(dataset, (list, tuple)) or len(dataset) != 3:
        raise ValueError("SNLIDataset: dataset must be (premises, hypotheses, labels) as "
                         f"read_snli returns it, got {type(dataset).__name__}")
    premises, hypotheses, labels = (list(part) for part in dataset)
    if not len(premises) == len(hypotheses) == len(labels):
        raise ValueError(f"SNLIDataset: dataset has {len(premises)} premises, "
                         f"{len(hypotheses)} hypotheses and {len(labels)} labels")
    return premises, hypotheses, labels


# ---------------------------------------------------------------- 15.5 multi-device split


def shard_bounds(fn, X, y, devices):
    """The (start, stop) rows of each device's shard for split_batch_multi_inputs: as
    `gluon.utils.split_and_load(..., even_split=False)` cuts a batch of n rows over k
    devices, the first n % k shards get n // k + 1 rows, the others n // k (some are empty
    when n < k). ValueError naming X, y or devices for a bad call."""
    if not isinstance(X, (list, tuple)) or not X:
        raise ValueError(f"{fn}: X must be a non-empty list of feature arrays, got "
                         f"{type(X).__name__}")
    if not isinstance(devices, (list, tuple)) or not devices:
        raise ValueError(f"{fn}: devices must be a non-empty list of devices, got {devices!r}")
    sizes = [_rows(x) for x in X]
    n = _rows(y)
    if None in sizes or len(set(sizes)) != 1:
        raise ValueError(f"{fn}: the arrays of X must share their first (batch) dimension, got "
                         f"shapes {[checks.shape_of(x) for x in X]}")
    if n != sizes[0]:
        raise ValueError(f"{fn}: y has {n} rows but the arrays of X have {sizes[0]}")
    each, extra = divmod(n, len(devices))
    stops = np.cumsum([each + 1] * extra + [each] * (len(devices) - extra)).tolist()
    return list(zip([0] + stops[:-1], stops))


def _rows(x):
    """The first dimension of an array of any framework; None for a scalar or non-array."""
    shape = getattr(x, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else None


# ------------------------------------------------------------------- 15.2, 15.5 predict

SENTIMENTS = ("negative", "positive")
SNLI_CLASSES = ("entailment", "contradiction", "neutral")


def sentence_ids(vocab, sentence):
    """The ids of the whitespace-separated words of `sentence` (predict_sentiment); a
    sentence that is not a string or holds no word is a ValueError naming sentence."""
    if not isinstance(sentence, str) or not sentence.split():
        raise ValueError(f"predict_sentiment: sentence must be a string holding at least one "
                         f"word, got {sentence!r:.60}")
    return vocab[sentence.split()]


def pair_ids(vocab, premise, hypothesis):
    """The ids of the token lists `premise` and `hypothesis` (predict_snli); anything but a
    non-empty list (or tuple) of tokens is a ValueError naming the argument (a string would
    be looked up as one token)."""
    for name, tokens in (("premise", premise), ("hypothesis", hypothesis)):
        if not isinstance(tokens, (list, tuple)) or not tokens:
            raise ValueError(f"predict_snli: {name} must be a non-empty list of tokens (e.g. "
                             f"'a man .'.split()), got {tokens!r:.60}")
    return vocab[list(premise)], vocab[list(hypothesis)]
