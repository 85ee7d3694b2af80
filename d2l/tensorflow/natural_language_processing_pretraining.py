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
    num_examples, num_batches = len(examples), -(-len(examples) // batch_size)

    def epoch(_):  # a new order on every pass, cut into batches of indices
        order = tf.random.shuffle(tf.range(num_examples, dtype=tf.int64))
        return tf.data.Dataset.range(num_batches).map(
            lambda i: order[i * batch_size:(i + 1) * batch_size])

    data_iter = (tf.data.Dataset.range(1).flat_map(epoch).map(_batch_gather(examples))
                 .apply(tf.data.experimental.assert_cardinality(num_batches)))
    return data_iter, vocab


def _batch_gather(examples):
    """A tf.data map function: a batch of example indices (int64) -> the batchify tensors
    of those examples (what `examples.batch` gives), in TensorFlow ops."""
    def table(values, pad=False):  # padding positions gather the trailing 0
        return tf.constant(np.append(values, 0) if pad else values, dtype=tf.int32)

    context_pad, noise_pad = len(examples.contexts), len(examples.negatives)

    centers, contexts, negatives = (table(examples.centers), table(examples.contexts, True),
                                    table(examples.negatives, True))
    context_lengths, noise_lengths, context_starts, noise_starts = (
        table(a) for a in (examples.context_lengths, examples.noise_lengths,
                           examples.context_starts, examples.noise_starts))

    def batch(indices):
        context_length = tf.gather(context_lengths, indices)[:, None]
        length = context_length + tf.gather(noise_lengths, indices)[:, None]
        columns = tf.range(tf.reduce_max(length))[None, :]
        labels, masks = columns < context_length, columns < length
        at_context = tf.gather(context_starts, indices)[:, None] + columns
        at_noise = tf.gather(noise_starts, indices)[:, None] + columns - context_length
        rows = tf.where(labels, tf.gather(contexts, tf.where(labels, at_context, context_pad)),
                        tf.gather(negatives, tf.where(masks & ~labels, at_noise, noise_pad)))
        return (tf.gather(centers, indices)[:, None], rows, tf.cast(masks, tf.int32),
                tf.cast(labels, tf.int32))

    return batch


class TokenEmbedding(embeddings.TokenEmbedding):
    __doc__ = embeddings.TokenEmbedding.__doc__

    @staticmethod
    def _tensor(vectors):
        return tf.constant(vectors)

    @staticmethod
    def _take(idx_to_vec, indices):
        return tf.gather(idx_to_vec, tf.constant(indices, dtype=tf.int32))
