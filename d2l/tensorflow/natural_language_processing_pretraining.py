"""Chapter 14, Natural Language Processing: Pretraining, for TensorFlow (tf.keras: Keras 3 or
tf-keras)."""

import sys

import numpy as np
import tensorflow as tf

from ..common import checks, embeddings, word2vec_data

__all__ = []

# --- 14.3 / 14.7 word2vec data (PTB) and pretrained token embeddings ---
# Minibatch tensors are int32 (what `d2l.tensor` makes of Python ints); embeddings float32.
# The data pipeline is written once in d2l.common.word2vec_data, the embedding file reader
# in d2l.common.embeddings.
__all__ += ["batchify", "load_data_ptb", "TokenEmbedding"]


def _int32(arrays):
    return tuple(tf.constant(a.astype(np.int32)) for a in arrays)


def batchify(data):
    """Collate skip-gram examples `data` (a list of (center, context list, noise list)):
    (centers (B, 1), contexts_negatives (B, L), masks (B, L), labels (B, L)), int32, L the
    longest context + noise list; rows padded with 0 (see `word2vec_data.batchify_arrays`)."""
    return _int32(word2vec_data.batchify_arrays(data))


def load_data_ptb(batch_size, max_window_size, num_noise_words):
    """(data_iter, vocab) for skip-gram with negative sampling on PTB: read_ptb ->
    Vocab(min_freq=10) -> subsampling -> centres and contexts -> num_noise_words noise
    words per context word (the saved functions' draws, from Python's random). Batches are
    gathered in this process with one array slice each (no worker processes); data_iter is
    a tf.data.Dataset of batchify batches, the examples reshuffled on every pass."""
    checks.positive_int("load_data_ptb", "batch_size", batch_size)
    examples, vocab = word2vec_data.ptb_examples(sys.modules[__package__], max_window_size,
                                                 num_noise_words)

    def gather(indices):
        return tuple(a.astype(np.int32) for a in examples.batch(indices))

    def batch(indices):
        parts = tf.numpy_function(gather, [indices], [tf.int32] * 4, stateful=False)
        for part, shape in zip(parts, ([None, 1], [None, None], [None, None], [None, None])):
            part.set_shape(shape)
        return tuple(parts)

    data_iter = (tf.data.Dataset.range(len(examples))
                 .shuffle(max(len(examples), 1), reshuffle_each_iteration=True)
                 .batch(batch_size).map(batch))
    return data_iter, vocab


class TokenEmbedding(embeddings.TokenEmbedding):
    __doc__ = embeddings.TokenEmbedding.__doc__

    @staticmethod
    def _tensor(vectors):
        return tf.constant(vectors)

    @staticmethod
    def _take(idx_to_vec, indices):
        return tf.gather(idx_to_vec, tf.constant(indices, dtype=tf.int32))
