"""Chapter 15, Natural Language Processing: Applications: the IMDb dataset (15.1), sentiment
predictions (15.2-15.3), the SNLI dataset (15.4), and the multi-input split and inference
predictions of 15.5.

Data are small files in the real formats, packed as the real archives (`spec.nlp_files`),
served over loopback; expectations come from the plain-Python references there. The models
behind the predictions (BiRNN, TextCNN, decomposable attention) are written book-style in
`spec.nlp_models`, loaded with the same canonical weights in every framework and checked
against their NumPy forward passes.
"""

import contextlib
import functools
import io
import os
import tempfile

import numpy as np
from hypothesis import strategies as st

from . import nlp_files, nlp_models
from .entry import EXACT, Entry, Reject
from .modern_rnns import sorted_rows

IMDB_HUB = ("http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            "01ada507287d82875905620988597833ad4e0903")
SNLI_HUB = ("https://nlp.stanford.edu/projects/snli/snli_1.0.zip",
            "9fcde07509c7e87ec61c640c1b2753d9041758e4")
IMDB_STEPS, IMDB_BATCH = 12, 5
SNLI_STEPS, SNLI_BATCH = 9, 7
SNLI_TRAIN_ROWS, SNLI_TEST_ROWS = 120, 30


def _imdb():
    return nlp_files.imdb_reviews(seed=0)


def _snli_rows():
    return nlp_files.snli_rows(SNLI_TRAIN_ROWS, seed=0), nlp_files.snli_rows(SNLI_TEST_ROWS,
                                                                            seed=1)


# ------------------------------------------------------------------------ 15.1 IMDb


def _listing(folder):
    return sorted(os.listdir(folder))


def _imdb_hub_probe(b):
    with nlp_files.imdb_served(_imdb()):
        path = b.d2l.download_extract("aclImdb", "aclImdb")
        return [os.path.basename(path), _listing(path), _listing(os.path.join(path, "train"))]


def _read_imdb_probe(b):
    reviews, observed = _imdb(), []
    with nlp_files.imdb_served(reviews):
        data_dir = b.d2l.download_extract("aclImdb", "aclImdb")
        for split, is_train in (("train", True), ("test", False)):
            data, labels = b.d2l.read_imdb(data_dir, is_train)
            # the files in os.listdir order, each known by the index in its name
            in_listdir_order = [reviews[split][label][int(name.split("_")[0])].replace("\n", "")
                                for label in ("pos", "neg")
                                for name in os.listdir(os.path.join(data_dir, split, label))]
            observed.append([labels, sorted(data), data == in_listdir_order])
    return observed


def _read_imdb_expect():
    reviews, observed = _imdb(), []
    for split in ("train", "test"):
        texts = [t.replace("\n", "") for t in reviews[split]["pos"] + reviews[split]["neg"]]
        labels = [1] * len(reviews[split]["pos"]) + [0] * len(reviews[split]["neg"])
        observed.append([labels, sorted(texts), True])
    return observed


def _load_data_imdb_probe(b):
    with nlp_files.imdb_served(_imdb()):
        train_iter, test_iter, vocab = b.d2l.load_data_imdb(IMDB_BATCH, IMDB_STEPS)
    observed = [len(vocab), vocab.idx_to_token]
    for data_iter in (train_iter, test_iter):
        batches = [[b.numpy(t) for t in batch] for batch in data_iter]
        observed += [[[list(t.shape) for t in batch] for batch in batches[:1]], len(batches),
                     sorted_rows(*(np.concatenate([batch[i] for batch in batches])
                                   for i in range(2)))]
    return observed


def _load_data_imdb_expect():
    idx_to_token, train, test = nlp_files.imdb_reference(_imdb(), IMDB_STEPS)
    observed = [len(idx_to_token), idx_to_token]
    for X, y in (train, test):
        first = min(IMDB_BATCH, len(y))
        observed += [[[[first, IMDB_STEPS], [first]]], -(-len(y) // IMDB_BATCH),
                     sorted_rows(X, y)]
    return observed


# ---------------------------------------------------------------- 15.2-15.3 predictions

SENTENCES = ["this movie is so great", "this movie is so bad", "a boring plot",
             "superb acting and a moving story", "the worst film i saw", "unseen words only",
             "great great great"]
_CORPUS = " ".join(SENTENCES).split() * 2
BIRNN_SIZES = dict(embed_size=6, num_hiddens=5, num_layers=2)
TEXTCNN_SIZES = dict(embed_size=5, kernel_sizes=[1, 2, 3], num_channels=[4, 3, 5])


def _sentiment_vocab(b):
    return b.d2l.Vocab(_CORPUS, min_freq=2)


def _sentiment_models(b, vocab):
    """(BiRNN, TextCNN) of backend `b` with the spec's canonical weights."""
    example = b.tensor(np.zeros((1, 5), np.int64))
    birnn = nlp_models.loaded(b, nlp_models.birnn(b, len(vocab), **BIRNN_SIZES),
                              birnn_params(len(vocab)), example)
    textcnn = nlp_models.loaded(b, nlp_models.textcnn(b, len(vocab), **TEXTCNN_SIZES),
                                textcnn_params(len(vocab)), example)
    return birnn, textcnn


def _sentence_ids():
    from d2l.common.text import Vocab

    vocab = Vocab(_CORPUS, min_freq=2)
    return len(vocab), [np.array([vocab[s.split()]]) for s in SENTENCES]


def _split_decision(params, forward):
    """`params` with the decoder bias (canonical layer `k`) set so that the SENTENCES split
    between the two classes: the cut lies in the widest gap between the sorted margins
    (logit 1 - logit 0) of the middle sentences, so each prediction is far from a tie."""
    k = max(int(key.split(".")[0]) for key in params if key.endswith("bias") and
            params[key].shape == (2,))
    params = {**params, f"{k}.bias": np.zeros(2, np.float32)}
    margins = np.sort([float(z[0, 1] - z[0, 0]) for z in forward(params)])
    gaps = np.diff(margins)[2:-2]
    cut = 2 + int(np.argmax(gaps))
    params[f"{k}.bias"] = np.array([0, -(margins[cut] + margins[cut + 1]) / 2], np.float32)
    return params


@functools.cache
def birnn_params(vocab_size):
    """BiRNN weights (seed 3) whose predictions on SENTENCES are of both classes."""
    _, ids = _sentence_ids()
    return _split_decision(nlp_models.init_birnn(vocab_size, **BIRNN_SIZES, seed=3),
                           lambda p: [nlp_models.birnn_reference(p, x) for x in ids])


@functools.cache
def textcnn_params(vocab_size):
    """TextCNN weights (seed 4) whose predictions on SENTENCES are of both classes."""
    _, ids = _sentence_ids()
    return _split_decision(nlp_models.init_textcnn(vocab_size, **TEXTCNN_SIZES, seed=4),
                           lambda p: [nlp_models.textcnn_reference(p, x) for x in ids])


def _predict_sentiment_probe(b):
    vocab = _sentiment_vocab(b)
    return [[b.d2l.predict_sentiment(net, vocab, s) for s in SENTENCES]
            for net in _sentiment_models(b, vocab)]


def sentiment_logits_reference():
    """{model: [logits (1, 2) per sentence]} from the NumPy forward passes."""
    vocab_size, ids = _sentence_ids()
    birnn, textcnn = birnn_params(vocab_size), textcnn_params(vocab_size)
    return {"birnn": [nlp_models.birnn_reference(birnn, x) for x in ids],
            "textcnn": [nlp_models.textcnn_reference(textcnn, x) for x in ids]}


def _predict_sentiment_expect():
    logits = sentiment_logits_reference()
    return [[("negative", "positive")[int(np.argmax(z))] for z in logits[model]]
            for model in ("birnn", "textcnn")]


# ------------------------------------------------------------------------ 15.4 SNLI


def _snli_hub_probe(b):
    train_rows, test_rows = _snli_rows()
    with nlp_files.snli_served(train_rows, test_rows):
        path = b.d2l.download_extract("SNLI")
        return [os.path.basename(path), _listing(path)]


def _read_snli_probe(b):
    train_rows, test_rows = _snli_rows()
    with nlp_files.snli_served(train_rows, test_rows):
        data_dir = b.d2l.download_extract("SNLI")
        return [list(b.d2l.read_snli(data_dir, is_train)) for is_train in (True, False)]


def _read_snli_expect():
    return [list(nlp_files.read_snli_reference(rows)) for rows in _snli_rows()]


def bad_snli_dir(line="entailment\t( a man )"):
    """A temporary folder whose snli_1.0_train.txt has one line with only two fields."""
    folder = tempfile.mkdtemp(prefix="d2l-snli-")
    rows = nlp_files.snli_rows(4)
    text = nlp_files.snli_text(rows) + line + "\n"
    with open(os.path.join(folder, "snli_1.0_train.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    return folder


_SNLI_TRIPLE = (["a man is playing a guitar .", "two dogs run", "a man sleeps .",
                 "a dog is running in the park", "the man plays", "a b c d e f g h i j"],
                ["a man plays music .", "no dogs", "a man is awake .", "a dog sleeps",
                 "a man is playing", "a"],
                [0, 1, 1, 2, 0, 2])


def _snli_dataset_probe(b):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        dataset = b.d2l.SNLIDataset(_SNLI_TRIPLE, 6)
        reused = b.d2l.SNLIDataset(([" a  man"], ["dogs x"], [2]), 4, dataset.vocab)
    (premise, hypothesis), label = dataset[3]
    return [out.getvalue(), len(dataset), dataset.num_steps, dataset.vocab.idx_to_token,
            b.numpy(dataset.premises), b.numpy(dataset.hypotheses), b.numpy(dataset.labels),
            [b.numpy(premise), b.numpy(hypothesis), float(b.numpy(label))],
            b.numpy(reused.premises), b.numpy(reused.hypotheses), reused.vocab is dataset.vocab]


def _snli_dataset_expect():
    from .recurrent_neural_networks import vocab_reference

    premises, hypotheses, labels = _SNLI_TRIPLE
    tokens = [p.split() for p in premises] + [h.split() for h in hypotheses]
    idx_to_token, _ = vocab_reference(tokens, 5, ["<pad>"])

    def pad(lines, n):
        return nlp_files.pad_reference([s.split() for s in lines], idx_to_token, n, "<pad>")

    P, H = pad(premises, 6), pad(hypotheses, 6)
    return ["read 6 examples\nread 1 examples\n", 6, 6, idx_to_token, P, H,
            np.array(labels), [P[3], H[3], 2.0], pad([" a  man"], 4), pad(["dogs x"], 4), True]


def _load_data_snli_probe(b):
    train_rows, test_rows = _snli_rows()
    with nlp_files.snli_served(train_rows, test_rows):
        train_iter, test_iter, vocab = b.d2l.load_data_snli(SNLI_BATCH, SNLI_STEPS)
    observed = [vocab.idx_to_token]
    for data_iter in (train_iter, test_iter):
        batches = [((b.numpy(P), b.numpy(H)), b.numpy(y)) for (P, H), y in data_iter]
        columns = [np.concatenate([batch[0][0] for batch in batches]),
                   np.concatenate([batch[0][1] for batch in batches]),
                   np.concatenate([batch[1] for batch in batches])]
        observed += [[list(t.shape) for t in (*batches[0][0], batches[0][1])], len(batches),
                     sorted_rows(*columns)]
    observed.append(columns)  # the test loader keeps the file's order
    return observed


def _load_data_snli_expect():
    idx_to_token, train, test = nlp_files.snli_reference(*_snli_rows(), SNLI_STEPS)
    observed = [idx_to_token]
    for P, H, y in (train, test):
        first = min(SNLI_BATCH, len(y))
        observed += [[[first, SNLI_STEPS], [first, SNLI_STEPS], [first]],
                     -(-len(y) // SNLI_BATCH), sorted_rows(P, H, y)]
    observed.append(list(test))
    return observed


# ------------------------------------------------------------ 15.5 split and predictions


@st.composite
def split_inputs(draw):
    """(features, labels, number of devices): 1-3 feature arrays of n rows (n in 1..9)."""
    n = draw(st.integers(1, 9))
    features = [np.arange(n * width, dtype=np.float32).reshape(n, width) + 100 * i
                for i, width in enumerate(draw(st.lists(st.integers(1, 4), min_size=1,
                                                        max_size=3)))]
    return features, np.arange(n, dtype=np.float32), draw(st.integers(1, 4))


def split_reference(features, labels, k):
    """[X shards: per device the list of its feature rows; y shards]: the first n % k of
    the k consecutive shards get one row more."""
    each, extra = divmod(len(labels), k)
    sizes = [each + 1] * extra + [each] * (k - extra)
    stops = np.cumsum(sizes)
    bounds = list(zip(stops - sizes, stops))
    return [[[f[a:z] for f in features] for a, z in bounds], [labels[a:z] for a, z in bounds]]


def _split_call(b, features, labels, k):
    X_shards, y_shards = b.d2l.split_batch_multi_inputs(
        [b.tensor(f) for f in features], b.tensor(labels), [b.device] * k)
    return [[[b.numpy(x) for x in shard] for shard in X_shards], [b.numpy(y) for y in y_shards]]


def _split_reject(b, features, labels):
    return ([b.tensor(f) for f in features], b.tensor(labels), [b.device] * 2)


PAIRS = [("a man is playing a guitar .", "a man plays music ."),
         ("two dogs run", "no dogs"), ("a man sleeps .", "a man is awake ."),
         ("a dog is running in the park", "a dog sleeps"), ("the man plays", "unseen x")]
SNLI_SIZES = dict(embed_size=6, num_hiddens=7)


def decomposable_params(vocab_size):
    return nlp_models.init_decomposable(vocab_size, **SNLI_SIZES, seed=5)


def _snli_vocab(b):
    return b.d2l.Vocab([w for p in PAIRS for s in p for w in s.split()], min_freq=2,
                       reserved_tokens=["<pad>"])


def _predict_snli_probe(b):
    vocab = _snli_vocab(b)
    example = [b.tensor(np.zeros((1, 4), np.int64)), b.tensor(np.zeros((1, 3), np.int64))]
    net = nlp_models.loaded(b, nlp_models.decomposable(b, vocab, **SNLI_SIZES),
                            decomposable_params(len(vocab)), example)
    return [b.d2l.predict_snli(net, vocab, p.split(), h.split()) for p, h in PAIRS]


def snli_logits_reference():
    """[logits (1, 3) per pair] from the NumPy forward pass."""
    from d2l.common.text import Vocab

    vocab = Vocab([w for p in PAIRS for s in p for w in s.split()], min_freq=2,
                  reserved_tokens=["<pad>"])
    params = decomposable_params(len(vocab))
    return [nlp_models.decomposable_reference(params, np.array([vocab[p.split()]]),
                                              np.array([vocab[h.split()]])) for p, h in PAIRS]


def _predict_snli_expect():
    return [("entailment", "contradiction", "neutral")[int(np.argmax(z))]
            for z in snli_logits_reference()]


ENTRIES = [
    Entry("DATA_HUB['aclImdb']", "15.1", "",
          "aclImdb_v1.tar.gz from ai.stanford.edu, sha1 01ada507...; download_extract('aclImdb', "
          "'aclImdb') gives the folder aclImdb (README, imdb.vocab, test, train with pos, neg "
          "and unsup). Checked on a generated archive packed as the real one.",
          probe=lambda b: [list(b.d2l.DATA_HUB["aclImdb"])] + _imdb_hub_probe(b),
          expect=lambda: [list(IMDB_HUB), "aclImdb", ["README", "imdb.vocab", "test", "train"],
                          ["neg", "pos", "unsup"]], tol=EXACT),
    Entry("read_imdb", "15.1", "read_imdb(data_dir, is_train)",
          "(data, labels) of the train or test split: folder pos (label 1) then neg (label "
          "0), files in os.listdir order, each read as UTF-8 with every '\\n' removed; unsup "
          "is ignored. A data_dir without the split's folder is a ValueError naming data_dir.",
          probe=_read_imdb_probe, expect=_read_imdb_expect, tol=EXACT,
          rejects=(Reject("no split folder", lambda b: (os.path.join(
              tempfile.gettempdir(), "d2l-no-such-aclImdb"), True), match="data_dir"),)),
    Entry("load_data_imdb", "15.1", "load_data_imdb(batch_size, num_steps=500)",
          "Word tokens of read_imdb, Vocab(train tokens, min_freq=5) with no reserved token "
          "(kept from the book: '<pad>' is unknown, so reviews are padded with 0 = '<unk>'), "
          "reviews truncated/padded to num_steps, load_array batches (X, y), train shuffled; "
          "X M float32, P int64, T int32 (TensorFlow shuffles all examples, not a 1000-example "
          "buffer that would keep IMDb's positive reviews together). batch_size or num_steps "
          "< 1 is a ValueError naming it.",
          probe=_load_data_imdb_probe, expect=_load_data_imdb_expect, tol=EXACT,
          rejects=(Reject("batch_size 0", lambda b: (0, 8), match="batch_size"),
                   Reject("num_steps 0", lambda b: (4, 0), match="num_steps"))),
    Entry("predict_sentiment", "15.2", "predict_sentiment(net, vocab, sentence)",
          "'positive' if argmax of net on the (1, L) ids of sentence.split() is 1, else "
          "'negative'; ids on the net's device (try_gpu() for a net without parameters); "
          "PyTorch nets are put in eval mode first (the book leaves it to the caller, and "
          "TextCNN's dropout would make the prediction random), Keras ones called with "
          "training=False. Checked with the book's BiRNN (15.2) and TextCNN (15.3) from "
          "canonical weights against their NumPy forward passes. A sentence that is not a "
          "string with a word is a ValueError naming sentence.",
          probe=_predict_sentiment_probe, expect=_predict_sentiment_expect, tol=EXACT,
          rejects=(Reject("token list", lambda b: (None, b.d2l.Vocab([["a"]]), ["a"]),
                          match="sentence"),
                   Reject("blank", lambda b: (None, b.d2l.Vocab([["a"]]), "  "),
                          match="sentence"))),
    Entry("DATA_HUB['SNLI']", "15.4", "",
          "snli_1.0.zip from nlp.stanford.edu, sha1 9fcde075...; download_extract('SNLI') gives "
          "the folder snli_1.0 (README.txt and the train, dev and test files). Checked on a "
          "generated archive packed as the real one (with its __MACOSX entries).",
          probe=lambda b: [list(b.d2l.DATA_HUB["SNLI"])] + _snli_hub_probe(b),
          expect=lambda: [list(SNLI_HUB), "snli_1.0", ["README.txt", "snli_1.0_dev.txt",
                                                       "snli_1.0_test.txt",
                                                       "snli_1.0_train.txt"]], tol=EXACT),
    Entry("read_snli", "15.4", "read_snli(data_dir, is_train)",
          "(premises, hypotheses, labels) of snli_1.0_train.txt or snli_1.0_test.txt: header "
          "skipped, lines split on tabs, only gold labels entailment (0), contradiction (1), "
          "neutral (2) kept ('-' dropped); premise and hypothesis are the binary parses "
          "(columns 1 and 2) with '(' and ')' removed, runs of 2+ whitespace as one space, "
          "stripped. The file is read as UTF-8 (the book uses the locale's encoding). A "
          "non-empty line with fewer than 3 fields is a ValueError naming the file (the "
          "book fails with an IndexError).",
          probe=_read_snli_probe, expect=_read_snli_expect, tol=EXACT,
          rejects=(Reject("line with 2 fields", lambda b: (bad_snli_dir(), True),
                          match="snli_1.0_train.txt"),)),
    Entry("SNLIDataset", "15.4", "SNLIDataset(dataset, num_steps, vocab=None)",
          "Word tokens of premises and hypotheses; vocab = the given one or Vocab(premise + "
          "hypothesis tokens, min_freq=5, reserved_tokens=['<pad>']); premises, hypotheses "
          "(N, num_steps) truncated/padded with vocab['<pad>'], labels (N,): M float32, P "
          "int64, T int32; prints 'read {N} examples'; dataset[i] is ((premise, hypothesis), "
          "label). num_steps < 1 and lists of different lengths are ValueErrors naming them.",
          probe=_snli_dataset_probe, expect=_snli_dataset_expect, tol=EXACT,
          rejects=(Reject("num_steps 0", lambda b: (_SNLI_TRIPLE, 0), match="num_steps"),
                   Reject("unequal lists", lambda b: ((["a"], ["b", "c"], [0]), 3),
                          match="dataset"))),
    Entry("load_data_snli", "15.4", "load_data_snli(batch_size, num_steps=50)",
          "SNLIDataset of the train file (builds the vocab) and of the test file (reuses "
          "it); loaders of ((premises, hypotheses), labels) batches (MXNet's default batchify "
          "gives [[premises, hypotheses], labels]), train shuffled, test in file order, with "
          "get_dataloader_workers() workers. batch_size or num_steps < 1 is a ValueError "
          "naming it.",
          probe=_load_data_snli_probe, expect=_load_data_snli_expect, tol=EXACT,
          rejects=(Reject("batch_size 0", lambda b: (0, 8), match="batch_size"),)),
    Entry("split_batch_multi_inputs", "15.5", "split_batch_multi_inputs(X, y, devices)",
          "(X_shards, y_shards): every feature array of the list X and y cut along axis 0 "
          "into len(devices) consecutive shards, the first n % k one row longer (MXNet's "
          "split_and_load with even_split=False; empty shards when n < k), X_shards[d] the "
          "tuple of device d's features. Upstream is MXNet only; PyTorch and TensorFlow split "
          "the same way. No devices, a non-list X, or X arrays and y of different lengths "
          "are ValueErrors naming devices, X or y.",
          reference=split_reference, inputs=split_inputs, call=_split_call, tol=EXACT,
          rejects=(Reject("no devices", lambda b: ([b.tensor(np.ones((2, 1)))],
                                                   b.tensor(np.ones(2)), []),
                          match="devices"),
                   Reject("X rows differ", lambda b: _split_reject(
                       b, [np.ones((3, 1)), np.ones((2, 1))], np.ones(3)), match="X"),
                   Reject("y rows differ", lambda b: _split_reject(
                       b, [np.ones((3, 1))], np.ones(2)), match="y"))),
    Entry("predict_snli", "15.5", "predict_snli(net, vocab, premise, hypothesis)",
          "'entailment', 'contradiction' or 'neutral' (argmax 0, 1, 2) of net([premise ids "
          "(1, L), hypothesis ids (1, M)]) in eval/inference mode, ids on the net's device. "
          "Checked with the book's decomposable attention model from canonical weights "
          "against its NumPy forward pass. premise and hypothesis are token lists: a string "
          "or an empty list is a ValueError naming it.",
          probe=_predict_snli_probe, expect=_predict_snli_expect, tol=EXACT,
          rejects=(Reject("premise string", lambda b: (None, b.d2l.Vocab([["a"]]), "a man",
                                                       ["a"]), match="premise"),
                   Reject("empty hypothesis", lambda b: (None, b.d2l.Vocab([["a"]]), ["a"],
                                                         []), match="hypothesis"))),
]
