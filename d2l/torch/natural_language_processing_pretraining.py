"""Chapter 14, Natural Language Processing: Pretraining, for PyTorch."""

import sys

import torch
from torch.utils import data

from ..common import checks, embeddings, word2vec_data
from .linear_networks import _batch_loader

__all__ = []

# --- 14.3 / 14.7 word2vec data (PTB) and pretrained token embeddings ---
# Minibatch tensors are int64 (what `d2l.tensor` makes of Python ints); embeddings float32.
# The data pipeline is written once in d2l.common.word2vec_data, the embedding file reader
# in d2l.common.embeddings.
__all__ += ["batchify", "load_data_ptb", "TokenEmbedding"]


def batchify(data):
    """Collate skip-gram examples `data` (a list of (center, context list, noise list)):
    (centers (B, 1), contexts_negatives (B, L), masks (B, L), labels (B, L)), int64, L the
    longest context + noise list; rows padded with 0 (see `word2vec_data.batchify_arrays`)."""
    return tuple(torch.from_numpy(a) for a in word2vec_data.batchify_arrays(data))


class _PTBDataset(data.Dataset):
    """The skip-gram examples: `dataset[i]` is the triple (center, context, negatives);
    `dataset[list of indices]` the batchify tensors of those examples (one gather)."""

    def __init__(self, examples):
        self.examples = examples

    def __getitem__(self, index):
        if isinstance(index, list):
            return tuple(torch.from_numpy(a) for a in self.examples.batch(index))
        return self.examples[index]

    def __len__(self):
        return len(self.examples)


def load_data_ptb(batch_size, max_window_size, num_noise_words):
    """(data_iter, vocab) for skip-gram with negative sampling on PTB: read_ptb ->
    Vocab(min_freq=10) -> subsampling -> centres and contexts -> num_noise_words noise
    words per context word (the saved functions' draws, from Python's random). Batches are
    gathered in this process with one array slice each (no worker processes); data_iter is
    a shuffled DataLoader of batchify batches."""
    checks.positive_int("load_data_ptb", "batch_size", batch_size)
    examples, vocab = word2vec_data.ptb_examples(sys.modules[__package__], max_window_size,
                                                 num_noise_words)
    return _batch_loader(_PTBDataset(examples), batch_size, True), vocab


class TokenEmbedding(embeddings.TokenEmbedding):
    __doc__ = embeddings.TokenEmbedding.__doc__

    @staticmethod
    def _tensor(vectors):
        return torch.from_numpy(vectors)

    @staticmethod
    def _take(idx_to_vec, indices):
        return idx_to_vec[torch.tensor(indices, dtype=torch.int64)]
