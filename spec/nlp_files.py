"""Small IMDb and SNLI datasets in the real published formats, packed as the real archives
are, served over loopback (chapter 15), and plain-Python references of what the book's
readers and loaders make of them.

* aclImdb_v1.tar.gz: `aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt` (one review a file,
  UTF-8, with '<br />' tags), plus `train/unsup/`, `imdb.vocab` and `README` which the
  reader ignores.
* snli_1.0.zip: `snli_1.0/snli_1.0_{train,dev,test}.txt`, tab-separated with a header of 14
  columns (gold_label, sentence1_binary_parse, sentence2_binary_parse, sentence1_parse,
  sentence2_parse, sentence1, sentence2, captionID, pairID, label1..label5), binary parses
  in parentheses, the gold label '-' where the annotators did not agree; plus `README.txt`
  and the `__MACOSX/` entries of the real archive.

The IMDb training reviews are drawn so that every word the vocabulary keeps (seen >= 5 times)
has its own count: the vocabulary's order then does not depend on the order `os.listdir`
gives the files in (ties would be broken by first appearance).
"""

import contextlib
import io
import os
import random
import tarfile
import zipfile

import numpy as np

from d2l.common import data_hub

from . import support
from .recurrent_neural_networks import vocab_reference

IMDB_ARCHIVE, SNLI_ARCHIVE = "aclImdb_v1.tar.gz", "snli_1.0.zip"
SNLI_LABEL_IDS = {"entailment": 0, "contradiction": 1, "neutral": 2}
SNLI_HEADER = ("gold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
               "sentence2_parse\tsentence1\tsentence2\tcaptionID\tpairID\tlabel1\tlabel2\t"
               "label3\tlabel4\tlabel5")

_POSITIVE = ["great", "loved", "wonderful", "best", "superb", "moving", "brilliant"]
_NEGATIVE = ["awful", "boring", "worst", "waste", "dull", "poor", "bad"]
_NEUTRAL = ["the", "film", "a", "movie", "was", "and", "it", "plot", "acting", "<br", "/><br",
            "/>", "café", "story", "this", "i"]


def imdb_reviews(seed=0, n_train=8, n_test=4):
    """{split: {label: [review texts]}} for 'train' and 'test', 'pos' and 'neg'.

    Training words come with distinct counts (kept ones >= 5); some rare words (< 5) too.
    Reviews of a label use its sentiment words; a few '\\n' (which the reader removes) sit
    between words and, in the test split, inside a word."""
    rng = random.Random(seed)
    reviews = {"train": {"pos": [], "neg": []}, "test": {"pos": [], "neg": []}}
    for label, words in (("pos", _POSITIVE), ("neg", _NEGATIVE)):
        # totals: pos words 5, 7, ..., neg words 6, 8, ..., neutral ones 22-50 (even) or
        # 41 + 4i (odd, used by both labels), rare ones 1-4 (not kept)
        counts = {w: 5 + 2 * i + (label == "neg") for i, w in enumerate(words)}
        counts.update({f"{label}rare{i}": 1 + i for i in range(4)})
        counts.update({w: 20 + 2 * i + (label == "neg")
                       for i, w in enumerate(_NEUTRAL) if label == "pos" or i % 3 == 0})
        tokens = [w for w, c in counts.items() for _ in range(c)]
        rng.shuffle(tokens)
        cuts = sorted(rng.sample(range(1, len(tokens)), n_train - 1))
        for part in np.split(np.array(tokens, dtype=object), cuts):
            reviews["train"][label].append(_review_text(list(part), rng))
        for _ in range(n_test):
            words_test = rng.choices(words + _NEUTRAL + ["unseen", "mov\nie"], k=rng.randint(3, 14))
            reviews["test"][label].append(_review_text(words_test, rng))
    return reviews


def _review_text(words, rng):
    """The words joined by spaces, some joined by ' \\n ' instead."""
    seps = [" \n " if rng.random() < 0.1 else " " for _ in words[1:]]
    return words[0] + "".join(s + w for s, w in zip(seps, words[1:]))


def write_imdb_archive(path, reviews, seed=0):
    """aclImdb_v1.tar.gz at `path` holding `reviews` (see `imdb_reviews`): file
    `aclImdb/<split>/<label>/<id>_<rating>.txt` per review (ratings 7-10 pos, 1-4 neg),
    two unlabeled reviews in `aclImdb/train/unsup`, `aclImdb/imdb.vocab`, `aclImdb/README`."""
    rng = random.Random(seed)
    files = {"aclImdb/README": "Large Movie Review Dataset v1.0\n",
             "aclImdb/imdb.vocab": "\n".join(_POSITIVE + _NEGATIVE + _NEUTRAL) + "\n",
             "aclImdb/train/unsup/0_0.txt": "great great great unlabeled",
             "aclImdb/train/unsup/1_0.txt": "awful unlabeled"}
    for split, by_label in reviews.items():
        for label, texts in by_label.items():
            for i, text in enumerate(texts):
                rating = rng.randint(7, 10) if label == "pos" else rng.randint(1, 4)
                files[f"aclImdb/{split}/{label}/{i}_{rating}.txt"] = text
    with tarfile.open(path, "w:gz") as archive:
        for folder in sorted({os.path.dirname(n) for n in files} | {"aclImdb"}):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            archive.addfile(info)
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))


def _binary_parse(tokens, rng):
    """A random binary bracketing of `tokens`: '( ( A man ) ( is ( playing . ) ) )'."""
    if len(tokens) == 1:
        return tokens[0]
    cut = rng.randint(1, len(tokens) - 1)
    return f"( {_binary_parse(tokens[:cut], rng)} {_binary_parse(tokens[cut:], rng)} )"


_SNLI_WORDS = ["a", "man", "woman", "dog", "is", "playing", "sleeping", "outside", "the",
               "in", "park", "guitar", "not", "two", "people", "are", "running", "."]


def snli_rows(n, seed=0):
    """`n` SNLI rows (lists of the 14 fields), about one in eight with gold label '-', three
    hypotheses per premise, a few words rare enough to miss min_freq 5."""
    rng = random.Random(seed)
    rows, premise = [], None
    for i in range(n):
        if i % 3 == 0:
            premise = rng.choices(_SNLI_WORDS, k=rng.randint(3, 9)) + ["."]
            if rng.random() < 0.2:
                premise.insert(1, f"rare{rng.randint(0, 3)}")
        hypothesis = rng.choices(_SNLI_WORDS, k=rng.randint(2, 7))
        votes = rng.choices(list(SNLI_LABEL_IDS), k=5)
        gold = "-" if rng.random() < 0.125 else max(set(votes), key=votes.count)
        rows.append([gold, _binary_parse(premise, rng), _binary_parse(hypothesis, rng),
                     "(ROOT (S " + " ".join(f"(NN {w})" for w in premise) + "))",
                     "(ROOT (S " + " ".join(f"(NN {w})" for w in hypothesis) + "))",
                     " ".join(premise), " ".join(hypothesis), f"{1000 + i // 3}.jpg#{i % 5}",
                     f"{1000 + i // 3}.jpg#{i % 5}r{i % 3}", *votes])
    return rows


def snli_text(rows):
    """The tab-separated file of `rows`, header first, one row a line (as the real files,
    '\\r\\n'-free, ending with a newline)."""
    return "\n".join([SNLI_HEADER] + ["\t".join(row) for row in rows]) + "\n"


def write_snli_archive(path, train_rows, test_rows):
    """snli_1.0.zip at `path`: snli_1.0/snli_1.0_{train,dev,test}.txt (dev = test rows),
    snli_1.0/README.txt, and a `__MACOSX/` resource-fork entry as in the real archive."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("snli_1.0/", "")
        archive.writestr("snli_1.0/README.txt", "Stanford Natural Language Inference 1.0\n")
        for split, rows in (("train", train_rows), ("dev", test_rows), ("test", test_rows)):
            archive.writestr(f"snli_1.0/snli_1.0_{split}.txt", snli_text(rows))
        archive.writestr("__MACOSX/snli_1.0/._README.txt", b"\x00\x05\x16\x07")


@contextlib.contextmanager
def served(name, archive, write):
    """`data_sandbox()` serving the archive `write(path)` makes as `archive`, with
    DATA_HUB[name] pointing at it; downloads print into a discarded buffer. Yields the
    cache folder."""
    with support.data_sandbox() as (cache, www, url), contextlib.redirect_stdout(io.StringIO()):
        write(www / archive)
        with support.patched(data_hub.DATA_HUB, **{name: (url + archive,
                                                          support.sha1(www / archive))}):
            yield cache


def imdb_served(reviews):
    return served("aclImdb", IMDB_ARCHIVE, lambda p: write_imdb_archive(p, reviews))


def snli_served(train_rows, test_rows):
    return served("SNLI", SNLI_ARCHIVE, lambda p: write_snli_archive(p, train_rows, test_rows))


# ----------------------------------------------------------- references (from behaviour.md)


def imdb_tokens_reference(texts):
    """Each review without its '\\n', split on whitespace."""
    return [text.replace("\n", "").split() for text in texts]


def pad_reference(lines, idx_to_token, num_steps, pad_token):
    """int64 (N, num_steps): each token list's ids (unknown -> 0), cut or padded with the
    id of pad_token (0 when the vocabulary lacks it), one row at a time."""
    index = {t: i for i, t in enumerate(idx_to_token)}
    pad = index.get(pad_token, 0)
    rows = []
    for line in lines:
        ids = [index.get(t, 0) for t in line][:num_steps]
        rows.append(ids + [pad] * (num_steps - len(ids)))
    return np.array(rows, dtype=np.int64).reshape(len(lines), num_steps)


def imdb_reference(reviews, num_steps):
    """(idx_to_token, train (ids, labels), test (ids, labels)) of load_data_imdb: the
    vocabulary of the training reviews (min_freq 5, no reserved tokens)."""
    def split(name):
        texts = reviews[name]["pos"] + reviews[name]["neg"]
        labels = [1] * len(reviews[name]["pos"]) + [0] * len(reviews[name]["neg"])
        return imdb_tokens_reference(texts), np.array(labels)

    (train_tokens, train_y), (test_tokens, test_y) = split("train"), split("test")
    idx_to_token, _ = vocab_reference(train_tokens, 5)
    return (idx_to_token, (pad_reference(train_tokens, idx_to_token, num_steps, "<pad>"),
                           train_y),
            (pad_reference(test_tokens, idx_to_token, num_steps, "<pad>"), test_y))


def strip_parse_reference(parse):
    """A binary parse as read_snli keeps it (for parses whose only whitespace is ' ')."""
    return " ".join(parse.replace("(", " ").replace(")", " ").split())


def read_snli_reference(rows):
    """(premises, hypotheses, labels) of read_snli: rows with a gold label other than '-'."""
    kept = [row for row in rows if row[0] in SNLI_LABEL_IDS]
    return ([strip_parse_reference(r[1]) for r in kept],
            [strip_parse_reference(r[2]) for r in kept], [SNLI_LABEL_IDS[r[0]] for r in kept])


def snli_reference(train_rows, test_rows, num_steps):
    """(idx_to_token, train (P, H, y), test (P, H, y)) of load_data_snli: the vocabulary of
    all training premise and hypothesis tokens (min_freq 5, '<pad>' reserved)."""
    train, test = read_snli_reference(train_rows), read_snli_reference(test_rows)
    tokens = [p.split() for p in train[0]] + [h.split() for h in train[1]]
    idx_to_token, _ = vocab_reference(tokens, 5, ["<pad>"])

    def arrays(split):
        return (pad_reference([p.split() for p in split[0]], idx_to_token, num_steps, "<pad>"),
                pad_reference([h.split() for h in split[1]], idx_to_token, num_steps, "<pad>"),
                np.array(split[2], dtype=np.int64))

    return idx_to_token, arrays(train), arrays(test)
