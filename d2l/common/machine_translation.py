"""The English-French translation data (section 9.5) and BLEU (section 9.7), shared by every
backend: reading, normalising and tokenizing the sentence pairs, padding, and the id arrays
as NumPy (each backend converts them to its tensors in `build_array_nmt`)."""

import math
import os
import re

import numpy as np

from . import checks
from .data_hub import download_extract
from .text import Vocab

RESERVED_TOKENS = ["<pad>", "<bos>", "<eos>"]

# The empty string before a , . ! or ? that is not at position 0 and not after a space (a
# zero-width match with a literal replacement keeps re.sub on its fast path).
_BEFORE_UNSPACED_PUNCTUATION = re.compile(r"(?<=[^ ])(?=[,.!?])")


def read_data_nmt():
    """The whole text of `fra-eng/fra.txt` (one 'English<TAB>French' pair per line)."""
    data_dir = download_extract("fra-eng")
    with open(os.path.join(data_dir, "fra.txt"), encoding="utf-8") as f:
        return f.read()


def preprocess_nmt(text):
    """`text` with U+202F and U+00A0 replaced by spaces, lower-cased, and a space inserted
    before every , . ! ? that is not at position 0 and not already after a space. A text
    that is not a string is a TypeError."""
    _check_text("preprocess_nmt", text)
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    return _BEFORE_UNSPACED_PUNCTUATION.sub(" ", text)


def tokenize_nmt(text, num_examples=None):
    """(source, target): the space-split halves of every line of `text` that splits into
    exactly two parts on '\\t'. With a truthy `num_examples`, lines 0..num_examples are read
    (num_examples + 1 lines, as in the book); None or 0 reads them all. A text that is not a
    string is a TypeError, a negative num_examples a ValueError."""
    _check_text("tokenize_nmt", text)
    if num_examples is not None:
        checks.non_negative_int("tokenize_nmt", "num_examples", num_examples)
    lines = text.split("\n")
    if num_examples:
        lines = lines[:num_examples + 1]
    source, target = [], []
    for line in lines:
        parts = line.split("\t")
        if len(parts) == 2:
            source.append(parts[0].split(" "))
            target.append(parts[1].split(" "))
    return source, target


def _check_text(fn, text):
    if not isinstance(text, str):
        raise TypeError(f"{fn}: text must be a string, got {type(text).__name__}")


def truncate_pad(line, num_steps, padding_token):
    """A new list: the first num_steps elements of `line` (a list: anything else is a
    TypeError), right-padded with `padding_token` up to num_steps (0 gives [])."""
    if not isinstance(line, list):
        raise TypeError(f"truncate_pad: line must be a list of tokens or ids, got "
                        f"{type(line).__name__}")
    checks.non_negative_int("truncate_pad", "num_steps", num_steps)
    if len(line) > num_steps:
        return line[:num_steps]
    return line + [padding_token] * (num_steps - len(line))


def id_array(lines, vocab, num_steps):
    """(ids, valid_len) as int64 NumPy arrays: ids (N, num_steps) holds each token list's
    indices followed by `vocab['<eos>']`, truncated (losing '<eos>') or padded with
    `vocab['<pad>']`; valid_len (N,) counts the ids that are not '<pad>'."""
    checks.non_negative_int("build_array_nmt", "num_steps", num_steps)
    eos, pad = vocab["<eos>"], vocab["<pad>"]
    rows = [truncate_pad(ids + [eos], num_steps, pad) for ids in vocab[list(lines)]]
    ids = np.array(rows, dtype=np.int64).reshape(len(rows), num_steps)
    return ids, (ids != pad).sum(axis=1)


def load_data_nmt(d2l, batch_size, num_steps, num_examples=600):
    """(data_iter, src_vocab, tgt_vocab) for the backend module `d2l`: the first
    `num_examples` (+1) pairs, vocabularies with min_freq 2 and '<pad>', '<bos>', '<eos>',
    and shuffled batches (X, X_valid_len, Y, Y_valid_len) from `d2l.load_array`.
    Arguments are checked before anything is downloaded."""
    checks.positive_int("load_data_nmt", "batch_size", batch_size)
    checks.non_negative_int("load_data_nmt", "num_steps", num_steps)
    if num_examples is not None:
        checks.non_negative_int("load_data_nmt", "num_examples", num_examples)
    text = preprocess_nmt(d2l.read_data_nmt())
    source, target = tokenize_nmt(text, num_examples)
    src_vocab = Vocab(source, min_freq=2, reserved_tokens=RESERVED_TOKENS)
    tgt_vocab = Vocab(target, min_freq=2, reserved_tokens=RESERVED_TOKENS)
    src_array, src_valid_len = d2l.build_array_nmt(source, src_vocab, num_steps)
    tgt_array, tgt_valid_len = d2l.build_array_nmt(target, tgt_vocab, num_steps)
    data_iter = d2l.load_array((src_array, src_valid_len, tgt_array, tgt_valid_len),
                               batch_size)
    return data_iter, src_vocab, tgt_vocab


# ------------------------------------------------------------------------ 9.7 BLEU


def bleu(pred_seq, label_seq, k):
    """BLEU of one predicted sentence against one reference, n-grams up to k:
    exp(min(0, 1 - len_label / len_pred)) * Π_{n=1..k} p_n ** (1/2) ** n, where p_n is the
    share of the prediction's n-grams found in the label (each label n-gram matched at most
    as often as it occurs). Tokens come from `split(' ')`; n-grams are keyed by their
    tokens joined without a separator, as in the book.

    A prediction with fewer than k tokens scores 0.0 (the book divides by zero there).
    Raises ValueError unless k is a positive int and label_seq a non-empty string.
    """
    checks.positive_int("bleu", "k", k)
    if not isinstance(label_seq, str) or not label_seq:
        raise ValueError(f"bleu: label_seq must be a non-empty string, got {label_seq!r}")
    if not isinstance(pred_seq, str):
        raise ValueError(f"bleu: pred_seq must be a string, got {pred_seq!r}")
    pred_tokens, label_tokens = pred_seq.split(" "), label_seq.split(" ")
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    if len_pred < k:
        return 0.0
    score = math.exp(min(0, 1 - len_label / len_pred))
    pred_grams, label_grams = pred_tokens, label_tokens
    for n in range(1, k + 1):
        if n > 1:
            pred_grams = _longer_ngrams(pred_grams, pred_tokens, n)
            label_grams = _longer_ngrams(label_grams, label_tokens, n)
        matches = _clipped_matches(pred_grams, label_grams)
        if matches == 0:  # the product is 0 from here on
            return 0.0
        score *= math.pow(matches / (len_pred - n + 1), math.pow(0.5, n))
    return score


def _longer_ngrams(shorter, tokens, n):
    """The n-gram keys of `tokens` from its (n-1)-gram keys: each one (but the last) joined
    with the token that follows it, in one C-level pass."""
    return list(map(str.__add__, shorter[:-1], tokens[n - 1:]))


def _clipped_matches(pred_grams, label_grams):
    """Σ over distinct n-grams of min(count in pred, count in label): one pass per side.

    (Plain dict counting: for sentences of book length, a `Counter` per n-gram order costs
    more than it saves.)"""
    available = {}
    for gram in label_grams:
        available[gram] = available.get(gram, 0) + 1
    matches = 0
    for gram in pred_grams:
        if available.get(gram, 0) > 0:
            available[gram] -= 1
            matches += 1
    return matches
