"""Pretrained token embeddings (section 14.7), shared by every backend.

The book's GloVe and fastText archives (`DATA_HUB['glove.6b.50d']`, ..., `['wiki.en']`)
each extract to a folder holding `vec.txt`: one token per line, `token v1 v2 ... vd`
separated by single spaces (fastText adds a trailing space and a first line
`num_tokens d`). Lines with fewer than two values are skipped, as the book does (the fastText
header, blank lines). Each backend subclasses `TokenEmbedding` to hold the vectors as its
tensor type.
"""

import os

import numpy as np

from .data_hub import DATA_HUB, download_extract

VECTOR_FILE = "vec.txt"


def read_vectors(path):
    """(tokens, vectors) of a GloVe / fastText text file: the tokens of the lines with at
    least two values, in file order, and their values as a float32 array (N, d).

    ValueError naming the file when rows have different numbers of values (with the first
    line that differs), when a value is not a number, or when no line has a vector."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    split = [line.rstrip().split(" ", 1) for line in lines]
    # Line numbers (from 1) of the rows with at least two values.
    numbers = [i for i, parts in enumerate(split, 1) if len(parts) == 2 and " " in parts[1]]
    if not numbers:
        raise ValueError(f"TokenEmbedding: {path} holds no token vectors (lines 'token v1 v2 "
                         f"...' with two values or more)")
    rests = [split[i - 1][1] for i in numbers]
    widths = np.array([rest.count(" ") + 1 for rest in rests])
    ragged = np.flatnonzero(widths != widths[0])
    if len(ragged):
        line = numbers[ragged[0]]
        raise ValueError(f"TokenEmbedding: {path} has ragged rows: line {line} has "
                         f"{widths[ragged[0]]} values, line {numbers[0]} has {widths[0]}")
    values = _parse_floats(path, rests)
    return [split[i - 1][0] for i in numbers], values.reshape(len(rests), int(widths[0]))


def _parse_floats(path, rests):
    """The space-separated numbers of `rests` as one float32 array."""
    try:
        values = np.array(" ".join(rests).split(" "), dtype=np.float32)
    except ValueError as error:
        raise ValueError(f"TokenEmbedding: {path} holds a value that is not a number "
                         f"({error})") from None
    return values


class TokenEmbedding:
    """Pretrained vectors of the `DATA_HUB` entry `embedding_name` ('glove.6b.50d',
    'glove.6b.100d', 'glove.42b.300d', 'wiki.en'): `idx_to_token` ('<unk>' first, then the
    file's tokens in order), `token_to_idx`, `unknown_idx` (0) and `idx_to_vec`, a float32
    tensor (N, d) whose row 0 is all zeros.

    `emb[tokens]` with a list (or tuple) of tokens gives their vectors stacked (len, d),
    unknown tokens the zero vector; one token (a string) gives its vector (d,). `len(emb)`
    is the number of tokens. Backends set `_tensor` (NumPy float32 -> tensor) and `_take`
    (tensor, list of row indices -> rows)."""

    def __init__(self, embedding_name):
        if not isinstance(embedding_name, str) or embedding_name not in DATA_HUB:
            raise ValueError(f"TokenEmbedding: embedding_name must be a DATA_HUB name such as "
                             f"'glove.6b.50d', got {embedding_name!r}")
        self.idx_to_token, self.idx_to_vec = self._load_embedding(embedding_name)
        self.unknown_idx = 0
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}

    def _load_embedding(self, embedding_name):
        data_dir = download_extract(embedding_name)
        tokens, vectors = read_vectors(os.path.join(data_dir, VECTOR_FILE))
        vectors = np.concatenate([np.zeros((1, vectors.shape[1]), np.float32), vectors])
        return ["<unk>", *tokens], self._tensor(vectors)

    def __getitem__(self, tokens):
        if isinstance(tokens, str):
            return self[[tokens]][0]
        if not isinstance(tokens, (list, tuple)):
            raise ValueError(f"TokenEmbedding: tokens must be a list of tokens (or one "
                             f"token), got {type(tokens).__name__} {tokens!r:.60}")
        lookup = self.token_to_idx.get
        return self._take(self.idx_to_vec, [lookup(token, self.unknown_idx)
                                            for token in tokens])

    def __len__(self):
        return len(self.idx_to_token)

    @staticmethod
    def _tensor(vectors):
        raise NotImplementedError

    @staticmethod
    def _take(idx_to_vec, indices):
        raise NotImplementedError
