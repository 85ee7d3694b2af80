"""Chapter 14, Natural Language Processing: Pretraining, for MXNet."""

import sys

from mxnet import gluon, np

from ..common import checks, embeddings, word2vec_data
from .linear_networks import _batch_loader

__all__ = []

# --- 14.3 / 14.7 word2vec data (PTB) and pretrained token embeddings ---
# Minibatch arrays are float32 (what `d2l.tensor` makes of Python ints); embeddings float32.
# The data pipeline is written once in d2l.common.word2vec_data, the embedding file reader
# in d2l.common.embeddings.
__all__ += ["batchify", "load_data_ptb", "TokenEmbedding"]


def _float32(arrays):
    return tuple(np.array(a, dtype="float32") for a in arrays)


def batchify(data):
    """Collate skip-gram examples `data` (a list of (center, context list, noise list)):
    (centers (B, 1), contexts_negatives (B, L), masks (B, L), labels (B, L)), float32, L the
    longest context + noise list; rows padded with 0 (see `word2vec_data.batchify_arrays`)."""
    return _float32(word2vec_data.batchify_arrays(data))


class _PTBDataset(gluon.data.Dataset):
    """The skip-gram examples: `dataset[i]` is the triple (center, context, negatives);
    `dataset[list of indices]` the batchify arrays (NumPy) of those examples (one gather)."""

    def __init__(self, examples):
        self.examples = examples

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.examples.batch(index)
        return self.examples[index]

    def __len__(self):
        return len(self.examples)


def _batch(samples):
    """`[batch arrays]` from the batch sampler as float32 mxnet.np arrays."""
    (arrays,) = samples
    return _float32(arrays)


def load_data_ptb(batch_size, max_window_size, num_noise_words):
    """(data_iter, vocab) for skip-gram with negative sampling on PTB: read_ptb ->
    Vocab(min_freq=10) -> subsampling -> centres and contexts -> num_noise_words noise
    words per context word (the saved functions' draws, from Python's random). Batches are
    gathered in this process with one array slice each (no worker processes); data_iter is
    a shuffled Gluon DataLoader of batchify batches."""
    checks.positive_int("load_data_ptb", "batch_size", batch_size)
    examples, vocab = word2vec_data.ptb_examples(sys.modules[__package__], max_window_size,
                                                 num_noise_words)
    return _batch_loader(_PTBDataset(examples), batch_size, True, _batch), vocab


class TokenEmbedding(embeddings.TokenEmbedding):
    __doc__ = embeddings.TokenEmbedding.__doc__

    @staticmethod
    def _tensor(vectors):
        return np.array(vectors, dtype="float32")

    @staticmethod
    def _take(idx_to_vec, indices):
        return idx_to_vec[np.array(indices, dtype="int64")]
