"""Chapter 14, Natural Language Processing: Pretraining."""

ENTRIES = []

# --- 14.3 / 14.7 word2vec data (PTB) and pretrained token embeddings ---
# Independent references: plain Python loops written from behaviour.md (one random call at a
# time, in the book's order), no d2l code. The loaders run on the real ptb.zip (shared/data)
# or on files generated in the real formats, packed as the real archives are, served over
# loopback.

import collections  # noqa: E402
import contextlib  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from d2l.common import data_hub  # noqa: E402

from . import support  # noqa: E402
from .entry import EXACT, Entry, Reject  # noqa: E402
from .recurrent_neural_networks import ReferenceVocab  # noqa: E402

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
