"""Chapter 9, Modern Recurrent Neural Networks: machine-translation data (9.5), the
encoder-decoder interfaces (9.6) and sequence-to-sequence learning (9.7)."""

import collections
import contextlib
import dataclasses
import hashlib
import importlib
import io
import math
import os
import re
import time
import zipfile

import numpy as np
from hypothesis import strategies as st

from d2l.common import data_hub
from d2l.common.text import Vocab

from . import canonical, reference, support
from .entry import EXACT, REJECTED_TOKEN_IDS, Entry, Invalid, Reject, Tol, rejected_token_ids
from .recurrent_neural_networks import ReferenceVocab
from .strategies import arrays

# 9.5: Machine-translation data
# Independent references: plain Python loops written from behaviour.md, no d2l code.

FRA_ENG = ("fra-eng.zip", "94646ad1522d915e7b0f9296181140edcf86a4f5")
NMT_RESERVED = ["<pad>", "<bos>", "<eos>"]


def fra_text_reference():
    """fra-eng/fra.txt read straight from the shared archive."""
    with zipfile.ZipFile(support.SHARED_DATA / FRA_ENG[0]) as archive:
        return archive.read("fra-eng/fra.txt").decode("utf-8")


def preprocess_nmt_reference(text):
    """Character by character: NBSPs to spaces, lower-case, ' ' before unspaced , . ! ?"""
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    out = []
    for i, char in enumerate(text):
        if i > 0 and char in ",.!?" and text[i - 1] != " ":
            out.append(" ")
        out.append(char)
    return "".join(out)


def tokenize_nmt_reference(text, num_examples=None):
    """Lines 0..num_examples (inclusive, the book's off-by-one) that hold exactly one tab."""
    source, target = [], []
    for i, line in enumerate(text.split("\n")):
        if num_examples and i > num_examples:
            break
        if line.count("\t") == 1:
            english, french = line.split("\t")
            source.append(english.split(" "))
            target.append(french.split(" "))
    return source, target


def truncate_pad_reference(line, num_steps, padding_token):
    out = list(line[:num_steps])
    while len(out) < num_steps:
        out.append(padding_token)
    return out


def build_array_reference(lines, vocab, num_steps):
    """[ids (N, num_steps), valid_len (N,)] with '<eos>' appended before truncating."""
    rows = [truncate_pad_reference(vocab[line] + [vocab["<eos>"]], num_steps, vocab["<pad>"])
            for line in lines]
    ids = np.asarray(rows, np.float64).reshape(len(lines), num_steps)
    return [ids, np.asarray([sum(i != vocab["<pad>"] for i in row) for row in rows],
                            np.float64)]


def bleu_reference(pred_seq, label_seq, k):
    """BLEU from n-gram multisets: the clipped matches of order n are the size of the
    intersection of the prediction's and the label's n-gram Counters (n-grams keyed by their
    tokens joined without a separator, the book's quirk); 0 when the prediction has fewer
    than k tokens."""
    pred, label = pred_seq.split(" "), label_seq.split(" ")
    if len(pred) < k:
        return 0.0

    def grams(tokens, n):
        return collections.Counter("".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))

    precisions = [sum((grams(pred, n) & grams(label, n)).values()) / (len(pred) - n + 1)
                  for n in range(1, k + 1)]
    brevity = math.exp(min(0.0, 1.0 - len(label) / len(pred)))
    return brevity * math.prod(p ** (0.5 ** n) for n, p in enumerate(precisions, start=1))


def sorted_rows(*columns):
    """The columns side by side (2-D ones widened), rows sorted lexicographically: the
    examples of a shuffled loader in a canonical order, each kept whole."""
    table = np.concatenate([np.asarray(c, np.float64).reshape(len(c), -1) for c in columns],
                           axis=1)
    return table[np.lexsort(table.T[::-1])]


def nmt_arrays_reference(num_steps, num_examples):
    """(src_vocab, tgt_vocab, rows) of load_data_nmt from the shared archive: only the lines
    tokenize_nmt reads are preprocessed (each character depends on itself and the previous
    one only)."""
    lines = fra_text_reference().split("\n")[:num_examples + 1]
    source, target = tokenize_nmt_reference(preprocess_nmt_reference("\n".join(lines)),
                                            num_examples)
    src_vocab = ReferenceVocab(source, 2, NMT_RESERVED)
    tgt_vocab = ReferenceVocab(target, 2, NMT_RESERVED)
    return (src_vocab, tgt_vocab,
            sorted_rows(*build_array_reference(source, src_vocab, num_steps),
                        *build_array_reference(target, tgt_vocab, num_steps)))


_NMT_WORDS = ["go", "va", "!", "i", "je", "?", ".", "", "unseen"]


@st.composite
def nmt_text(draw):
    """Tab-separated lines (some with no or two tabs), and num_examples (None or 0-6)."""
    side = st.lists(st.sampled_from(_NMT_WORDS), min_size=1, max_size=4).map(" ".join)
    line = st.lists(side, min_size=1, max_size=3).map("\t".join)
    text = "\n".join(draw(st.lists(line, max_size=8)))
    return text, draw(st.none() | st.integers(0, 6))


@st.composite
def truncate_pad_inputs(draw):
    line = draw(st.lists(st.integers(0, 9), max_size=10))
    return line, draw(st.integers(0, 12)), draw(st.integers(-1, 3))


@st.composite
def build_array_inputs(draw):
    """(lines, vocab_corpus, min_freq, num_steps); the vocab is built by the spec."""
    word = st.sampled_from(["a", "b", "c", "d", "e"])
    lines = draw(st.lists(st.lists(word, max_size=7), min_size=1, max_size=6))
    corpus = draw(st.lists(st.lists(word, max_size=5), max_size=5))
    return lines, corpus, draw(st.integers(0, 2)), draw(st.integers(0, 9))


def _build_array_call(b, lines, corpus, min_freq, num_steps):
    vocab = ReferenceVocab(corpus, min_freq, NMT_RESERVED)
    ids, valid_len = b.d2l.build_array_nmt(lines, vocab, num_steps)
    return [b.numpy(ids), b.numpy(valid_len)]


def _build_array_expect(lines, corpus, min_freq, num_steps):
    return build_array_reference(lines, ReferenceVocab(corpus, min_freq, NMT_RESERVED),
                                 num_steps)


@st.composite
def bleu_inputs(draw):
    """Sentences over tokens that collide when joined ('a b' ~ 'ab'), with empty tokens
    (double spaces); k from 1 to 4; predictions may be shorter than k."""
    token = st.sampled_from(["a", "b", "ab", "c", ""])
    pred = " ".join(draw(st.lists(token, max_size=8)))
    label = " ".join(draw(st.lists(token, min_size=1, max_size=8)))
    return pred, label if label else "a", draw(st.integers(1, 4))


# Edge cases (`Entry.edges`): the references above, with the spec's decisions on bad input.
# One bad argument per case; the references check in the order the functions do.

_NOT_TEXT = [None, 5, b"go\tva", ["go\tva"]]


def _text_reference(reference):
    """`reference(text, ...)` where a text that is not a string is a TypeError."""
    def checked(text, *args):
        if not isinstance(text, str):
            raise Invalid("text", TypeError)
        return reference(text, *args)
    return checked


def _is_count(value, lowest):
    return isinstance(value, int) and not isinstance(value, bool) and value >= lowest


def _tokenize_nmt_edge_reference(text, num_examples):
    if not isinstance(text, str):
        raise Invalid("text", TypeError)
    if num_examples is not None and not _is_count(num_examples, 0):
        raise Invalid("num_examples")
    return list(tokenize_nmt_reference(text, num_examples))


@st.composite
def tokenize_nmt_edges(draw):
    text, num_examples = draw(nmt_text())
    case = draw(st.sampled_from(["text", "num_examples", "empty"]))
    if case == "text":
        return draw(st.sampled_from(_NOT_TEXT)), num_examples
    if case == "num_examples":
        return text, draw(st.sampled_from([-1, 1.5, True]))
    return draw(st.sampled_from(["", "\n", "\t", "go\t"])), num_examples


def _truncate_pad_edge_reference(line, num_steps, padding_token):
    if not isinstance(line, list):
        raise Invalid("line", TypeError)
    if not _is_count(num_steps, 0):
        raise Invalid("num_steps")
    return truncate_pad_reference(line, num_steps, padding_token)


@st.composite
def truncate_pad_edges(draw):
    """num_steps 0 (gives []), empty lines, lines that are not lists (a tuple, a string,
    None) and bad num_steps (negative, float, bool)."""
    line, num_steps, pad = draw(truncate_pad_inputs())
    case = draw(st.sampled_from(["zero", "empty", "line", "num_steps"]))
    if case == "zero":
        num_steps = 0
    elif case == "empty":
        line = []
    elif case == "line":
        line = draw(st.sampled_from([(1, 2), "ab", None]))
    else:
        num_steps = draw(st.sampled_from([-1, 1.5, True]))
    return line, num_steps, pad


def _build_array_edge_expect(lines, corpus, min_freq, num_steps):
    if not _is_count(num_steps, 0):
        raise Invalid("num_steps")
    return _build_array_expect(lines, corpus, min_freq, num_steps)


@st.composite
def build_array_edges(draw):
    """num_steps 0 ((N, 0) ids), empty lines, lines of unknown words, bad num_steps."""
    lines, corpus, min_freq, num_steps = draw(build_array_inputs())
    case = draw(st.sampled_from(["zero", "empty", "unknown", "num_steps"]))
    if case == "zero":
        num_steps = 0
    elif case == "empty":
        lines = [[] for _ in lines]
    elif case == "unknown":
        corpus = []
    else:
        num_steps = draw(st.sampled_from([-1, 2.5]))
    return lines, corpus, min_freq, num_steps


def _bleu_edge_reference(pred_seq, label_seq, k):
    """k a positive int, label_seq a non-empty string, pred_seq a string (ValueErrors, in
    that order); an empty prediction is one empty token."""
    if not _is_count(k, 1):
        raise Invalid("k")
    if not isinstance(label_seq, str) or not label_seq:
        raise Invalid("label_seq")
    if not isinstance(pred_seq, str):
        raise Invalid("pred_seq")
    return bleu_reference(pred_seq, label_seq, k)


@st.composite
def bleu_edges(draw):
    pred, label, k = draw(bleu_inputs())
    case = draw(st.sampled_from(["pred", "label", "k", "empty", "long k"]))
    not_text = st.sampled_from([None, ["a", "b"], 3])
    if case == "pred":
        pred = draw(not_text)
    elif case == "label":
        label = draw(not_text | st.just(""))
    elif case == "k":
        k = draw(st.sampled_from([0, -1, 1.5, True]))
    elif case == "empty":
        pred = ""
    else:
        k = 9
    return pred, label, k


def _fra_eng_hub_probe(b):
    with support.shared_data_served(FRA_ENG[0]) as (cache, _, _):
        folder = b.d2l.download_extract("fra-eng")
        return [list(b.d2l.DATA_HUB["fra-eng"]), os.path.relpath(folder, cache),
                sorted(os.listdir(folder)), support.sha1(cache / FRA_ENG[0])]


def _read_data_nmt_probe(b):
    with support.shared_data_served(FRA_ENG[0]):
        text = b.d2l.read_data_nmt()
    return [len(text), text[:120], hashlib.sha1(text.encode()).hexdigest()]


def _read_data_nmt_expect():
    text = fra_text_reference()
    return [len(text), text[:120], hashlib.sha1(text.encode()).hexdigest()]


def _load_data_nmt_probe(b, batch_size=64, num_steps=10, num_examples=600):
    with support.shared_data_served(FRA_ENG[0]):
        data_iter, src_vocab, tgt_vocab = b.d2l.load_data_nmt(batch_size, num_steps,
                                                              num_examples)
    batches = [[b.numpy(t) for t in batch] for batch in data_iter]
    return [len(src_vocab), len(tgt_vocab), src_vocab.idx_to_token, tgt_vocab.idx_to_token,
            [[list(t.shape) for t in batch] for batch in batches[:1]], len(batches),
            sorted_rows(*(np.concatenate([batch[i] for batch in batches]) for i in range(4)))]


def _load_data_nmt_expect(batch_size=64, num_steps=10, num_examples=600):
    src_vocab, tgt_vocab, rows = nmt_arrays_reference(num_steps, num_examples)
    first = min(batch_size, len(rows))
    return [len(src_vocab), len(tgt_vocab), src_vocab.idx_to_token, tgt_vocab.idx_to_token,
            [[[first, num_steps], [first], [first, num_steps], [first]]],
            -(-len(rows) // batch_size), rows]


DATA_ENTRIES = [
    Entry("DATA_HUB['fra-eng']", "9.5", "",
          "fra-eng.zip under DATA_URL, sha1 94646ad1...; download_extract gives the folder "
          "fra-eng holding fra.txt and _about.txt.",
          probe=_fra_eng_hub_probe,
          expect=lambda: [[data_hub.DATA_URL + FRA_ENG[0], FRA_ENG[1]], "fra-eng",
                          ["_about.txt", "fra.txt"], FRA_ENG[1]], tol=EXACT),
    Entry("read_data_nmt", "9.5", "read_data_nmt()",
          "The whole text of fra-eng/fra.txt (UTF-8), one 'English<TAB>French' pair a line.",
          probe=_read_data_nmt_probe, expect=_read_data_nmt_expect, tol=EXACT),
    Entry("preprocess_nmt", "9.5", "preprocess_nmt(text)",
          "U+202F and U+00A0 -> ' ', lower-case, and a space inserted before each , . ! ? "
          "that is not at position 0 and not already after a space. A text that is not a string "
          "is a TypeError naming text.",
          reference=_text_reference(preprocess_nmt_reference),
          inputs=lambda: st.tuples(st.text(st.sampled_from("Ab ,.!?\u202f\xa0\tÀ'\n"),
                                           max_size=30)),
          edges=lambda: st.tuples(st.sampled_from(_NOT_TEXT + ["", ",", "?!", " .", "\xa0!"])),
          call=lambda b, text: b.d2l.preprocess_nmt(text), tol=EXACT),
    Entry("tokenize_nmt", "9.5", "tokenize_nmt(text, num_examples=None)",
          "(source, target): ' '-split halves of the lines with exactly one tab; with a truthy "
          "num_examples only lines 0..num_examples are read (num_examples + 1 lines, kept "
          "from the book; 0 and None read all). A negative (or non-int) num_examples is a "
          "ValueError, a text that is not a string a TypeError, each naming its argument.",
          reference=_tokenize_nmt_edge_reference, inputs=nmt_text, edges=tokenize_nmt_edges,
          call=lambda b, text, n: list(b.d2l.tokenize_nmt(text, n)), tol=EXACT,
          rejects=(Reject("num_examples -1", lambda b: ("go\tva", -1),
                          match="num_examples"),)),
    Entry("truncate_pad", "9.5", "truncate_pad(line, num_steps, padding_token)",
          "A new list: line[:num_steps], right-padded with padding_token to num_steps. "
          "num_steps 0 gives []; num_steps < 0 (or not an int) is a ValueError naming "
          "num_steps, a line that is not a list a TypeError naming line.",
          reference=_truncate_pad_edge_reference, inputs=truncate_pad_inputs,
          edges=truncate_pad_edges,
          call=lambda b, line, n, pad: b.d2l.truncate_pad(line, n, pad), tol=EXACT,
          rejects=(Reject("num_steps -1", lambda b: ([1, 2], -1, 0), match="num_steps"),)),
    Entry("build_array_nmt", "9.5", "build_array_nmt(lines, vocab, num_steps)",
          "(array, valid_len): ids of each line + vocab['<eos>'], truncated (losing '<eos>') "
          "or padded with vocab['<pad>'] to num_steps, array (N, num_steps) M float32, "
          "P int64, T int32; valid_len (N,) = non-'<pad>' ids per row, M int32, P int64, "
          "T int32. num_steps 0 gives (N, 0) ids and zero lengths; num_steps < 0 (or not an "
          "int) is a ValueError naming num_steps.",
          reference=_build_array_edge_expect, inputs=build_array_inputs,
          edges=build_array_edges, call=_build_array_call,
          tol=EXACT,
          rejects=(Reject("num_steps -1", lambda b: ([["a"]], ReferenceVocab(
              [["a"]], 0, NMT_RESERVED), -1), match="num_steps"),)),
    Entry("load_data_nmt", "9.5", "load_data_nmt(batch_size, num_steps, num_examples=600)",
          "preprocess -> tokenize (num_examples) -> Vocab(min_freq=2, '<pad>', '<bos>', "
          "'<eos>') per side -> build_array_nmt -> load_array (shuffled) of (X, X_valid_len, "
          "Y, Y_valid_len); returns (data_iter, src_vocab, tgt_vocab). Checked on the real "
          "fra-eng.zip: vocabularies and the set of examples.",
          probe=_load_data_nmt_probe, expect=_load_data_nmt_expect, tol=EXACT,
          rejects=(Reject("batch_size 0", lambda b: (0, 8), match="batch_size"),)),
    Entry("bleu", "9.7", "bleu(pred_seq, label_seq, k)",
          "exp(min(0, 1 - len_label/len_pred)) * Π_{n<=k} p_n^(1/2)^n over ' '-split tokens, "
          "p_n = clipped n-gram matches / (len_pred - n + 1), n-grams keyed by ''.join. "
          "len_pred < k gives 0.0 (the book divides by zero: the guard behaviour.md "
          "recommends). k < 1 (or not an int) and an empty label_seq are ValueErrors naming "
          "the argument, so is a pred_seq or label_seq that is not a string; an empty "
          "pred_seq is one empty token.",
          reference=_bleu_edge_reference, inputs=bleu_inputs, edges=bleu_edges,
          call=lambda b, pred, label, k: b.d2l.bleu(pred, label, k), tol=Tol(1e-12, 1e-15),
          rejects=(Reject("k 0", lambda b: ("a b", "a b", 0), match="k"),
                   Reject("empty label", lambda b: ("a b", "", 2), match="label_seq"))),
]


# 9.6-9.7: Encoder-decoder and seq2seq


def sequence_mask_reference(X, valid_len, value=0):
    """Entries at step j >= valid_len[b] (axis 1) of row b replaced by `value`."""
    keep = np.arange(X.shape[1])[None, :] < np.asarray(valid_len)[:, None]
    return np.where(keep.reshape(keep.shape + (1,) * (X.ndim - 2)), X, np.float32(value))


def masked_softmax_ce_reference(pred, label, valid_len):
    """Per-sequence loss: Σ_{t < valid_len} CE(pred[b, t], label[b, t]) / num_steps."""
    z = np.asarray(pred, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    ce = -np.take_along_axis(log_p, np.asarray(label, np.int64)[..., None], -1)[..., 0]
    return sequence_mask_reference(ce, valid_len).mean(axis=1)


_LEN_DTYPES = ("int32", "int64", "float32")


@st.composite
def _sequence_mask_inputs(draw):
    batch, steps = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    shape = (batch, steps) + draw(st.sampled_from([(), (1,), (3,)]))
    valid_len = np.array(draw(st.lists(st.integers(0, steps + 1), min_size=batch,
                                       max_size=batch)), draw(st.sampled_from(_LEN_DTYPES)))
    return draw(arrays(shape)), valid_len, draw(st.sampled_from([0, -1e6, 2.5]))


@st.composite
def _masked_ce_inputs(draw):
    batch, steps, vocab = draw(st.integers(1, 4)), draw(st.integers(1, 5)), draw(
        st.integers(1, 6))
    label = np.array(draw(st.lists(st.integers(0, vocab - 1), min_size=batch * steps,
                                   max_size=batch * steps))).reshape(batch, steps)
    valid_len = np.array(draw(st.lists(st.integers(0, steps + 1), min_size=batch,
                                       max_size=batch)))
    return (draw(arrays((batch, steps, vocab))), label, valid_len,
            draw(st.sampled_from(["int", "float"])))


# Edge lengths: fractional (step j is kept iff j < valid_len, so 2.5 keeps 3 steps), negative,
# infinite and NaN (keeps nothing).
EDGE_LENGTHS = [-2.0, -0.5, 0.0, 0.5, 1.5, 2.5, np.inf, -np.inf, np.nan]
# The ones npx.sequence_mask survives (the book's MXNet code calls it directly).
NATIVE_SAFE_LENGTHS = [0.0, 0.5, 1.5, 2.5]


@st.composite
def _sequence_mask_edges(draw, native_safe=False):
    """Length-1 axes, edge lengths (float32; `native_safe`: only NATIVE_SAFE_LENGTHS) and
    non-finite entries of X."""
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    shape = (batch, steps) + draw(st.sampled_from([(), (1,), (2,)]))
    X = draw(arrays(shape))
    X.reshape(-1)[draw(st.integers(0, X.size - 1))] = draw(
        st.sampled_from([np.nan, np.inf, -np.inf]))
    lengths = NATIVE_SAFE_LENGTHS if native_safe else EDGE_LENGTHS
    valid_len = np.array(draw(st.lists(st.sampled_from(lengths), min_size=batch,
                                       max_size=batch)), np.float32)
    return X, valid_len, draw(st.sampled_from([0, -1e6, -np.inf]))


def _masked_ce_edge_reference(pred, label, valid_len, kind):
    """Label ids outside [0, vocab) are a ValueError naming label; masked steps count 0
    whatever their logits."""
    if not np.all((label >= 0) & (label < pred.shape[-1])):
        raise Invalid("label")
    with np.errstate(invalid="ignore"):
        return masked_softmax_ce_reference(pred, label, valid_len)


@st.composite
def _masked_ce_edges(draw, native_safe=False):
    """Labels out of range, edge valid lengths (`native_safe`: only NATIVE_SAFE_LENGTHS), and
    NaN / infinite logits at masked steps."""
    pred, label, valid_len, kind = draw(_masked_ce_inputs())
    batch, steps, vocab = pred.shape
    if draw(st.booleans()):
        label = label.copy()
        label.reshape(-1)[draw(st.integers(0, label.size - 1))] = draw(
            st.sampled_from([-1, vocab, vocab + 5]))
        return pred, label, valid_len, kind
    lengths = NATIVE_SAFE_LENGTHS if native_safe else EDGE_LENGTHS[:6] + [np.inf]
    valid_len = np.array(draw(st.lists(st.sampled_from(lengths), min_size=batch,
                                       max_size=batch)), np.float32)
    pred = pred.copy()
    masked = np.arange(steps)[None, :] >= valid_len[:, None]
    pred[masked] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return pred, label, valid_len, kind


def masked_softmax_ce(b, pred, label, valid_len):
    """The book's call of MaskedSoftmaxCELoss on backend tensors: M/P
    `MaskedSoftmaxCELoss()(pred, label, valid_len)`, T `MaskedSoftmaxCELoss(valid_len)(label,
    pred)`."""
    if b.name == "tensorflow":
        return b.d2l.MaskedSoftmaxCELoss(valid_len)(label, pred)
    return b.d2l.MaskedSoftmaxCELoss()(pred, label, valid_len)


def _masked_ce_call(b, pred, label, valid_len, label_kind):
    labels = b.labels(label) if label_kind == "int" else b.tensor(label, "float32")
    return b.numpy(masked_softmax_ce(b, b.tensor(pred), labels, b.tensor(valid_len)))


def _masked_ce_rejects(b):
    """The error type and whether its message names the argument, for bad pred, label and
    valid_len shapes."""
    pred, label = np.zeros((2, 3, 4), np.float32), np.zeros((2, 3), np.int64)
    cases = {"pred": (pred[0], label, [3, 3]), "label": (pred, label[:, :2], [3, 3]),
             "valid_len": (pred, label, [3, 3, 3])}
    seen = []
    for name, (p, l, v) in cases.items():
        try:
            masked_softmax_ce(b, b.tensor(p), b.labels(l), b.tensor(v))
            seen.append(["no error", False])
        except Exception as e:  # noqa: BLE001  (the type is what is observed)
            seen.append([type(e).__name__, name in str(e)])
    return seen


def _sequence_mask_grad(b):
    """d/dX Σ sequence_mask(X, valid_len) * W: W where kept, 0 where masked."""
    X, W = _grad_case()
    P = b.param(X)
    b.sgd_step(lambda: b.d2l.reduce_sum(b.d2l.sequence_mask(P, b.tensor([2, 0, 3])) *
                                        b.tensor(W)), [P], 1.0)
    return X - b.numpy(P)


def _grad_case():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(3, 3, 2)).astype(np.float32),
            rng.normal(size=(3, 3, 2)).astype(np.float32))


def _method(b):
    """The name of the method a layer runs: `call` in Keras, `forward` elsewhere."""
    return "call" if b.name == "tensorflow" else "forward"


def _abstract_probe(b):
    """Which of the base classes' methods raise NotImplementedError."""
    d2l = b.d2l
    X = b.tensor(np.ones((2, 3), np.float32))
    calls = {"Encoder": lambda: d2l.Encoder()(X),
             "Decoder.init_state": lambda: d2l.Decoder().init_state(X),
             "Decoder": lambda: d2l.Decoder()(X, X)}
    seen = {}
    for name, call in calls.items():
        try:
            call()
            seen[name] = "returned"
        except NotImplementedError:
            seen[name] = "NotImplementedError"
    return seen


def _toy_encoder_decoder(b):
    """An EncoderDecoder of a toy encoder (2 X + valid_len) and decoder (state = encoder
    output + 10 valid_len; output = dec_X + state)."""
    d2l = b.d2l

    def encode(self, X, valid_len, **kwargs):
        return X * 2 + valid_len[:, None]

    def init_state(self, enc_outputs, valid_len):
        return enc_outputs + 10 * valid_len[:, None]

    def decode(self, X, state, **kwargs):
        return X + state, state

    encoder = type("ToyEncoder", (d2l.Encoder,), {_method(b): encode})()
    decoder = type("ToyDecoder", (d2l.Decoder,), {_method(b): decode,
                                                  "init_state": init_state})()
    return d2l.EncoderDecoder(encoder, decoder), encoder, decoder


def _encoder_decoder_probe(b):
    net, encoder, decoder = _toy_encoder_decoder(b)
    enc_X, dec_X, valid_len = _toy_inputs()
    out, state = net(b.tensor(enc_X), b.tensor(dec_X), b.tensor(valid_len))
    return [b.numpy(out), b.numpy(state), net.encoder is encoder, net.decoder is decoder]


def _toy_inputs():
    return (np.arange(6, dtype=np.float32).reshape(2, 3), np.ones((2, 3), np.float32),
            np.array([1.0, 2.0], np.float32))


def _encoder_decoder_expect():
    enc_X, dec_X, valid_len = _toy_inputs()
    state = 2 * enc_X + 11 * valid_len[:, None]
    return [dec_X + state, state, True, True]


def _mask_args(X_shape, len_shape):
    return lambda b: (b.tensor(np.ones(X_shape, np.float32)), b.tensor(np.ones(len_shape)))


MODEL_ENTRIES = [
    Entry("Encoder", "9.6", "Encoder(**kwargs)",
          "Base encoder (Gluon Block, nn.Module, Keras Layer): forward/call(X, *args) raises "
          "NotImplementedError.",
          probe=_abstract_probe, expect=lambda: {
              "Encoder": "NotImplementedError", "Decoder.init_state": "NotImplementedError",
              "Decoder": "NotImplementedError"}),
    Entry("Decoder", "9.6", "Decoder(**kwargs)",
          "Base decoder: init_state(enc_outputs, *args) and forward/call(X, state) raise "
          "NotImplementedError.",
          probe=_abstract_probe, expect=lambda: {
              "Encoder": "NotImplementedError", "Decoder.init_state": "NotImplementedError",
              "Decoder": "NotImplementedError"}),
    Entry("EncoderDecoder", "9.6", "EncoderDecoder(encoder, decoder, **kwargs)",
          "forward/call(enc_X, dec_X, *args): enc_outputs = encoder(enc_X, *args); state = "
          "decoder.init_state(enc_outputs, *args); returns decoder(dec_X, state). Attributes "
          "encoder and decoder (T: a Keras Model; keyword arguments reach encoder and "
          "decoder calls).",
          probe=_encoder_decoder_probe, expect=_encoder_decoder_expect, tol=EXACT),
    Entry("sequence_mask", "9.7", "sequence_mask(X, valid_len, value=0)",
          "X (batch, steps, ...) with entries at step j >= valid_len[b] of row b set to "
          "value (whole trailing vectors for 3-D X); valid_len integer or float, one per "
          "row: step j is kept iff j < valid_len[b] (2.5 keeps 3 steps, a negative or NaN "
          "length none, inf all). Returns a new tensor (in all three; upstream P wrote in "
          "place). Provided in MXNet too (wrapping npx.sequence_mask, which truncates "
          "fractional lengths and crashes on NaN: it gets the count of kept steps), so it "
          "means the same everywhere.",
          reference=sequence_mask_reference, inputs=_sequence_mask_inputs,
          edges=_sequence_mask_edges,
          safe_edges=lambda: _sequence_mask_edges(native_safe=True),
          call=lambda b, X, valid_len, value: b.numpy(b.d2l.sequence_mask(
              b.tensor(X), b.tensor(valid_len), value)),
          tol=EXACT,
          rejects=(Reject("1-D X", _mask_args((3,), (3,)), match="X"),
                   Reject("valid_len of the wrong length", _mask_args((2, 3), (3,)),
                          match="valid_len"),
                   Reject("2-D valid_len", _mask_args((2, 3), (2, 1)), match="valid_len"))),
    Entry("sequence_mask (autograd)", "9.7", "sequence_mask(X, valid_len) inside autograd",
          "Gradients flow through the kept entries only: d/dX Σ sequence_mask(X, l) * W = "
          "W * mask.",
          probe=_sequence_mask_grad,
          expect=lambda: sequence_mask_reference(_grad_case()[1], [2, 0, 3]),
          tol=Tol(1e-6, 1e-6)),
    Entry("MaskedSoftmaxCELoss", "9.7",
          "M: inherits gluon.loss.SoftmaxCELoss | P: inherits nn.CrossEntropyLoss | "
          "T: MaskedSoftmaxCELoss(valid_len)",
          "Per-sequence softmax cross-entropy of pred (batch, num_steps, vocab) logits and "
          "label (batch, num_steps) ids, steps t >= valid_len[b] zeroed, averaged over all "
          "num_steps positions (Keep): shape (batch,). M/P forward(pred, label, valid_len); "
          "T constructor (valid_len), call(label, pred). Integer or float labels. Masked "
          "steps count 0 whatever their logits (NaN, infinities); valid lengths as in "
          "sequence_mask; a label id outside [0, vocab) is a ValueError naming label (T: "
          "when run eagerly; traced, TensorFlow's own check fires).",
          reference=_masked_ce_edge_reference, inputs=_masked_ce_inputs,
          edges=_masked_ce_edges, safe_edges=lambda: _masked_ce_edges(native_safe=True),
          call=_masked_ce_call, tol=Tol(1e-5, 1e-5)),
    Entry("MaskedSoftmaxCELoss (bad input)", "9.7", "MaskedSoftmaxCELoss called on bad shapes",
          "pred not 3-D, label not (batch, num_steps), valid_len not (batch,): ValueError "
          "naming the argument, in all three.",
          probe=_masked_ce_rejects,
          expect=lambda: [["ValueError", True], ["ValueError", True], ["ValueError", True]]),
]


# ------------------------------------------------ 9.7 seq2seq models from canonical weights
#
# An EncoderDecoder of Seq2SeqEncoder and the book's (unsaved) Seq2SeqDecoder has the
# canonical layers 0 encoder embedding, 1 encoder GRU, 2 decoder embedding, 3 decoder GRU
# (input: embedding and context), 4 decoder dense. Sequences are time-major in the spec.


@dataclasses.dataclass(frozen=True)
class Seq2SeqSizes:
    src_vocab: int
    tgt_vocab: int
    embed_size: int
    num_hiddens: int
    num_layers: int


def seq2seq_params(sizes, seed=0, scale=0.3):
    """Random canonical parameters of the encoder-decoder (the encoder alone: keys 0 and 1)."""
    rng = np.random.default_rng(seed)
    e, h = sizes.embed_size, sizes.num_hiddens
    params = {"0.weight": rng.normal(0, 1, (sizes.src_vocab, e)).astype(np.float32),
              "2.weight": rng.normal(0, 1, (sizes.tgt_vocab, e)).astype(np.float32),
              "4.weight": rng.normal(0, scale, (h, sizes.tgt_vocab)).astype(np.float32),
              "4.bias": rng.normal(0, scale, sizes.tgt_vocab).astype(np.float32)}
    params.update(canonical.init_recurrent("gru", e, h, sizes.num_layers, seed=seed + 1, k=1,
                                           scale=scale))
    params.update(canonical.init_recurrent("gru", e + h, h, sizes.num_layers, seed=seed + 2,
                                           k=3, scale=scale))
    return params


def encoder_only(params):
    return {k: v for k, v in params.items() if k.split(".")[0] in ("0", "1")}


def encoder_reference(params, X):
    """Seq2SeqEncoder on ids X (batch, num_steps): (outputs (num_steps, batch, H), state
    (num_layers, batch, H))."""
    embedded = reference.embedding(params["0.weight"], X).transpose(1, 0, 2)
    return reference.recurrent("gru", reference.layer_params(params, 1), embedded)


def decoder_reference(params, X, state):
    """The book's Seq2SeqDecoder on ids X (batch, num_steps) from state (num_layers, batch,
    H): the GRU reads [embedding; state[-1]] at every step. Returns (logits (batch,
    num_steps, tgt_vocab), state)."""
    embedded = reference.embedding(params["2.weight"], X).transpose(1, 0, 2)
    context = np.broadcast_to(state[-1], (len(embedded),) + state[-1].shape)
    out, state = reference.recurrent("gru", reference.layer_params(params, 3),
                                     np.concatenate([embedded, context], axis=-1), state)
    logits = out @ np.asarray(params["4.weight"], np.float64) + params["4.bias"]
    return logits.transpose(1, 0, 2), state


_DECODER_CLASSES = {}


def book_decoder(b, sizes, dropout=0):
    """The book's Seq2SeqDecoder (9.7, not saved) in backend b, written from its description:
    embedding, a num_layers GRU over [embedding; last layer's state] and a dense layer to the
    vocabulary; init_state returns the encoder's state; forward/call returns (logits (batch,
    num_steps, vocab), state)."""
    return book_decoder_class(b)(sizes.tgt_vocab, sizes.embed_size, sizes.num_hiddens,
                                 sizes.num_layers, dropout)


def book_decoder_class(b):
    """The class of `book_decoder` in backend b: Seq2SeqDecoder(vocab_size, embed_size,
    num_hiddens, num_layers, dropout=0)."""
    if b.name not in _DECODER_CLASSES:
        make = {"mxnet": _gluon_decoder, "torch": _torch_decoder,
                "tensorflow": _keras_decoder}[b.name]
        _DECODER_CLASSES[b.name] = make(b.d2l)
    return _DECODER_CLASSES[b.name]


def _torch_decoder(d2l):
    import torch
    from torch import nn

    class Seq2SeqDecoder(d2l.Decoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers,
                              dropout=dropout)
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def init_state(self, enc_outputs, *args):
            return enc_outputs[1]

        def forward(self, X, state):
            X = self.embedding(X).permute(1, 0, 2)
            context = state[-1].repeat(X.shape[0], 1, 1)
            output, state = self.rnn(torch.cat((X, context), 2), state)
            return self.dense(output).permute(1, 0, 2), state

    return Seq2SeqDecoder


def _gluon_decoder(d2l):
    from mxnet import np
    from mxnet.gluon import nn, rnn

    class Seq2SeqDecoder(d2l.Decoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = rnn.GRU(num_hiddens, num_layers, dropout=dropout)
            self.dense = nn.Dense(vocab_size, flatten=False)

        def init_state(self, enc_outputs, *args):
            return enc_outputs[1]

        def forward(self, X, state):
            X = self.embedding(X).swapaxes(0, 1)
            context = np.broadcast_to(state[0][-1], (X.shape[0],) + state[0][-1].shape)
            output, state = self.rnn(np.concatenate((X, context), 2), state)
            return self.dense(output).swapaxes(0, 1), state

    return Seq2SeqDecoder


def _keras_decoder(d2l):
    import tensorflow as tf
    from tensorflow import keras

    class Seq2SeqDecoder(d2l.Decoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.embedding = keras.layers.Embedding(vocab_size, embed_size)
            self.rnn = keras.layers.RNN(keras.layers.StackedRNNCells(
                [keras.layers.GRUCell(num_hiddens, dropout=dropout)
                 for _ in range(num_layers)]), return_sequences=True, return_state=True)
            self.dense = keras.layers.Dense(vocab_size)

        def init_state(self, enc_outputs, *args):
            return enc_outputs[1]

        def call(self, X, state, **kwargs):
            X = self.embedding(X)
            context = tf.repeat(tf.expand_dims(state[-1], 1), repeats=X.shape[1], axis=1)
            output, *state = self.rnn(tf.concat((X, context), 2), initial_state=state,
                                      **kwargs)
            return self.dense(output), tf.nest.flatten(state)

    return Seq2SeqDecoder


def load_canonical(b, net, params, *example):
    """Run `net` once on `example` (creating deferred/unbuilt weights) and import `params`."""
    if b.name == "mxnet":
        net.initialize(ctx=b.device)
    elif b.name == "torch":
        net.to(b.device)
    if b.name == "tensorflow":
        import tensorflow as tf

        with tf.device(b.device):
            net(*example)
    elif b.name == "mxnet":
        net(*example)
    b.d2l.import_params(net, params)
    return net


def ids(b, a):
    """Token ids as `d2l.tensor` makes them from Python ints (M float32, P int64, T int32),
    the dtypes `load_data_nmt` batches have."""
    return b.d2l.tensor(np.asarray(a).tolist(), ctx=b.device) if b.name == "mxnet" else \
        b.tensor(np.asarray(a), "int64" if b.name == "torch" else "int32")


def seq2seq_encoder(b, params, sizes):
    """Seq2SeqEncoder of backend b loaded with the encoder part of `params`."""
    net = b.d2l.Seq2SeqEncoder(sizes.src_vocab, sizes.embed_size, sizes.num_hiddens,
                               sizes.num_layers)
    return load_canonical(b, net, encoder_only(params), ids(b, np.zeros((1, 1))))


def seq2seq_net(b, params, sizes):
    """EncoderDecoder(Seq2SeqEncoder, the book's decoder) of backend b loaded with `params`."""
    net = b.d2l.EncoderDecoder(
        b.d2l.Seq2SeqEncoder(sizes.src_vocab, sizes.embed_size, sizes.num_hiddens,
                             sizes.num_layers), book_decoder(b, sizes))
    one = ids(b, np.zeros((1, 1)))
    return load_canonical(b, net, params, one, one, ids(b, [1]))


def time_major(b, outputs):
    """Encoder outputs as (num_steps, batch, H) NumPy (Keras' are batch-major)."""
    out = b.numpy(outputs)
    return out.transpose(1, 0, 2) if b.name == "tensorflow" else out


def stacked_state(b, state):
    """A GRU state as (num_layers, batch, H) NumPy: P a tensor, M a one-array list, T a list
    of num_layers (batch, H) tensors."""
    if b.name == "tensorflow":
        return np.stack([b.numpy(s) for s in state])
    return b.numpy(state[0] if b.name == "mxnet" else state)


ENCODER_SIZES = Seq2SeqSizes(11, 9, 4, 6, 2)


def _encoder_case():
    rng = np.random.default_rng(7)
    return seq2seq_params(ENCODER_SIZES, seed=3), rng.integers(0, 11, (3, 5))


def _encoder_probe(b):
    params, X = _encoder_case()
    encoder = seq2seq_encoder(b, params, ENCODER_SIZES)
    outputs, state = encoder(ids(b, X))
    exported = b.d2l.export_params(encoder)
    return [time_major(b, outputs), stacked_state(b, state),
            sorted(exported) == sorted(encoder_only(params))]


def _encoder_expect():
    params, X = _encoder_case()
    outputs, state = encoder_reference(params, X)
    return [outputs, state, True]


# Training and prediction on a toy batch: target vocabulary <unk> <pad> <bos> <eos> and five
# words; each target ends in <eos> and is padded after it.
TOY_SIZES = Seq2SeqSizes(8, 8, 5, 7, 2)
TOY_TOKENS = ["<unk>", "<pad>", "<bos>", "<eos>", "a", "b", "c", "d"]


def toy_vocab():
    """A Vocab whose ids are the positions in TOY_TOKENS."""
    return Vocab([TOY_TOKENS[4:]], reserved_tokens=TOY_TOKENS[1:4])


def toy_batch(seed, batch_size=4, num_steps=5, valid_lens=None):
    """(X, X_valid_len, Y, Y_valid_len) as NumPy ints: X ids of words, Y words then <eos>
    then <pad>, with the given (or drawn) target valid lengths."""
    rng = np.random.default_rng(seed)
    X = rng.integers(4, 8, (batch_size, num_steps))
    X_valid_len = rng.integers(1, num_steps + 1, batch_size)
    Y_valid_len = (rng.integers(1, num_steps + 1, batch_size) if valid_lens is None
                   else np.asarray(valid_lens))
    Y = rng.integers(4, 8, (batch_size, num_steps))
    steps = np.arange(num_steps)[None, :]
    Y = np.where(steps == Y_valid_len[:, None] - 1, 3, np.where(
        steps >= Y_valid_len[:, None], 1, Y))
    return X, X_valid_len, Y, Y_valid_len


def backend_batch(b, batch):
    """A NumPy batch as load_data_nmt would give it in backend b (d2l.tensor dtypes)."""
    return tuple(ids(b, a) for a in batch)


def teacher_forcing_loss(params, batch, bos=2):
    """Σ per-sequence masked loss / Σ target tokens of one batch (what train_seq2seq
    records), with decoder input <bos> + Y[:, :-1]."""
    X, _, Y, Y_valid_len = batch
    _, state = encoder_reference(params, X)
    dec_X = np.concatenate([np.full((len(Y), 1), bos), Y[:, :-1]], axis=1)
    logits, _ = decoder_reference(params, dec_X, state)
    losses = masked_softmax_ce_reference(logits, Y, Y_valid_len)
    return losses.sum() / Y_valid_len.sum()


@contextlib.contextmanager
def canonical_init(b, params):
    """Make train_seq2seq start from `params` instead of its Xavier draw: M/P re-initialise
    in the backend's `_initialize(net, device)`, the hook replaced here (T does not
    re-initialise, so there is nothing to replace)."""
    if b.name == "tensorflow":
        yield
        return
    module = importlib.import_module(f"d2l.{b.name}.modern_rnns")
    original = module._initialize

    def initialize(net, device):
        original(net, device)
        b.d2l.import_params(net, params)

    module._initialize = initialize
    try:
        yield
    finally:
        module._initialize = original


@contextlib.contextmanager
def recorded_histories():
    """Record the per-epoch loss per token that train_seq2seq's shared loop computes (it
    plots only every 10th); yields the list of histories, one per train_seq2seq call."""
    from d2l.common import seq2seq

    original, histories = seq2seq.train_seq2seq, []

    def loop(*args, **kwargs):
        histories.append(original(*args, **kwargs))
        return histories[-1]

    seq2seq.train_seq2seq = loop
    try:
        yield histories
    finally:
        seq2seq.train_seq2seq = original


def run_train_seq2seq(b, params, sizes, batches, lr, num_epochs):
    """train_seq2seq from canonical weights on fixed NumPy batches: (per-epoch loss per
    token, the (epoch, loss) points plotted, what it printed, the trained net)."""
    import matplotlib.pyplot as plt

    net = seq2seq_net(b, params, sizes)
    data_iter = [backend_batch(b, batch) for batch in batches]
    before, printed = set(plt.get_fignums()), io.StringIO()
    with canonical_init(b, params), recorded_histories() as histories, \
            contextlib.redirect_stdout(printed):
        b.d2l.train_seq2seq(net, data_iter, lr, num_epochs, toy_vocab(), b.d2l.try_gpu())
    (fig_num,) = set(plt.get_fignums()) - before
    (line,) = plt.figure(fig_num).axes[0].get_lines()
    points = list(zip(line.get_xdata(), line.get_ydata()))
    plt.close(fig_num)
    return histories[0], points, printed.getvalue(), net


BOOK_EXAMPLES = (("go .", "va !"), ("i lost .", "j'ai perdu ."),
                 ("he's calm .", "il est calme ."), ("i'm home .", "je suis chez moi ."))


def book_translation(b, num_epochs=300, seed=0):
    """Section 9.7 as the book runs it, on the real fra-eng.zip served over loopback:
    load_data_nmt(64, 10), Seq2SeqEncoder and the book's decoder (embed 32, hidden 32, 2
    layers, dropout 0.1), train_seq2seq(lr 0.005, Xavier initialisation, framework RNGs
    seeded with `seed`), then greedy translations of the book's four sentences.

    Returns (per-epoch loss per token, [(English, translation, BLEU k=2)], printed line,
    seconds spent in train_seq2seq)."""
    _seed(b, seed)
    with support.shared_data_served(FRA_ENG[0]):
        train_iter, src_vocab, tgt_vocab = b.d2l.load_data_nmt(64, 10)
    sizes = Seq2SeqSizes(len(src_vocab), len(tgt_vocab), 32, 32, 2)
    net = b.d2l.EncoderDecoder(b.d2l.Seq2SeqEncoder(len(src_vocab), 32, 32, 2, 0.1),
                               book_decoder(b, sizes, 0.1))
    printed = io.StringIO()
    start = time.perf_counter()
    with recorded_histories() as histories, contextlib.redirect_stdout(printed):
        b.d2l.train_seq2seq(net, train_iter, 0.005, num_epochs, tgt_vocab, b.d2l.try_gpu())
    seconds = time.perf_counter() - start
    results = []
    for eng, fra in BOOK_EXAMPLES:
        translation, _ = predict(b, net, eng, src_vocab, tgt_vocab, 10)
        results.append((eng, translation, b.d2l.bleu(translation, fra, k=2)))
    return histories[0], results, printed.getvalue(), seconds


def _seed(b, seed):
    """Seed the framework's RNG (initialisation, dropout, shuffling)."""
    if b.name == "mxnet":
        b.fw.random.seed(seed)
        np.random.seed(seed)  # Gluon's RandomSampler shuffles with NumPy
    elif b.name == "torch":
        b.fw.manual_seed(seed)
    else:
        from tensorflow import keras

        keras.utils.set_random_seed(seed)


SEQ2SEQ_PRINTED = re.compile(r"loss (\d+\.\d{3}), \d+\.\d tokens/sec on (\S+)\n$")


def _train_probe(b, num_epochs=20):
    """One toy batch per epoch, so the first epoch's loss is that of the canonical weights."""
    params = seq2seq_params(TOY_SIZES, seed=11)
    history, points, printed, _ = run_train_seq2seq(b, params, TOY_SIZES, [toy_batch(0)],
                                                    0.05, num_epochs)
    match = SEQ2SEQ_PRINTED.match(printed)
    device = b.d2l.try_gpu()
    return [history[0], len(history), history[-1] < 0.5 * history[0],
            [[float(x), float(y)] for x, y in points] == [[10.0, history[9]],
                                                          [20.0, history[19]]],
            bool(match) and match.group(1) == f"{history[-1]:.3f}"
            and match.group(2) == str(getattr(device, "_device_name", device))]


def _train_expect(num_epochs=20):
    params = seq2seq_params(TOY_SIZES, seed=11)
    return [teacher_forcing_loss(params, toy_batch(0)), num_epochs, True, True, True]


def greedy_reference(params, src_ids, valid_len, num_steps, bos=2, eos=3):
    """Greedy decoding with NumPy: the predicted ids (stopping before <eos>)."""
    _, state = encoder_reference(params, np.asarray([src_ids]))
    token, out = bos, []
    for _ in range(num_steps):
        logits, state = decoder_reference(params, np.array([[token]]), state)
        token = int(logits[0, 0].argmax())
        if token == eos:
            break
        out.append(token)
    return out


def _predict_case():
    return seq2seq_params(TOY_SIZES, seed=5), "A b  c", 6


def predict(b, net, sentence, src_vocab, tgt_vocab, num_steps, save_attention_weights=False):
    """predict_seq2seq with the backend's signature (T has no device argument)."""
    if b.name == "tensorflow":
        return b.d2l.predict_seq2seq(net, sentence, src_vocab, tgt_vocab, num_steps,
                                     save_attention_weights)
    return b.d2l.predict_seq2seq(net, sentence, src_vocab, tgt_vocab, num_steps,
                                 b.d2l.try_gpu(), save_attention_weights)


def _predict_probe(b):
    params, sentence, num_steps = _predict_case()
    net = seq2seq_net(b, params, TOY_SIZES)
    return list(predict(b, net, sentence, toy_vocab(), toy_vocab(), num_steps))


def _predict_expect():
    params, sentence, num_steps = _predict_case()
    ids = {token: i for i, token in enumerate(TOY_TOKENS)}  # toy_vocab's ids, by design
    src = [ids.get(t, 0) for t in sentence.lower().split(" ")] + [ids["<eos>"]]
    src = (src + [ids["<pad>"]] * num_steps)[:num_steps]
    out = greedy_reference(params, src, len(src), num_steps)
    return [" ".join(TOY_TOKENS[i] for i in out), []]


MODEL_ENTRIES += [
    Entry("Seq2SeqEncoder", "9.7",
          "Seq2SeqEncoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0, **kwargs)",
          "Embedding then a num_layers GRU from a zero state on ids X (batch, num_steps). "
          "Returns (outputs, state): M (num_steps, batch, H) and [state (num_layers, batch, "
          "H)]; P (num_steps, batch, H) and state (num_layers, batch, H); T (batch, num_steps, "
          "H) and a list of num_layers (batch, H). Checked from canonical weights (0 "
          "embedding, 1 gru) after conversion to time-major / stacked.",
          probe=_encoder_probe, expect=_encoder_expect, tol=Tol(1e-5, 1e-5)),
    Entry("Seq2SeqEncoder (token ids out of range)", "9.7", "encoder(X)",
          "An id of X below 0 or >= vocab_size (the embedding would give zeros or fail inside "
          "the framework): ValueError naming X, in all three (T: when run eagerly).",
          probe=lambda b: rejected_token_ids("Seq2SeqEncoder", "X", lambda X: seq2seq_encoder(
              b, seq2seq_params(ENCODER_SIZES, seed=3), ENCODER_SIZES)(ids(b, X)),
              ENCODER_SIZES.src_vocab),
          expect=lambda: REJECTED_TOKEN_IDS, book=False),
    Entry("train_seq2seq", "9.7", "train_seq2seq(net, data_iter, lr, num_epochs, tgt_vocab, "
          "device)",
          "Teacher forcing (<bos> + Y[:, :-1]), MaskedSoftmaxCELoss, Adam(lr), gradients "
          "clipped to norm 1 (M: trainer.step(num_tokens) divides by the token count; P/T do "
          "not); M/P re-initialise with Xavier. Plots Σloss/Σtokens every 10 epochs, prints "
          "'loss {l:.3f}, {tokens/sec:.1f} tokens/sec on {device}' (T: the device name). "
          "Checked from canonical weights (the Xavier hook replaced) on one toy batch: the "
          "first epoch's loss is NumPy's, the loss halves in 20 epochs, the plot and the "
          "printed line hold the loop's numbers.",
          probe=_train_probe, expect=_train_expect, tol=Tol(1e-5, 1e-6),
          rejects=(Reject("num_epochs 0", lambda b: (None, [], 0.1, 0, None, None),
                          match="num_epochs"),
                   Reject("lr 0", lambda b: (None, [], 0, 1, None, None), match="lr"))),
    Entry("predict_seq2seq", "9.7",
          "M, P: predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps, device, "
          "save_attention_weights=False) | T: without device",
          "Greedy decoding: lower-case, split on ' ', + <eos>, pad/truncate to num_steps; "
          "from <bos> take the argmax token each step, stop before <eos> or after num_steps "
          "steps. Returns (tokens joined by ' ', attention weights list ([] unless "
          "save_attention_weights)). Checked from canonical weights against NumPy greedy "
          "decoding.",
          probe=_predict_probe, expect=_predict_expect, tol=EXACT),
]

ENTRIES = DATA_ENTRIES + MODEL_ENTRIES
