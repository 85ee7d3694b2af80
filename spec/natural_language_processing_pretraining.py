"""Chapter 14, Natural Language Processing: Pretraining."""

import collections
import contextlib
import hashlib
import io
import math
import os
import random
import tempfile
import zipfile

import numpy as np
from hypothesis import strategies as st

from d2l.common import data_hub

from . import reference, support
from .attention_mechanisms import _block_params, _layernorm_params, _normal, run
from .entry import (
    EXACT,
    REJECTED_TOKEN_IDS,
    Entry,
    Reject,
    Tol,
    rejected_token_ids,
)
from .recurrent_neural_networks import ReferenceVocab

ENTRIES = []

# --- 14.3 / 14.7 word2vec data (PTB) and pretrained token embeddings ---
# Independent references: plain Python loops written from behaviour.md (one random call at a
# time, in the book's order), no d2l code. The loaders run on the real ptb.zip (shared/data)
# or on files generated in the real formats, packed as the real archives are, served over
# loopback.


PTB = ("ptb.zip", "319d85e578af0cdc590547f26231e4e31cdf1e42")
PTB_SENTENCES, PTB_VOCAB = 42069, 6719  # the book's numbers (min_freq 10 for the vocab)
EMBEDDINGS = {  # DATA_HUB name -> (archive, sha1, folder inside the archive)
    "glove.6b.50d": ("glove.6B.50d.zip", "0b8703943ccdb6eb788e6f091b8946e82231bc4d",
                     "glove.6B.50d"),
    "glove.6b.100d": ("glove.6B.100d.zip", "cd43bfb07e44e6f27cbcc7bc9ae3d80284fdaf5a",
                      "glove.6B.100d"),
    "glove.42b.300d": ("glove.42B.300d.zip", "b5116e234e9eb9076672cfeabf5469f3eec904fa",
                       "glove.42B.300d"),
    "wiki.en": ("wiki.en.zip", "c1816da3821ae9f43899be655002f6c723e91b88", "wiki.en"),
}


def read_ptb_reference(path=support.SHARED_DATA / PTB[0]):
    """The sentences of ptb/ptb.train.txt inside the zip at `path`."""
    with zipfile.ZipFile(path) as archive:
        text = archive.read("ptb/ptb.train.txt").decode("utf-8")
    return [line.split() for line in text.split("\n")]


def subsampling_reference(sentences, vocab):
    """One random.uniform(0, 1) per token, kept iff below sqrt(1e-4 / count * total)."""
    mapped = [[vocab.idx_to_token[vocab[token]] for token in line] for line in sentences]
    counts = collections.Counter(token for line in mapped for token in line)
    total = sum(counts.values())
    return [[token for token in line
             if random.uniform(0, 1) < math.sqrt(1e-4 / counts[token] * total)]
            for line in mapped]


def centers_contexts_reference(corpus, max_window_size):
    """Sentences of 2+ tokens: every position a centre, window randint(1, max) each."""
    centers, contexts = [], []
    for line in corpus:
        if len(line) < 2:
            continue
        for i, token in enumerate(line):
            centers.append(token)
            window = random.randint(1, max_window_size)
            contexts.append([line[j] for j in range(max(0, i - window),
                                                    min(len(line), i + 1 + window)) if j != i])
    return centers, contexts


class GeneratorReference:
    """RandomGenerator: 10000 candidates per refill with random.choices."""

    def __init__(self, weights):
        self.weights, self.candidates, self.i = list(weights), [], 0

    def draw(self):
        if self.i == len(self.candidates):
            self.candidates = random.choices(range(len(self.weights)), self.weights, k=10000)
            self.i = 0
        self.i += 1
        return self.candidates[self.i - 1]


def negatives_reference(all_contexts, corpus, K):
    """count ** 0.75 in order of first appearance, the index taken as the id (the book's)."""
    counts = collections.Counter(t for line in corpus for t in line) if corpus and \
        isinstance(corpus[0], list) else collections.Counter(corpus)
    generator = GeneratorReference([c ** 0.75 for c in counts.values()])
    all_negatives = []
    for context in all_contexts:
        negatives = []
        while len(negatives) < len(context) * K:
            candidate = generator.draw()
            if candidate not in context:
                negatives.append(candidate)
        all_negatives.append(negatives)
    return all_negatives


def batchify_reference(data):
    """(centers (B, 1), contexts_negatives, masks, labels) as nested lists padded with 0."""
    width = max(len(c) + len(n) for _, c, n in data)
    centers, rows, masks, labels = [], [], [], []
    for center, context, negatives in data:
        used = len(context) + len(negatives)
        centers.append([center])
        rows.append(list(context) + list(negatives) + [0] * (width - used))
        masks.append([1] * used + [0] * (width - used))
        labels.append([1] * len(context) + [0] * (width - len(context)))
    return [np.array(a, np.float64) for a in (centers, rows, masks, labels)]


def _seeded(fn):
    """`fn(*args)` after random.seed(seed), then the next random.random() (the state the
    call left behind)."""
    def call(seed, *args):
        random.seed(seed)
        result = fn(*args)
        return [result, random.random()]
    return call


# --- hypothesis draws ---

WORDS = [f"w{i}" for i in range(40)]


@st.composite
def zipf_sentences(draw, max_sentences=40, max_len=60):
    """Sentences (some empty or of one token) of Zipf-distributed words, so that frequent
    words are subsampled and rare ones kept."""
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_len, draw(st.integers(0, max_sentences)))
    ranks = np.minimum(rng.zipf(1.3, int(lengths.sum())), len(WORDS)) - 1
    words = [WORDS[r] for r in ranks]
    ends = np.cumsum(lengths)
    return [words[e - n:e] for n, e in zip(lengths.tolist(), ends.tolist())]


@st.composite
def subsampling_inputs(draw):
    return draw(st.integers(0, 2**16)), draw(zipf_sentences()), draw(st.integers(0, 4))


@st.composite
def id_corpus(draw, max_sentences=12):
    """Lists of token ids (lengths 0-14) in [0, n), first appearing in a shuffled order (so
    the Counter's order differs from the id order)."""
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 12))
    lengths = rng.integers(0, 15, draw(st.integers(1, max_sentences)))
    flat = rng.integers(0, n, int(lengths.sum()) + n)
    flat[:n] = rng.permutation(n)
    flat = rng.permutation(flat).tolist()[:max(int(lengths.sum()), 1)]
    ends = np.cumsum(lengths).tolist()
    return [flat[e - k:e] for k, e in zip(lengths.tolist(), ends)] or [flat]


@st.composite
def centers_inputs(draw):
    window = draw(st.sampled_from([1, 2, 3, 4, 5, 7, 8, 9, 16]))
    return draw(st.integers(0, 2**16)), draw(id_corpus()), window


@st.composite
def negatives_inputs(draw):
    """(seed, contexts, corpus, K); sometimes enough contexts to need several refills."""
    seed, corpus = draw(st.integers(0, 2**16)), draw(id_corpus())
    rng = np.random.default_rng(seed)
    contexts = [line[max(0, i - w):i] + line[i + 1:i + 1 + w]
                for line in corpus if len(line) > 1
                for i, w in enumerate(rng.integers(1, 4, len(line)).tolist())]
    K = draw(st.integers(0, 5))
    if draw(st.booleans()) and contexts:  # > 10000 candidates: the generator refills
        contexts = (contexts * (1200 // len(contexts) + 1))[:1200]
        K = max(K, 4)
    # The generator draws 0 ... (number of distinct ids) - 1: a context holding all of them
    # leaves no noise word (a ValueError, see the rejects).
    drawable = set(range(len({t for line in corpus for t in line})))
    contexts = [c for c in contexts if not drawable <= set(c)]
    return seed, contexts, corpus, K


@st.composite
def batchify_inputs(draw):
    ids = st.integers(0, 50)
    triple = st.tuples(ids, st.lists(ids, min_size=1, max_size=6),
                       st.lists(ids, max_size=12))
    return (draw(st.lists(triple, min_size=1, max_size=6)),)


# --- calls and probes ---


def _subsampling_call(b, seed, sentences, min_freq):
    return _seeded(b.d2l.subsampling)(seed, sentences, ReferenceVocab(sentences, min_freq))


def _subsampling_reference(seed, sentences, min_freq):
    return _seeded(subsampling_reference)(seed, sentences, ReferenceVocab(sentences, min_freq))


def _centers_call(b, seed, corpus, window):
    return _seeded(b.d2l.get_centers_and_contexts)(seed, corpus, window)


def _negatives_call(b, seed, contexts, corpus, K):
    return _seeded(b.d2l.get_negatives)(seed, contexts, corpus, K)


def _batchify_call(b, data):
    return [np.asarray(b.numpy(t), np.float64) for t in b.d2l.batchify(data)]


GENERATOR_WEIGHTS = [0.5, 0.0, 2.0, 1.0, 7.25, 0.125]


def _generator_probe(b):
    """25000 draws from seed 3 (three refills), then the generator's attributes."""
    random.seed(3)
    generator = b.d2l.RandomGenerator(GENERATOR_WEIGHTS)
    draws = [generator.draw() for _ in range(25000)]
    return [draws, list(generator.population), list(generator.sampling_weights),
            len(generator.candidates), generator.i, random.random()]


def _generator_expect():
    random.seed(3)
    generator = GeneratorReference(GENERATOR_WEIGHTS)
    draws = [generator.draw() for _ in range(25000)]
    return [draws, list(range(6)), GENERATOR_WEIGHTS, 10000, 5000, random.random()]


def _ptb_hub_probe(b):
    with support.shared_data_served(PTB[0]) as (cache, _, _):
        folder = b.d2l.download_extract("ptb")
        return [list(b.d2l.DATA_HUB["ptb"]), os.path.relpath(folder, cache),
                sorted(os.listdir(folder)), support.sha1(cache / PTB[0])]


def _read_ptb_probe(b):
    """read_ptb on the real archive, and the size of the book's vocabulary of it."""
    with support.shared_data_served(PTB[0]):
        sentences = b.d2l.read_ptb()
    return _ptb_observation(sentences, len(b.d2l.Vocab(sentences, min_freq=10)))


def _ptb_observation(sentences, vocab_size):
    joined = "\n".join(" ".join(s) for s in sentences)
    return [len(sentences), vocab_size, sentences[:3], sentences[-2:],
            sum(map(len, sentences)), hashlib.sha1(joined.encode()).hexdigest()]


def _read_ptb_expect():
    sentences = read_ptb_reference()
    counts = collections.Counter(t for s in sentences for t in s)
    frequent = {t for t, c in counts.items() if c >= 10} | {"<unk>"}
    observation = _ptb_observation(sentences, len(frequent))
    assert observation[:2] == [PTB_SENTENCES, PTB_VOCAB]  # the book's numbers
    return observation


def small_ptb_text(seed=0, num_sentences=300):
    """PTB-style training text: lines ' w w ... w ' of Zipf-distributed words from a
    60-word vocabulary (some rare, some frequent), '<unk>' and 'N' among them."""
    rng = np.random.default_rng(seed)
    words = ["<unk>", "N", "the", *[f"w{i}" for i in range(57)]]
    lines = []
    for length in rng.integers(0, 25, num_sentences).tolist():
        ranks = np.minimum(rng.zipf(1.4, length), len(words)) - 1
        lines.append(" " + " ".join(words[r] for r in ranks) + " ")
    return "\n".join(lines) + "\n"


def write_ptb_zip(path, train_text):
    """A zip packed as the real ptb.zip: folder ptb/ with ptb.{train,valid,test}.txt."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ptb/", "")
        for split in ("test", "train", "valid"):
            archive.writestr(f"ptb/ptb.{split}.txt", train_text if split == "train"
                             else " a b \n")


@contextlib.contextmanager
def small_ptb_served(seed=0):
    """A generated ptb.zip served over loopback, with DATA_HUB['ptb'] pointing at it;
    yields the zip's path."""
    with support.data_sandbox() as (_, www, url), contextlib.redirect_stdout(io.StringIO()):
        write_ptb_zip(www / PTB[0], small_ptb_text(seed))
        with support.patched(data_hub.DATA_HUB, ptb=(url + PTB[0], support.sha1(www / PTB[0]))):
            yield www / PTB[0]


def loader_observation(b, data_iter):
    """[number of batches, batch sizes, whether every batch is batchify of its own rows
    (padding to the batch's longest row), the examples as sorted (center, context,
    negatives) triples] of one pass over a load_data_ptb loader."""
    examples, sizes, padded_per_batch = [], [], True
    for batch in data_iter:
        centers, rows, masks, labels = (np.asarray(b.numpy(t)).astype(np.int64) for t in batch)
        triples = [(int(c), r[:lab.sum()].tolist(), r[lab.sum():m.sum()].tolist())
                   for c, r, m, lab in zip(centers[:, 0], rows, masks, labels)]
        expected = batchify_reference(triples)
        padded_per_batch &= all(np.array_equal(np.asarray(x, np.int64), y)
                                for x, y in zip(expected, (centers, rows, masks, labels)))
        examples += triples
        sizes.append(len(triples))
    return [len(sizes), sorted(sizes), padded_per_batch, sorted(examples)]


class IndexedVocab(ReferenceVocab):
    """ReferenceVocab with dict lookups (for corpora the size of PTB)."""

    def __init__(self, tokens, min_freq=0):
        super().__init__(tokens, min_freq)
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        return self.token_to_idx.get(tokens, 0)


def ptb_examples_reference(path, max_window_size, num_noise_words):
    """(vocab size, idx_to_token, sorted example triples) of the book's pipeline, seed 0."""
    sentences = read_ptb_reference(path)
    vocab = IndexedVocab(sentences, min_freq=10)
    random.seed(0)
    subsampled = subsampling_reference(sentences, vocab)
    corpus = [vocab[line] for line in subsampled]
    centers, contexts = centers_contexts_reference(corpus, max_window_size)
    negatives = negatives_reference(contexts, corpus, num_noise_words)
    return len(vocab), vocab.idx_to_token, sorted(zip(centers, contexts, negatives))


def _load_data_ptb_probe(b, batch_size=16, window=3, noise=2):
    with small_ptb_served():
        random.seed(0)
        data_iter, vocab = b.d2l.load_data_ptb(batch_size, window, noise)
    observed = loader_observation(b, data_iter)
    return [len(vocab), vocab.idx_to_token, observed[0], observed[2],
            [list(t) for t in observed[3]]]


def _load_data_ptb_expect(batch_size=16, window=3, noise=2):
    with small_ptb_served() as path:
        size, idx_to_token, examples = ptb_examples_reference(path, window, noise)
    return [size, idx_to_token, -(-len(examples) // batch_size), True,
            [list(t) for t in examples]]


def vector_file_text(tokens, vectors, fasttext):
    """GloVe text ('token v1 ... vd' per line) or fastText .vec (a 'n d' header line, a
    space after the last value)."""
    lines = [f"{len(tokens)} {vectors.shape[1]}"] if fasttext else []
    tail = " " if fasttext else ""
    lines += [token + " " + " ".join(repr(float(v)) for v in row) + tail
              for token, row in zip(tokens, vectors)]
    return "\n".join(lines) + "\n"


def embedding_zip(path, folder, text):
    """A zip packed as the book's embedding archives: <folder>/vec.txt."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/vec.txt", text)


def embedding_sample(seed, fasttext):
    """Tokens (with punctuation and non-ASCII ones) and float32 vectors (N, d)."""
    rng = np.random.default_rng(seed)
    tokens = ["the", ",", "chip", "baby", "beautiful", "café", "naïve", "<s>", "x-ray", "1980"]
    dim = 7 if fasttext else 5
    return tokens, rng.normal(0, 1, (len(tokens), dim)).astype(np.float32)


@contextlib.contextmanager
def embedding_served(name, text):
    """The DATA_HUB entry `name` pointing at a generated archive holding `text` as vec.txt
    (named and packed as the real one), over loopback."""
    archive, _, folder = EMBEDDINGS[name]
    with support.data_sandbox() as (_, www, url), contextlib.redirect_stdout(io.StringIO()):
        embedding_zip(www / archive, folder, text)
        with support.patched(data_hub.DATA_HUB, **{name: (url + archive,
                                                          support.sha1(www / archive))}):
            yield


QUERIES = [["chip", "unknown-token", "the"], [], ("café", "naïve"), "baby"]


def _embedding_observation(idx_to_token, token_to_idx, unknown_idx, idx_to_vec, length,
                           lookups):
    return [idx_to_token, sorted(token_to_idx.items()), unknown_idx, idx_to_vec, length,
            lookups]


def _embedding_probe(b, name, fasttext):
    tokens, vectors = embedding_sample(1, fasttext)
    with embedding_served(name, vector_file_text(tokens, vectors, fasttext)):
        emb = b.d2l.TokenEmbedding(name)
    return _embedding_observation(
        emb.idx_to_token, emb.token_to_idx, emb.unknown_idx,
        np.asarray(b.numpy(emb.idx_to_vec), np.float64), len(emb),
        [np.asarray(b.numpy(emb[q]), np.float64) for q in QUERIES])


def _embedding_expect(fasttext):
    tokens, vectors = embedding_sample(1, fasttext)
    table = np.concatenate([np.zeros((1, vectors.shape[1])), vectors]).astype(np.float64)
    idx_to_token = ["<unk>", *tokens]
    index = {t: i for i, t in enumerate(idx_to_token)}

    def rows(query):
        if isinstance(query, str):
            return table[index[query]]
        return table[[index.get(t, 0) for t in query]].reshape(len(query), table.shape[1])

    return _embedding_observation(idx_to_token, index, 0, table,
                                  len(idx_to_token), [rows(q) for q in QUERIES])


def _hub_embedding_probe(name):
    """The registered (url, sha1) of DATA_HUB[name]; for glove.6b.50d and wiki.en also
    TokenEmbedding(name) on a generated archive packed as that one (GloVe text, fastText
    .vec), the other two being packed like glove.6b.50d."""
    def probe(b):
        registered = list(b.d2l.DATA_HUB[name])
        if name not in LOADED:
            return [registered]
        return [registered, _embedding_probe(b, name, name == "wiki.en")]
    return probe


def _hub_embedding_expect(name):
    archive, sha1, _ = EMBEDDINGS[name]
    registered = [data_hub.DATA_URL + archive, sha1]
    if name not in LOADED:
        return lambda: [registered]
    return lambda: [registered, _embedding_expect(name == "wiki.en")]


LOADED = ("glove.6b.50d", "wiki.en")
RAGGED = "a 1.0 2.0 3.0\nb 4.0 5.0\nc 6.0 7.0 8.0\n"


BAD_FILES = {"bad.ragged": RAGGED, "bad.word": "a 1.0 2.0\nb 3.0 x\n", "bad.empty": "2 300\n\n"}


def _bad_file_probe(b):
    """TokenEmbedding on a vec.txt with ragged rows, one with a word where a number should
    be, and one holding only a header: the error types and whether they name the file."""
    observed = []
    with support.data_sandbox() as (_, www, url), contextlib.redirect_stdout(io.StringIO()):
        hub = {}
        for name, text in BAD_FILES.items():
            embedding_zip(www / f"{name}.zip", name, text)
            hub[name] = (url + f"{name}.zip", support.sha1(www / f"{name}.zip"))
        with support.patched(data_hub.DATA_HUB, **hub):
            for name in BAD_FILES:
                try:
                    b.d2l.TokenEmbedding(name)
                    observed.append("no error")
                except Exception as error:  # noqa: BLE001  (the type is what is observed)
                    observed.append([type(error).__name__, f"{name}/vec.txt" in str(error),
                                     "TokenEmbedding" in str(error)])
    return observed


ENTRIES += [
    Entry("DATA_HUB['ptb']", "14.3", "",
          "ptb.zip under DATA_URL, sha1 319d85e5...; download_extract gives the folder ptb "
          "holding ptb.{train,valid,test}.txt.",
          probe=_ptb_hub_probe,
          expect=lambda: [[data_hub.DATA_URL + PTB[0], PTB[1]], "ptb",
                          ["ptb.test.txt", "ptb.train.txt", "ptb.valid.txt"], PTB[1]],
          tol=EXACT),
    Entry("read_ptb", "14.3", "read_ptb()",
          "[line.split() for line in ptb.train.txt split at '\\n'] (the empty sentence after "
          "the final newline included): 42069 sentences; Vocab(sentences, min_freq=10) has "
          "6719 tokens (checked on the real archive).",
          probe=_read_ptb_probe, expect=_read_ptb_expect, tol=EXACT),
    Entry("subsampling", "14.3", "subsampling(sentences, vocab)",
          "Tokens become vocab.idx_to_token[vocab[token]] ('<unk>' for rare ones); each "
          "occurrence is kept iff random.uniform(0, 1) < sqrt(1e-4 / count(token) * "
          "total tokens), one draw per token in corpus order, so the same seed keeps the same "
          "tokens (and leaves Python's random in the same state) in every framework and as "
          "the book's loop. Returns the list of token lists. sentences must be a list of "
          "token lists (else ValueError naming sentences).",
          reference=_subsampling_reference, inputs=subsampling_inputs,
          call=_subsampling_call, tol=EXACT,
          rejects=(Reject("one string", lambda b: ("the cat", ReferenceVocab(["a"])),
                          match="sentences"),
                   Reject("flat token list", lambda b: (["a", "b"], ReferenceVocab(["a"])),
                          match="sentences"))),
    Entry("get_centers_and_contexts", "14.3", "get_centers_and_contexts(corpus, "
          "max_window_size)",
          "Sentences of 2+ tokens: every token a centre (in order); one "
          "random.randint(1, max_window_size) per centre; its context the tokens within that "
          "distance in its sentence, itself left out. Same seed, same output (and random "
          "state) in every framework. max_window_size must be a positive int, corpus a list "
          "of token lists (ValueErrors naming them).",
          reference=_seeded(centers_contexts_reference), inputs=centers_inputs,
          call=_centers_call, tol=EXACT,
          rejects=(Reject("max_window_size 0", lambda b: ([[1, 2]], 0),
                          match="max_window_size"),
                   Reject("float max_window_size", lambda b: ([[1, 2]], 2.5),
                          match="max_window_size"),
                   Reject("corpus a string", lambda b: ("ab", 2), match="corpus"))),
    Entry("RandomGenerator", "14.3", "RandomGenerator(sampling_weights)",
          "population 0 ... n-1; draw() returns the next candidate, refilled with "
          "random.choices(population, sampling_weights, k=10000) when used up, so the same "
          "seed gives the same draws in every framework. sampling_weights must be finite, "
          "non-negative and not all zero (ValueError naming sampling_weights). Draws follow "
          "the weights: tests/test_word2vec.py (stated false-alarm rate).",
          probe=_generator_probe, expect=_generator_expect, tol=EXACT,
          rejects=(Reject("no weights", lambda b: ([],), match="sampling_weights"),
                   Reject("all zero", lambda b: ([0, 0.0],), match="sampling_weights"),
                   Reject("negative weight", lambda b: ([1, -1],), match="sampling_weights"),
                   Reject("NaN weight", lambda b: ([1, float("nan")],),
                          match="sampling_weights"))),
    Entry("get_negatives", "14.3", "get_negatives(all_contexts, corpus, K)",
          "Weights count ** 0.75 of count_corpus(corpus) in the Counter's order (first "
          "appearance) and the generator's index taken as the token id — kept from the book "
          "(behaviour.md: Keep; it draws ids with the weight of another token unless ids were "
          "given in order of first appearance), so the same seed gives upstream's negatives. "
          "Per context, draws until len(context) * K ids not in that context. K must be a "
          "non-negative int (ValueError naming K); an empty corpus with contexts to serve, or "
          "a context holding every id, is a ValueError naming corpus / all_contexts (the "
          "book's loop would fail or never end).",
          reference=_seeded(negatives_reference), inputs=negatives_inputs,
          call=_negatives_call, tol=EXACT,
          rejects=(Reject("K -1", lambda b: ([[1]], [[0, 1]], -1), match="K"),
                   Reject("empty corpus", lambda b: ([[1]], [], 2), match="corpus"),
                   Reject("a context holds every id", lambda b: ([[0, 1]], [[0, 1]], 1),
                          match="all_contexts"))),
    Entry("batchify", "14.3", "batchify(data)",
          "data: (center, context, negatives) triples. Returns (centers (B, 1), "
          "contexts_negatives (B, L), masks (B, L), labels (B, L)), L the longest context + "
          "negatives: each row context + negatives + 0 padding, masks 1 on real entries, "
          "labels 1 on the context; dtype M float32, P int64, T int32 (d2l.tensor of ints). "
          "An empty data list is a ValueError naming data.",
          reference=batchify_reference, inputs=batchify_inputs, call=_batchify_call,
          tol=EXACT, rejects=(Reject("empty", lambda b: ([],), match="data"),)),
    Entry("load_data_ptb", "14.3", "load_data_ptb(batch_size, max_window_size, "
          "num_noise_words)",
          "read_ptb -> Vocab(min_freq=10) -> subsampling -> ids -> centres/contexts -> "
          "negatives (the saved functions' draws, seeded through Python's random) -> a "
          "shuffled loader of batchify batches in the framework's loader (Gluon DataLoader, "
          "torch DataLoader, tf.data), each batch gathered with one array slice in the "
          "process (upstream used get_dataloader_workers() worker processes for its "
          "per-example batchify); returns (data_iter, vocab). Checked on a generated "
          "PTB-format zip: the vocabulary, the set of examples, each batch padded to its "
          "own longest row (tests/test_word2vec.py: the real PTB, marked slow).",
          probe=_load_data_ptb_probe, expect=_load_data_ptb_expect, tol=EXACT,
          rejects=(Reject("batch_size 0", lambda b: (0, 5, 5), match="batch_size"),
                   Reject("max_window_size 0", lambda b: (8, 0, 5), match="max_window_size"),
                   Reject("num_noise_words -1", lambda b: (8, 5, -1),
                          match="num_noise_words"))),
    *[Entry(f"DATA_HUB['{name}']", "14.7", "",
            f"{archive} under DATA_URL, sha1 {sha1[:8]}...; the archive holds {folder}/vec.txt "
            f"({'fastText .vec' if name == 'wiki.en' else 'GloVe'} text), read by "
            f"TokenEmbedding('{name}')"
            + (" (checked on a generated archive packed the same way)." if name in LOADED
               else "."),
            probe=_hub_embedding_probe(name), expect=_hub_embedding_expect(name), tol=EXACT)
      for name, (archive, sha1, folder) in EMBEDDINGS.items()],
    Entry("TokenEmbedding", "14.7", "TokenEmbedding(embedding_name)",
          "Reads <folder>/vec.txt of the extracted DATA_HUB archive: 'token v1 ... vd' per "
          "line, lines with fewer than 2 values skipped (fastText's header). idx_to_token "
          "'<unk>' first; idx_to_vec float32 (N, d) with row 0 zeros; unknown_idx 0; "
          "emb[list or tuple] stacks the vectors (unknown -> zeros, [] -> (0, d)), emb[one "
          "token string] is its vector (d,) (upstream would look up each character). "
          "embedding_name must be a registered name (ValueError naming it).",
          probe=lambda b: _embedding_probe(b, "glove.6b.50d", False),
          expect=lambda: _embedding_expect(False), tol=EXACT,
          rejects=(Reject("unknown name", lambda b: ("glove.unknown",),
                          match="embedding_name"),)),
    Entry("TokenEmbedding (bad vector file)", "14.7", "TokenEmbedding(embedding_name)",
          "A vec.txt with ragged rows, with a value that is not a number, or with no vector "
          "is a ValueError naming TokenEmbedding and the file.",
          probe=_bad_file_probe,
          expect=lambda: [["ValueError", True, True]] * 3, tol=EXACT),
]


# --- 14.8-14.10 BERT ---
# BERT models are checked from canonical parameters (`d2l.common.params`; layer order:
# BERTEncoder = positional embedding "positional" (the encoder's own `pos_embedding`, listed
# before its sublayers), token embedding, segment embedding, then 8 layers per encoder block
# as in chapter 10; BERTModel = its encoder, `hidden` dense, MaskLM mlp dense / layernorm /
# dense, NSP dense) against NumPy forward passes, dropout 0, in inference mode. The
# WikiText-2 pipeline is checked against an independent plain-Python reference written from
# behaviour.md (the book's loops, with the random-word fix), on generated text in the real
# wiki.train.tokens format, seeded through Python's `random`.


BERT_TOL = Tol(1e-4, 1e-4)
WIKI_ZIP = "wikitext-2-v1.zip"
WIKI_URL = "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip"
WIKI_SHA1 = "3c914d17d80b1459be871a5039ac23e752a53cbe"
BERT_RESERVED = ["<pad>", "<mask>", "<cls>", "<sep>"]


def ids_dtype(b):
    return "int64" if b.name == "torch" else "int32"


# --- the models, each framework with its own signature --------------------------------------

def bert_layer(b, kind, s):
    """The backend's 'encoder', 'mlm', 'nsp' or 'model' built from sizes `s`, dropout 0."""
    d2l, name = b.d2l, b.name
    V, H, F = s.get("vocab_size"), s["num_hiddens"], s.get("ffn_num_hiddens")
    heads, layers, max_len = s.get("num_heads"), s.get("num_layers"), s.get("max_len")
    if kind == "mlm":
        return d2l.MaskLM(V, H) if name == "mxnet" else d2l.MaskLM(V, H, s["num_inputs"])
    if kind == "nsp":
        return d2l.NextSentencePred() if name == "mxnet" else d2l.NextSentencePred(H)
    if name == "mxnet":
        cls = d2l.BERTEncoder if kind == "encoder" else d2l.BERTModel
        return cls(V, H, F, heads, layers, 0, max_len)
    norm_shape = [H] if name == "torch" else [2]
    sizes = dict(key_size=H, query_size=H, value_size=H)
    if kind == "encoder":
        return d2l.BERTEncoder(V, H, norm_shape, H, F, heads, layers, 0, max_len, **sizes)
    return d2l.BERTModel(V, H, norm_shape, H, F, heads, layers, 0, max_len, **sizes,
                         hid_in_features=H, mlm_in_features=H, nsp_in_features=H)


def build_bert(b, kind, s, params):
    """bert_layer on the backend's device with canonical `params` loaded."""
    if b.name == "tensorflow":
        with b.fw.device(b.device):
            layer = bert_layer(b, kind, s)
    else:
        layer = bert_layer(b, kind, s)
        if b.name == "mxnet":
            layer.initialize(ctx=b.device)
        else:
            layer.to(b.device)
    b.d2l.import_params(layer, params)
    return layer


def bert_params(rng, s, kind="model"):
    """Random canonical parameters of a BERTEncoder ('encoder') or BERTModel ('model')."""
    H, V = s["num_hiddens"], s["vocab_size"]
    params = {"0.weight": _normal(rng, 1, s["max_len"], H), "1.weight": _normal(rng, V, H),
              "2.weight": _normal(rng, 2, H)}
    sizes = dict(s, bias=True)
    for i in range(s["num_layers"]):
        params.update(_block_params(rng, sizes, 3 + 8 * i))
    if kind == "encoder":
        return params
    k = 3 + 8 * s["num_layers"]
    params.update({f"{k}.weight": _normal(rng, H, H), f"{k}.bias": _normal(rng, H)})
    params.update(_mlm_params(rng, H, H, V, k + 1))
    params.update({f"{k + 4}.weight": _normal(rng, H, 2), f"{k + 4}.bias": _normal(rng, 2)})
    return params


def _mlm_params(rng, num_inputs, H, V, k=0):
    return {f"{k}.weight": _normal(rng, num_inputs, H), f"{k}.bias": _normal(rng, H),
            **_layernorm_params(rng, H, k + 1),
            f"{k + 2}.weight": _normal(rng, H, V), f"{k + 2}.bias": _normal(rng, V)}


# --- NumPy references ---------------------------------------------------------------------

def bert_encoder_reference(params, tokens, segments, valid_lens, num_heads, num_layers):
    """token + segment + positional embeddings, then the encoder blocks (layers 3 + 8i..)."""
    X = (params["1.weight"][tokens] + params["2.weight"][segments]
         + params["0.weight"][:, :np.shape(tokens)[1]]).astype(np.float64)
    for i in range(num_layers):
        X, _ = reference.encoder_block(params, X, valid_lens, num_heads, 3 + 8 * i)
    return X


def mask_lm_reference(params, X, pred_positions, k=0):
    """mlp(X[b, pred_positions[b, p]]): dense + ReLU, layer norm, dense (layers k..k+2)."""
    X = np.asarray(X, np.float64)
    gathered = np.stack([X[i, pred_positions[i]] for i in range(len(X))])
    hidden = np.maximum(reference.dense(params, k, gathered), 0)
    hidden = reference.layer_norm(hidden, params[f"{k + 1}.gamma"], params[f"{k + 1}.beta"])
    return reference.dense(params, k + 2, hidden)


def bert_model_reference(params, tokens, segments, valid_lens, pred_positions, num_heads,
                         num_layers):
    """[encoded_X, mlm_Y_hat (or None), nsp_Y_hat]."""
    X = bert_encoder_reference(params, tokens, segments, valid_lens, num_heads, num_layers)
    k = 3 + 8 * num_layers
    hidden = np.tanh(reference.dense(params, k, X[:, 0]))
    mlm = None if pred_positions is None else mask_lm_reference(params, X, pred_positions,
                                                                k + 1)
    return [X, mlm, reference.dense(params, k + 4, hidden)]


def cross_entropy(logits, labels):
    """Per-example softmax cross-entropy of logits (n, c) and int labels (n,), float64."""
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -log_probs[np.arange(len(labels)), np.asarray(labels, int)]


# --- hypothesis draws ---------------------------------------------------------------------

@st.composite
def _bert_case(draw, kind):
    heads = draw(st.integers(1, 2))
    s = {"num_heads": heads, "num_hiddens": heads * draw(st.sampled_from([2, 4])),
         "ffn_num_hiddens": draw(st.integers(1, 6)), "vocab_size": draw(st.integers(2, 9)),
         "num_layers": draw(st.integers(1, 2)), "max_len": draw(st.integers(4, 8))}
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, s["max_len"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    lens = draw(st.none() | st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
    num_preds = draw(st.integers(1, 3))
    return ({"kind": kind, "sizes": s, "params": bert_params(rng, s, kind),
             "tokens": rng.integers(0, s["vocab_size"], (batch, steps)),
             "segments": rng.integers(0, 2, (batch, steps)),
             "valid_lens": None if lens is None else np.asarray(lens, np.float32),
             "pred_positions": draw(st.none()) if kind == "encoder" else
             rng.integers(0, steps, (batch, num_preds))},)


def _bert_inputs(b, case):
    lens = case["valid_lens"]
    return (b.tensor(case["tokens"], ids_dtype(b)), b.tensor(case["segments"], ids_dtype(b)),
            None if lens is None else b.tensor(lens, "float32"))


def _bert_call(b, case):
    layer = build_bert(b, case["kind"], case["sizes"], case["params"])
    args = _bert_inputs(b, case)
    if case["kind"] == "encoder":
        return b.numpy(run(b, layer, *args))
    out = run(b, layer, *args, b.tensor(case["pred_positions"], ids_dtype(b)))
    return [None if o is None else b.numpy(o) for o in out]


def _bert_reference(case):
    s = case["sizes"]
    args = (case["params"], case["tokens"], case["segments"], case["valid_lens"])
    if case["kind"] == "encoder":
        return bert_encoder_reference(*args, s["num_heads"], s["num_layers"])
    return bert_model_reference(*args, case["pred_positions"], s["num_heads"], s["num_layers"])


@st.composite
def _head_case(draw, kind):
    batch, steps, h = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    s = {"num_hiddens": draw(st.integers(1, 5)), "vocab_size": draw(st.integers(2, 7)),
         "num_inputs": h}
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    if kind == "nsp":
        s["num_hiddens"] = h
        return ({"kind": kind, "sizes": s, "X": _normal(rng, batch, h, scale=1.0),
                 "params": {"0.weight": _normal(rng, h, 2), "0.bias": _normal(rng, 2)}},)
    return ({"kind": kind, "sizes": s, "X": _normal(rng, batch, steps, h, scale=1.0),
             "params": _mlm_params(rng, h, s["num_hiddens"], s["vocab_size"]),
             "pred_positions": rng.integers(0, steps, (batch, draw(st.integers(1, 4))))},)


def _head_call(b, case):
    layer = build_bert(b, case["kind"], case["sizes"], case["params"])
    if case["kind"] == "nsp":
        return b.numpy(run(b, layer, b.tensor(case["X"])))
    return b.numpy(run(b, layer, b.tensor(case["X"]),
                       b.tensor(case["pred_positions"], ids_dtype(b))))


def _head_reference(case):
    if case["kind"] == "nsp":
        return reference.dense(case["params"], 0, case["X"])
    return mask_lm_reference(case["params"], case["X"], case["pred_positions"])


SMALL_BERT = {"num_heads": 2, "num_hiddens": 4, "ffn_num_hiddens": 6, "vocab_size": 7,
              "num_layers": 1, "max_len": 6}


def _encoder_bad_ids(b):
    layer = build_bert(b, "encoder", SMALL_BERT, bert_params(np.random.default_rng(0),
                                                             SMALL_BERT, "encoder"))
    segments = b.tensor(np.zeros((2, 3)), ids_dtype(b))
    return rejected_token_ids("BERTEncoder", "tokens", lambda X: run(
        b, layer, b.tensor(X, ids_dtype(b)), segments, None), SMALL_BERT["vocab_size"])


def _positional_gradient_probe(b):
    """d(sum(encoder output · C))/d pos_embedding for a (2, 3) batch: the full (1, 6, 4)
    gradient (positions 3.. are unused: exactly 0)."""
    rng = np.random.default_rng(5)
    params = bert_params(rng, SMALL_BERT, "encoder")
    layer = build_bert(b, "encoder", SMALL_BERT, params)
    tokens, segments = np.array([[1, 2, 3], [4, 5, 6]]), np.array([[0, 0, 1], [0, 1, 1]])
    C = b.tensor(_normal(np.random.default_rng(6), 2, 3, 4, scale=1.0))
    args = (b.tensor(tokens, ids_dtype(b)), b.tensor(segments, ids_dtype(b)),
            b.tensor(np.array([3, 2], np.float32)))
    fw = b.fw
    if b.name == "torch":
        (layer(*args) * C).sum().backward()
        return b.numpy(layer.pos_embedding.grad)
    if b.name == "mxnet":
        with fw.autograd.record():
            out = (layer(*args) * C).sum()
        out.backward()
        return b.numpy(layer.pos_embedding.grad())
    with fw.GradientTape() as tape:
        out = fw.reduce_sum(layer(*args, training=False) * C)
    return b.numpy(tape.gradient(out, layer.pos_embedding))


def _positional_gradient_expect():
    """Central differences of the float64 reference."""
    rng = np.random.default_rng(5)
    params = {k: v.astype(np.float64) for k, v in bert_params(rng, SMALL_BERT,
                                                               "encoder").items()}
    C = _normal(np.random.default_rng(6), 2, 3, 4, scale=1.0).astype(np.float64)
    tokens, segments = np.array([[1, 2, 3], [4, 5, 6]]), np.array([[0, 0, 1], [0, 1, 1]])

    def f(pos):
        p = dict(params, **{"0.weight": pos})
        return float((bert_encoder_reference(p, tokens, segments, np.array([3.0, 2.0]), 2, 1)
                      * C).sum())

    grad, eps = np.zeros_like(params["0.weight"]), 1e-6
    for idx in np.ndindex(1, 3, 4):
        up, down = params["0.weight"].copy(), params["0.weight"].copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (f(up) - f(down)) / (2 * eps)
    return grad


# --- the WikiText-2 pipeline: generated text and an independent reference ---------------

def wiki_text(num_paragraphs, seed=0, vocab_size=400):
    """Text in the format of WikiText-2's wiki.train.tokens: ' = Title = ' headings, ' '
    blank lines, and paragraph lines of space-separated tokens (Zipf-distributed words,
    '@-@', '@,@', ',', '<unk>', numbers) whose sentences end in ' .', each line starting
    with a space; some paragraphs have a single sentence (dropped by _read_wiki)."""
    rng = np.random.default_rng(seed)
    words = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), rng.integers(2, 9)))
             for _ in range(vocab_size)]
    extras = ["@-@", "@,@", ",", "<unk>", "1", "2011", "the", "of", "and"]
    weights = 1 / np.arange(1, vocab_size + 1)
    weights /= weights.sum()
    lines = []
    for p in range(num_paragraphs):
        if p % 5 == 0:
            lines += [" \n", f" = {words[p % vocab_size].title()} {words[(p * 7) % vocab_size]}"
                             f" = \n", " \n"]
        sentences = []
        for _ in range(int(rng.integers(1, 7))):
            n = int(rng.integers(3, 16))
            tokens = [words[i] for i in rng.choice(vocab_size, n, p=weights)]
            for j in rng.integers(0, n, int(rng.integers(0, 3))):
                tokens[j] = extras[int(rng.integers(len(extras)))]
            tokens[0] = tokens[0].title()
            sentences.append(" ".join(tokens) + " .")
        lines.append(" " + " ".join(sentences) + " \n")
    return "".join(lines)


def wiki_zip(path, text):
    """Pack `text` as the real archive is: wikitext-2/wiki.{train,valid,test}.tokens."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("wikitext-2/", "")
        archive.writestr("wikitext-2/wiki.train.tokens", text)
        archive.writestr("wikitext-2/wiki.valid.tokens", text[:2000])
        archive.writestr("wikitext-2/wiki.test.tokens", text[:2000])


@contextlib.contextmanager
def wiki_served(text):
    """A sandbox serving `text` as wikitext-2-v1.zip, DATA_HUB['wikitext-2'] pointed at it;
    yields the cache folder."""
    from d2l.common import data_hub

    with support.data_sandbox() as (cache, www, url), \
            contextlib.redirect_stdout(io.StringIO()):
        wiki_zip(www / WIKI_ZIP, text)
        entry = (url + WIKI_ZIP, support.sha1(www / WIKI_ZIP))
        with support.patched(data_hub.DATA_HUB, **{"wikitext-2": entry}):
            yield cache


def read_wiki_reference(text):
    """_read_wiki before its shuffle: lines with >= 2 ' . ' parts, stripped, lower-cased,
    split on ' . '."""
    return [line.strip().lower().split(" . ") for line in text.splitlines(keepends=True)
            if len(line.split(" . ")) >= 2]


class VocabReference:
    """'<unk>', the reserved tokens, then tokens with count >= min_freq by count descending,
    ties in first-appearance order."""

    def __init__(self, sentences, min_freq, reserved):
        counts = collections.Counter(t for sentence in sentences for t in sentence)
        order = {t: i for i, t in reversed(list(enumerate(
            t for sentence in sentences for t in sentence)))}
        frequent = sorted((t for t, c in counts.items() if c >= min_freq),
                          key=lambda t: (-counts[t], order[t]))
        special = {"<unk>", *reserved}
        self.idx_to_token = ["<unk>"] + reserved + [t for t in frequent if t not in special]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def ids(self, tokens):
        return [self.token_to_idx.get(t, 0) for t in tokens]


def nsp_reference(paragraph, paragraphs, max_len):
    """The book's loop: one next-sentence draw per pair, fitting or not."""
    out = []
    for i in range(len(paragraph) - 1):
        a, b = paragraph[i], paragraph[i + 1]
        is_next = True
        if random.random() >= 0.5:
            b, is_next = random.choice(random.choice(paragraphs)), False
        if len(a) + len(b) + 3 > max_len:
            continue
        tokens = ["<cls>"] + a + ["<sep>"] + b + ["<sep>"]
        out.append((tokens, [0] * (len(a) + 2) + [1] * (len(b) + 1), is_next))
    return out


def replace_reference(tokens, candidates, num_preds, idx_to_token):
    """The book's loop with the fix: the 10% case inserts a random token string."""
    new, pairs = list(tokens), []
    random.shuffle(candidates)
    for position in candidates:
        if len(pairs) >= num_preds:
            break
        if random.random() < 0.8:
            token = "<mask>"
        elif random.random() < 0.5:
            token = tokens[position]
        else:
            token = idx_to_token[random.randint(0, len(idx_to_token) - 1)]
        new[position] = token
        pairs.append((position, tokens[position]))
    return new, pairs


def mlm_reference(tokens, vocab):
    candidates = [i for i, t in enumerate(tokens) if t not in ("<cls>", "<sep>")]
    num_preds = max(1, round(len(tokens) * 0.15))
    new, pairs = replace_reference(tokens, candidates, num_preds, vocab.idx_to_token)
    pairs = sorted(pairs, key=lambda pair: pair[0])
    return vocab.ids(new), [p for p, _ in pairs], vocab.ids([t for _, t in pairs])


def pad_reference(examples, max_len, pad_id):
    """Seven lists of per-example NumPy values, as the book builds them."""
    num_preds = round(max_len * 0.15)
    out = [[] for _ in range(7)]
    for token_ids, positions, labels, segments, is_next in examples:
        out[0].append(np.array(token_ids + [pad_id] * (max_len - len(token_ids))))
        out[1].append(np.array(segments + [0] * (max_len - len(segments))))
        out[2].append(np.array(len(token_ids), np.float32))
        out[3].append(np.array(positions + [0] * (num_preds - len(positions))))
        out[4].append(np.array([1.0] * len(labels) + [0.0] * (num_preds - len(labels)),
                               np.float32))
        out[5].append(np.array(labels + [0] * (num_preds - len(labels))))
        out[6].append(np.array(int(is_next)))
    return out


def dataset_reference(paragraphs, max_len):
    """(vocab, seven lists) of _WikiTextDataset(paragraphs, max_len), random state as is."""
    paragraphs = [[sentence.split() for sentence in p] for p in paragraphs]
    sentences = [s for p in paragraphs for s in p]
    vocab = VocabReference(sentences, 5, BERT_RESERVED)
    examples = [e for p in paragraphs for e in nsp_reference(p, paragraphs, max_len)]
    examples = [(*mlm_reference(tokens, vocab), segments, is_next)
                for tokens, segments, is_next in examples]
    return vocab, pad_reference(examples, max_len, vocab.token_to_idx["<pad>"])


# --- probes of the pipeline ---------------------------------------------------------------

WIKI_SMALL = wiki_text(40, seed=3)


def _read_wiki_probe(b):
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "wiki.train.tokens"), "w", encoding="utf-8") as f:
            f.write(WIKI_SMALL)
        random.seed(11)
        return b.d2l._read_wiki(folder)


def _read_wiki_expect():
    paragraphs = read_wiki_reference(WIKI_SMALL)
    random.seed(11)
    random.shuffle(paragraphs)
    return paragraphs


PARAGRAPHS = [[s.split() for s in p] for p in read_wiki_reference(WIKI_SMALL)]


def _next_sentence_probe(b):
    random.seed(2)
    return [list(b.d2l._get_next_sentence(["a", "b"], ["c"], PARAGRAPHS)) for _ in range(40)]


def _next_sentence_expect():
    random.seed(2)
    out = []
    for _ in range(40):
        if random.random() < 0.5:
            out.append([["a", "b"], ["c"], True])
        else:
            out.append([["a", "b"], random.choice(random.choice(PARAGRAPHS)), False])
    return out


def _nsp_probe(b):
    random.seed(4)
    return [[list(e) for e in b.d2l._get_nsp_data_from_paragraph(p, PARAGRAPHS, None, 24)]
            for p in PARAGRAPHS[:12]]


def _nsp_expect():
    random.seed(4)
    return [[list(e) for e in nsp_reference(p, PARAGRAPHS, 24)] for p in PARAGRAPHS[:12]]


SMALL_VOCAB_TOKENS = [s for p in PARAGRAPHS for s in p]


def _small_vocab(b):
    return b.d2l.Vocab(SMALL_VOCAB_TOKENS, min_freq=5, reserved_tokens=BERT_RESERVED)


def _replace_probe(b):
    """Many replacements: (new tokens, pairs, the shuffled candidate list) and the share of
    random-word replacements that are vocabulary strings."""
    vocab, out = _small_vocab(b), []
    random.seed(8)
    for tokens in SMALL_VOCAB_TOKENS[:30]:
        candidates = list(range(len(tokens)))
        new, pairs = b.d2l._replace_mlm_tokens(tokens, candidates, 3, vocab)
        out.append([new, [list(p) for p in pairs], candidates])
    return out


def _replace_expect():
    vocab = VocabReference(SMALL_VOCAB_TOKENS, 5, BERT_RESERVED)
    random.seed(8)
    out = []
    for tokens in SMALL_VOCAB_TOKENS[:30]:
        candidates = list(range(len(tokens)))
        new, pairs = replace_reference(tokens, candidates, 3, vocab.idx_to_token)
        out.append([new, [list(p) for p in pairs], candidates])
    return out


def _mlm_probe(b):
    vocab = _small_vocab(b)
    random.seed(9)
    out = []
    for sentence in SMALL_VOCAB_TOKENS[:30]:
        tokens = ["<cls>"] + sentence + ["<sep>"]
        out.append([list(x) for x in b.d2l._get_mlm_data_from_tokens(tokens, vocab)])
    return out


def _mlm_expect():
    vocab = VocabReference(SMALL_VOCAB_TOKENS, 5, BERT_RESERVED)
    random.seed(9)
    return [[list(x) for x in mlm_reference(["<cls>"] + s + ["<sep>"], vocab)]
            for s in SMALL_VOCAB_TOKENS[:30]]


@st.composite
def _pad_inputs(draw):
    """(examples, max_len, pad id): up to 4 examples that fit max_len."""
    max_len = draw(st.integers(4, 20))
    num_preds = round(max_len * 0.15)
    examples = []
    for _ in range(draw(st.integers(0, 4))):
        n = draw(st.integers(1, max_len))
        p = draw(st.integers(0, num_preds))
        examples.append((draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)),
                         sorted(draw(st.lists(st.integers(0, n - 1), min_size=p, max_size=p))),
                         draw(st.lists(st.integers(0, 30), min_size=p, max_size=p)),
                         draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
                         draw(st.booleans())))
    return examples, max_len, draw(st.integers(1, 4))


class _PadVocab:
    def __init__(self, pad_id):
        self.pad_id = pad_id

    def __getitem__(self, token):
        return self.pad_id if token == "<pad>" else 0


def _pad_call(b, examples, max_len, pad_id):
    out = b.d2l._pad_bert_inputs(examples, max_len, _PadVocab(pad_id))
    return [[np.asarray(b.numpy(t), np.float64) for t in column] for column in out]


def _pad_reference(examples, max_len, pad_id):
    return [[np.asarray(v, np.float64) for v in column]
            for column in pad_reference(examples, max_len, pad_id)]


WIKI_MAX_LEN = 32


def _dataset_observation(b, dataset):
    rows = [[b.numpy(t) for t in dataset[i]] for i in range(len(dataset))]
    return [len(dataset), dataset.vocab.idx_to_token,
            [np.stack([np.asarray(r[c], np.float64) for r in rows]) for c in range(7)]]


def _dataset_probe(b):
    random.seed(21)
    paragraphs = read_wiki_reference(WIKI_SMALL)
    return _dataset_observation(b, b.d2l._WikiTextDataset(paragraphs, WIKI_MAX_LEN))


def _dataset_expect():
    random.seed(21)
    vocab, columns = dataset_reference(read_wiki_reference(WIKI_SMALL), WIKI_MAX_LEN)
    return [len(columns[0]), vocab.idx_to_token,
            [np.stack(column).astype(np.float64) for column in columns]]


def _batches(b, train_iter):
    """Every batch of a loader as seven NumPy arrays."""
    return [[np.asarray(b.numpy(t)) for t in batch] for batch in train_iter]


def _load_wiki_probe(b):
    """Rows of one epoch sorted by their token ids (the loader shuffles), the batch sizes,
    the dtypes and the vocabulary length."""
    with wiki_served(WIKI_SMALL):
        random.seed(21)
        train_iter, vocab = b.d2l.load_data_wiki(16, WIKI_MAX_LEN)
        batches = _batches(b, train_iter)
    columns = [np.concatenate([batch[c] for batch in batches]) for c in range(7)]
    order = np.lexsort(columns[0].T[::-1])
    return [len(vocab), [len(batch[0]) for batch in batches][:-1],
            [np.asarray(c[order], np.float64) for c in columns]]


def _load_wiki_expect():
    random.seed(21)
    paragraphs = read_wiki_reference(WIKI_SMALL)
    random.shuffle(paragraphs)
    vocab, columns = dataset_reference(paragraphs, WIKI_MAX_LEN)
    arrays = [np.stack(c).astype(np.float64) for c in columns]
    order = np.lexsort(arrays[0].T[::-1])
    n = len(arrays[0])
    return [len(vocab), [16] * ((n - 1) // 16), [a[order] for a in arrays]]


def _wiki_hub_probe(b):
    registered = list(b.d2l.DATA_HUB["wikitext-2"])
    with wiki_served(WIKI_SMALL) as cache:
        folder = b.d2l.download_extract("wikitext-2", "wikitext-2")
        return [os.path.relpath(folder, cache), sorted(os.listdir(folder)), registered]


# --- 14.10 the loss -----------------------------------------------------------------------

LOSS_BERT = {"num_heads": 2, "num_hiddens": 8, "ffn_num_hiddens": 12, "vocab_size": 11,
             "num_layers": 2, "max_len": 10}


def loss_batch(seed=0):
    """A padded batch of 4: tokens/segments (4, 10), valid lengths, 3 prediction slots with
    1-3 real ones (weights 0 for padding), MLM labels and NSP labels."""
    rng = np.random.default_rng(seed)
    lens = np.array([10, 7, 5, 9])
    tokens = rng.integers(5, 11, (4, 10))
    tokens[np.arange(10) >= lens[:, None]] = 1
    segments = (np.arange(10) >= lens[:, None] // 2).astype(int) * (np.arange(10) < lens[:, None])
    positions = np.array([[1, 4, 7], [2, 3, 0], [1, 0, 0], [5, 6, 2]])
    weights = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1]], np.float32)
    labels = rng.integers(5, 11, (4, 3)) * weights.astype(int)
    nsp = np.array([1, 0, 0, 1])
    return tokens, segments, lens.astype(np.float32), positions, weights, labels, nsp


def _batch_tensors(b, batch):
    tokens, segments, lens, positions, weights, labels, nsp = batch
    ids = ids_dtype(b)
    nsp_dtype = {"mxnet": "bool", "torch": "int64", "tensorflow": "int32"}[b.name]
    return (b.tensor(tokens, ids), b.tensor(segments, ids), b.tensor(lens, "float32"),
            b.tensor(positions, ids), b.tensor(weights, "float32"), b.tensor(labels, ids),
            b.tensor(nsp, nsp_dtype))


def book_loss(b):
    """The loss object the book passes (TensorFlow: sparse CE from logits)."""
    if b.name == "mxnet":
        return b.fw.gluon.loss.SoftmaxCELoss()
    if b.name == "torch":
        return b.fw.nn.CrossEntropyLoss()
    return b.fw.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def batch_loss(b, net, batch, vocab_size=LOSS_BERT["vocab_size"]):
    """[mlm, nsp, total] of `_get_batch_loss_bert` on one batch (MXNet: one shard)."""
    tensors = _batch_tensors(b, batch)
    V = vocab_size
    if b.name == "mxnet":
        out = b.d2l._get_batch_loss_bert(net, book_loss(b), V, *([t] for t in tensors))
        return [o[0] for o in out]
    return list(b.d2l._get_batch_loss_bert(net, book_loss(b), V, *tensors))


def _loss_probe(b):
    net = build_bert(b, "model", LOSS_BERT, bert_params(np.random.default_rng(1), LOSS_BERT))
    return [float(b.numpy(x)) for x in batch_loss(b, net, loss_batch())]


def _loss_expect():
    params = bert_params(np.random.default_rng(1), LOSS_BERT)
    tokens, segments, lens, positions, weights, labels, nsp = loss_batch()
    _, mlm, nsp_hat = bert_model_reference(params, tokens, segments, lens, positions, 2, 2)
    per_token = cross_entropy(mlm.reshape(-1, LOSS_BERT["vocab_size"]), labels.reshape(-1))
    mlm_l = (per_token * weights.reshape(-1)).sum() / (weights.sum() + 1e-8)
    nsp_l = cross_entropy(nsp_hat, nsp).mean()
    return [mlm_l, nsp_l, mlm_l + nsp_l]


TRAIN_STEPS, TRAIN_LR = 6, 0.2


def train_steps(b, net, batches, lr, steps, vocab_size=LOSS_BERT["vocab_size"]):
    """Plain SGD on the total loss of `_get_batch_loss_bert`, cycling through `batches`;
    returns [[mlm, nsp] per step]."""
    fw, history = b.fw, []
    if b.name == "torch":
        optimizer = fw.optim.SGD(net.parameters(), lr=lr)
    elif b.name == "mxnet":
        trainer = fw.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    for step in range(steps):
        batch = batches[step % len(batches)]
        if b.name == "torch":
            optimizer.zero_grad()
            mlm, nsp, total = batch_loss(b, net, batch, vocab_size)
            total.backward()
            optimizer.step()
        elif b.name == "mxnet":
            with fw.autograd.record():
                mlm, nsp, total = batch_loss(b, net, batch, vocab_size)
            total.backward()
            trainer.step(1)
        else:
            with fw.GradientTape() as tape:
                mlm, nsp, total = batch_loss(b, net, batch, vocab_size)
            variables = net.trainable_variables
            for v, g in zip(variables, tape.gradient(total, variables)):
                v.assign_sub(lr * fw.convert_to_tensor(g))  # embeddings: IndexedSlices
        history.append([float(b.numpy(mlm)), float(b.numpy(nsp))])
    return history


def _training_probe(b):
    """The book's small-BERT shape in miniature, from canonical weights: both losses fall."""
    net = build_bert(b, "model", LOSS_BERT, bert_params(np.random.default_rng(1), LOSS_BERT))
    history = train_steps(b, net, [loss_batch(0), loss_batch(1)], TRAIN_LR, TRAIN_STEPS)
    first, last = history[:2], history[-2:]
    assert sum(h[0] for h in last) < sum(h[0] for h in first), history
    assert sum(h[1] for h in last) < sum(h[1] for h in first), history
    return history


# --- bad input ----------------------------------------------------------------------------

def _too_short(b):
    return (read_wiki_reference(WIKI_SMALL), 5)


ENTRIES += [
    Entry("get_tokens_and_segments", "14.8", "get_tokens_and_segments(tokens_a, tokens_b=None)",
          "['<cls>'] + tokens_a + ['<sep>'] (+ tokens_b + ['<sep>']); segments 0 for the first "
          "len(tokens_a) + 2 positions, 1 for the next len(tokens_b) + 1. Returns two lists.",
          reference=lambda a, b: [["<cls>", *a, "<sep>", *(b + ["<sep>"] if b is not None
                                                          else [])],
                                  [0] * (len(a) + 2) + ([1] * (len(b) + 1) if b is not None
                                                        else [])],
          inputs=lambda: st.tuples(st.lists(st.sampled_from(["a", "b", "cc"]), max_size=4),
                                   st.none() | st.lists(st.sampled_from(["x", "y"]),
                                                        max_size=4)),
          call=lambda b, a, t: [list(x) for x in b.d2l.get_tokens_and_segments(a, t)],
          tol=EXACT),
    Entry("BERTEncoder", "14.8",
          "M BERTEncoder(vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers, "
          "dropout, max_len=1000) | P/T BERTEncoder(vocab_size, num_hiddens, norm_shape, "
          "ffn_num_input, ffn_num_hiddens, num_heads, num_layers, dropout, max_len=1000, "
          "key_size=768, query_size=768, value_size=768)",
          "token_embedding(tokens) + segment_embedding(segments) + pos_embedding[:, :steps] "
          "(a learnable (1, max_len, num_hiddens) parameter), then num_layers EncoderBlocks "
          "with bias=True; (batch, steps) ids -> (batch, steps, num_hiddens). Canonical "
          "layers: positional, token embedding, segment embedding, 8 per block. Fix (P): "
          "upstream added pos_embedding.data, so the positional embedding never learned; it "
          "receives gradients in all three (the positional-gradient entry).",
          reference=_bert_reference, inputs=lambda: _bert_case("encoder"), call=_bert_call,
          tol=BERT_TOL, max_examples=8),
    Entry("BERTEncoder (bad token ids)", "14.8", "",
          "Token ids outside [0, vocab_size) raise ValueError naming BERTEncoder and tokens.",
          probe=_encoder_bad_ids, expect=lambda: REJECTED_TOKEN_IDS, tol=EXACT),
    Entry("BERTEncoder (positional gradient)", "14.8", "",
          "The gradient reaching pos_embedding equals the reference's central differences "
          "at the used positions and is 0 beyond them.",
          probe=_positional_gradient_probe, expect=_positional_gradient_expect,
          tol=Tol(1e-3, 1e-4)),
    Entry("MaskLM", "14.8",
          "M MaskLM(vocab_size, num_hiddens) | P/T MaskLM(vocab_size, num_hiddens, "
          "num_inputs=768)",
          "X[b, pred_positions[b, p]] gathered into (batch, num_preds, h), then mlp = dense "
          "num_hiddens, ReLU, LayerNorm, dense vocab_size.",
          reference=_head_reference, inputs=lambda: _head_case("mlm"), call=_head_call,
          tol=BERT_TOL, max_examples=12),
    Entry("NextSentencePred", "14.8", "M NextSentencePred() | P/T NextSentencePred(num_inputs)",
          "One dense layer with 2 outputs: (batch, h) -> (batch, 2) (attribute `output`).",
          reference=_head_reference, inputs=lambda: _head_case("nsp"), call=_head_call,
          tol=BERT_TOL),
    Entry("BERTModel", "14.8",
          "M BERTModel(vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers, "
          "dropout, max_len=1000) | P/T BERTModel(vocab_size, num_hiddens, norm_shape, "
          "ffn_num_input, ffn_num_hiddens, num_heads, num_layers, dropout, max_len=1000, "
          "key_size=768, query_size=768, value_size=768, hid_in_features=768, "
          "mlm_in_features=768, nsp_in_features=768)",
          "(encoded_X, mlm_Y_hat (None without pred_positions), nsp_Y_hat): encoder, MLM head "
          "on the prediction positions, NSP head on tanh(dense(encoded_X[:, 0])). Canonical "
          "layers: the encoder's, hidden, the MLM mlp's three, NSP's dense.",
          reference=_bert_reference, inputs=lambda: _bert_case("model"), call=_bert_call,
          tol=BERT_TOL, max_examples=8),
    Entry("DATA_HUB['wikitext-2']", "14.9", "",
          "wikitext-2-v1.zip from research.metamind.io, sha1 3c914d17...; download_extract("
          "'wikitext-2', 'wikitext-2') gives the folder holding wiki.{train,valid,test}.tokens "
          "(checked on a generated archive packed as the real one).",
          probe=_wiki_hub_probe,
          expect=lambda: ["wikitext-2", ["wiki.test.tokens", "wiki.train.tokens",
                                         "wiki.valid.tokens"], [WIKI_URL, WIKI_SHA1]],
          tol=EXACT),
    Entry("_read_wiki", "14.9", "_read_wiki(data_dir)",
          "Lines of wiki.train.tokens with >= 2 ' . '-separated parts, stripped, lower-cased, "
          "split on ' . ', then random.shuffle.",
          probe=_read_wiki_probe, expect=_read_wiki_expect, tol=EXACT),
    Entry("_get_next_sentence", "14.9", "_get_next_sentence(sentence, next_sentence, paragraphs)",
          "random.random() < 0.5: (sentence, next_sentence, True); else a "
          "random.choice(random.choice(paragraphs)) and False.",
          probe=_next_sentence_probe, expect=_next_sentence_expect, tol=EXACT),
    Entry("_get_nsp_data_from_paragraph", "14.9",
          "_get_nsp_data_from_paragraph(paragraph, paragraphs, vocab, max_len)",
          "One next-sentence draw per consecutive pair; pairs longer than max_len - 3 are "
          "skipped after their draw; (tokens, segments, is_next) from get_tokens_and_segments.",
          probe=_nsp_probe, expect=_nsp_expect, tol=EXACT,
          rejects=(Reject("empty paragraphs", lambda b: ([["a"], ["b"]], [], None, 10),
                          match="paragraphs"),)),
    Entry("_replace_mlm_tokens", "14.9",
          "_replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab)",
          "Shuffles the candidates in place, then for the first num_mlm_preds: '<mask>' "
          "(random() < 0.8), else keep (random() < 0.5), else a random vocabulary token "
          "string. Fix: upstream inserted the random id itself (mapped to '<unk>' later).",
          probe=_replace_probe, expect=_replace_expect, tol=EXACT),
    Entry("_get_mlm_data_from_tokens", "14.9", "_get_mlm_data_from_tokens(tokens, vocab)",
          "Candidates = positions not '<cls>'/'<sep>'; max(1, round(0.15 len)) predictions; "
          "(vocab ids of the new tokens, sorted positions, label ids).",
          probe=_mlm_probe, expect=_mlm_expect, tol=EXACT),
    Entry("_pad_bert_inputs", "14.9", "_pad_bert_inputs(examples, max_len, vocab)",
          "Seven lists: ids padded with vocab['<pad>'] to max_len, segments padded with 0, "
          "float32 valid lengths, positions padded with 0 to round(0.15 max_len), weights 1 "
          "real / 0 padding, labels padded with 0, NSP labels. dtypes: M int32 / bool NSP, "
          "P int64, T int32; valid lengths and weights float32.",
          reference=_pad_reference, inputs=_pad_inputs, call=_pad_call, tol=EXACT),
    Entry("_WikiTextDataset", "14.9", "_WikiTextDataset(paragraphs, max_len)",
          "Vocab(min_freq=5, reserved <pad> <mask> <cls> <sep>), NSP pairs of every paragraph, "
          "then MLM data of every example, then padding; dataset[i] is the 7-tuple. The same "
          "seed gives the same examples in every framework.",
          probe=_dataset_probe, expect=_dataset_expect, tol=EXACT,
          rejects=(Reject("no paragraphs", lambda b: ([], 64), match="paragraphs"),
                   Reject("max_len below the shortest pair", _too_short, match="max_len"))),
    Entry("load_data_wiki", "14.9", "load_data_wiki(batch_size, max_len)",
          "download_extract('wikitext-2', 'wikitext-2'), _read_wiki, _WikiTextDataset, "
          "shuffled minibatches; returns (train_iter, vocab). One epoch holds every example "
          "once.",
          probe=_load_wiki_probe, expect=_load_wiki_expect, tol=EXACT),
    Entry("_get_batch_loss_bert", "14.10",
          "M (net, loss, vocab_size, *_shards) -> three lists | P/T (net, loss, vocab_size, "
          "tokens_X, segments_X, valid_lens_x, pred_positions_X, mlm_weights_X, mlm_Y, nsp_y)",
          "MLM loss = Σ(CE · weight) / (Σ weights + 1e-8) (the mean over real prediction "
          "positions), NSP loss = batch mean CE, total = their sum. Fix (P): upstream's "
          "mean-reduced CrossEntropyLoss ignored the padding weights.",
          probe=_loss_probe, expect=_loss_expect, tol=Tol(1e-4, 1e-5)),
    Entry("_get_batch_loss_bert (training)", "14.10", "",
          f"{TRAIN_STEPS} SGD steps (lr {TRAIN_LR}) of a small BERT from the same canonical "
          "weights on two padded batches: both losses fall, and the trajectories agree "
          "across frameworks.",
          probe=_training_probe, tol=Tol(1e-3, 1e-4)),
]
