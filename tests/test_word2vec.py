"""Word2vec data (14.3) and token embeddings (14.7) beyond the spec's references: sampling
statistics, properties of centres, contexts and noise words, the book's batchify example,
the loader, bad embedding files and the full pipeline on the real PTB (slow)."""

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec import natural_language_processing_pretraining as spec14
from spec import support

# z bound per bin of the draw-frequency test: a two-sided normal tail of 5.5 sigma has
# probability 3.8e-8, so with 5 bins a correct sampler fails one run in ~5 million.
Z_BOUND = 5.5


def test_random_generator_draws_follow_the_weights(backend):
    weights = [1.0, 2.0, 3.0, 0.0, 10.0, 4.0]
    num_draws = 60000
    random.seed(0)
    generator = backend.d2l.RandomGenerator(weights)
    counts = np.bincount([generator.draw() for _ in range(num_draws)], minlength=6)
    p = np.array(weights) / sum(weights)
    assert counts[3] == 0  # weight 0: never drawn
    for k in np.flatnonzero(p):
        expected, sd = num_draws * p[k], math.sqrt(num_draws * p[k] * (1 - p[k]))
        assert abs(counts[k] - expected) <= Z_BOUND * sd, (k, counts[k], expected)


def test_random_generator_reseeded_repeats_itself(backend):
    draws = []
    for _ in range(2):
        random.seed(42)
        generator = backend.d2l.RandomGenerator([3, 1, 2])
        draws.append([generator.draw() for _ in range(12000)])
    assert draws[0] == draws[1]
    random.seed(43)
    generator = backend.d2l.RandomGenerator([3, 1, 2])
    assert [generator.draw() for _ in range(12000)] != draws[0]


@st.composite
def unique_id_sentences(draw):
    """Sentences whose ids are all distinct (an id tells its position), lengths 0-12."""
    lengths = draw(st.lists(st.integers(0, 12), min_size=1, max_size=8))
    ends = np.cumsum(lengths).tolist()
    return [list(range(e - n, e)) for n, e in zip(lengths, ends)]


@settings(max_examples=15)
@given(corpus=unique_id_sentences(), max_window_size=st.integers(1, 6),
       seed=st.integers(0, 2**16))
def test_contexts_are_windows_around_their_centre(backend, corpus, max_window_size, seed):
    random.seed(seed)
    centers, contexts = backend.d2l.get_centers_and_contexts(corpus, max_window_size)
    assert centers == [t for line in corpus if len(line) >= 2 for t in line]
    assert len(contexts) == len(centers)
    where = {t: (line, i) for line in corpus for i, t in enumerate(line)}
    for center, context in zip(centers, contexts):
        line, i = where[center]
        assert center not in context  # never the centre's own position
        windows = [line[max(0, i - w):i] + line[i + 1:i + 1 + w]
                   for w in range(1, max_window_size + 1)]
        assert context in windows  # a window of 1 ... max_window_size tokens a side


@settings(max_examples=10)
@given(corpus=unique_id_sentences(), K=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_noise_words_are_never_in_their_context(backend, corpus, K, seed):
    random.seed(seed)
    _, contexts = backend.d2l.get_centers_and_contexts(corpus, 3)
    distinct = len({t for line in corpus for t in line})
    contexts = [c for c in contexts if not set(range(distinct)) <= set(c)]
    negatives = backend.d2l.get_negatives(contexts, corpus, K)
    assert len(negatives) == len(contexts)
    for context, noise in zip(contexts, negatives):
        assert len(noise) == K * len(context)
        assert not set(noise) & set(context)
        assert all(0 <= n < distinct for n in noise)


def test_same_seed_same_examples_and_state(backend):
    sentences = [line.split() for line in spec14.small_ptb_text(3, 100).split("\n")]
    vocab = backend.d2l.Vocab(sentences)
    outputs = []
    for _ in range(2):
        random.seed(5)
        subsampled = backend.d2l.subsampling(sentences, vocab)
        corpus = [vocab[line] for line in subsampled]
        centers, contexts = backend.d2l.get_centers_and_contexts(corpus, 4)
        outputs.append((subsampled, centers, contexts,
                        backend.d2l.get_negatives(contexts, corpus, 3), random.random()))
    assert outputs[0] == outputs[1]


def test_batchify_the_books_example(backend):
    x_1, x_2 = (1, [2, 2], [3, 3, 3, 3]), (1, [2, 2, 2], [3, 3])
    batch = [backend.numpy(t) for t in backend.d2l.batchify((x_1, x_2))]
    assert [a.tolist() for a in batch] == [
        [[1], [1]],
        [[2, 2, 3, 3, 3, 3], [2, 2, 2, 3, 3, 0]],
        [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]],
        [[1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0]]]
    want = {"mxnet": "float32", "torch": "int64", "tensorflow": "int32"}[backend.name]
    assert {backend.dtype_name(t) for t in backend.d2l.batchify((x_1, x_2))} == {want}


def test_load_data_ptb_loader_reshuffles_and_counts_its_batches(backend):
    with spec14.small_ptb_served():
        random.seed(0)
        data_iter, _ = backend.d2l.load_data_ptb(32, 2, 1)
    epochs = [[backend.numpy(batch[0]).ravel().tolist() for batch in data_iter]
              for _ in range(2)]
    assert len(epochs[0]) == len(data_iter)
    assert sorted(sum(epochs[0], [])) == sorted(sum(epochs[1], []))
    assert epochs[0] != epochs[1]  # shuffled anew on every pass


def test_token_embedding_names_the_ragged_line(backend):
    with spec14.embedding_served("wiki.en", "3 3\na 1 2 3 \nb 4 5 \nc 6 7 8 \n"), \
            pytest.raises(ValueError, match=r"wiki.en/vec.txt has ragged rows: line 3"):
        backend.d2l.TokenEmbedding("wiki.en")


def test_token_embedding_rejects_a_lookup_that_is_not_tokens(backend):
    tokens, vectors = spec14.embedding_sample(0, False)
    with spec14.embedding_served("glove.6b.100d",
                                 spec14.vector_file_text(tokens, vectors, False)):
        emb = backend.d2l.TokenEmbedding("glove.6b.100d")
    with pytest.raises(ValueError, match="tokens"):
        emb[3]


@pytest.mark.slow
def test_load_data_ptb_on_the_real_ptb_gives_the_books_examples(backend):
    """The book's call, load_data_ptb(512, 5, 5), seed 0, on the real ptb.zip: the same
    vocabulary and examples as the reference loops, every batch padded to its own rows."""
    with support.shared_data_served(spec14.PTB[0]):
        random.seed(0)
        data_iter, vocab = backend.d2l.load_data_ptb(512, 5, 5)
    num_batches, _, padded, examples = spec14.loader_observation(backend, data_iter)
    size, idx_to_token, expected = spec14.ptb_examples_reference(
        support.SHARED_DATA / spec14.PTB[0], 5, 5)
    assert (len(vocab), vocab.idx_to_token) == (size, idx_to_token) and size == 6719
    assert padded and num_batches == -(-len(expected) // 512)
    assert examples == expected


def test_bucketed_bisection_equals_searchsorted():
    """The table behind bulk noise draws (used from ~1M draws on, as on PTB) gives
    np.searchsorted's answers, also for values equal to a cumulative weight."""
    from d2l.common.word2vec_data import _bisect_right

    rng = np.random.default_rng(0)
    cum = np.cumsum(rng.zipf(1.5, 3000) ** 0.75)
    x = rng.random(1_200_000) * cum[-1]
    x[:3000] = cum  # exactly on the edges
    x[3000:3002] = (0.0, np.nextafter(cum[-1], 0))
    np.testing.assert_array_equal(_bisect_right(cum, x), np.searchsorted(cum, x, "right"))
