"""Chapter 14, Natural Language Processing: Pretraining, for MXNet."""

import sys

from mxnet import gluon, np, npx
from mxnet.gluon import nn

from ..common import bert_data, checks, embeddings, word2vec_data
from ..common.data_hub import download_extract
from .attention_mechanisms import EncoderBlock
from .linear_networks import _as_arrays, _batch_loader, get_dataloader_workers

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


# --- 14.8-14.10 BERT ---
# Layouts: token ids and segments (batch, steps), valid lengths (batch,), prediction
# positions (batch, num_preds); hidden states (batch, steps, num_hiddens). Dense layers use
# flatten=False and infer their input sizes. The data pipeline is written once in
# d2l.common.bert_data.

get_tokens_and_segments = bert_data.get_tokens_and_segments
_read_wiki = bert_data._read_wiki
_get_next_sentence = bert_data._get_next_sentence
_get_nsp_data_from_paragraph = bert_data._get_nsp_data_from_paragraph
_replace_mlm_tokens = bert_data._replace_mlm_tokens
_get_mlm_data_from_tokens = bert_data._get_mlm_data_from_tokens


class BERTEncoder(nn.Block):
    """Token + segment (2 types) + learnable positional embeddings (the Gluon parameter
    `pos_embedding`, (1, max_len, num_hiddens), initialised by `initialize`), then
    `num_layers` Transformer encoder blocks with biased attention projections (`blks`).
    forward(tokens, segments, valid_lens) -> (batch, steps, num_hiddens)."""

    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                 dropout, max_len=1000, **kwargs):
        super().__init__(**kwargs)
        checks.positive_int("BERTEncoder", "max_len", max_len)
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.blks = nn.Sequential()
        for _ in range(num_layers):
            self.blks.add(EncoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout, True))
        self.pos_embedding = self.params.get("pos_embedding", shape=(1, max_len, num_hiddens))

    def forward(self, tokens, segments, valid_lens):
        bert_data.check_bert_inputs("BERTEncoder", tokens, segments,
                                    self.token_embedding.weight.shape[0],
                                    self.pos_embedding.shape[1])
        X = self.token_embedding(tokens) + self.segment_embedding(segments)
        X = X + self.pos_embedding.data(ctx=X.ctx)[:, :X.shape[1], :]
        for blk in self.blks:
            X = blk(X, valid_lens)
        return X


class MaskLM(nn.Block):
    """Masked-language-model head: the hidden vectors at `pred_positions` (batch, num_preds)
    of X (batch, steps, h) through `mlp` (dense num_hiddens + ReLU, LayerNorm, dense
    vocab_size) -> (batch, num_preds, vocab_size)."""

    def __init__(self, vocab_size, num_hiddens, **kwargs):
        super().__init__(**kwargs)
        self.mlp = nn.Sequential()
        self.mlp.add(nn.Dense(num_hiddens, flatten=False, activation="relu"),
                     nn.LayerNorm(), nn.Dense(vocab_size, flatten=False))

    def forward(self, X, pred_positions):
        bert_data.check_positions("MaskLM", pred_positions, X.shape)
        batch_size, num_preds = pred_positions.shape
        batch_idx = np.repeat(np.arange(batch_size, ctx=X.ctx), num_preds)
        masked_X = X[batch_idx, pred_positions.reshape(-1).astype("int64")]
        return self.mlp(masked_X.reshape(batch_size, num_preds, -1))


class NextSentencePred(nn.Block):
    """Next-sentence-prediction head: one dense layer, (batch, h) -> (batch, 2)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.output = nn.Dense(2)

    def forward(self, X):
        return self.output(X)


class BERTModel(nn.Block):
    """BERTEncoder (`encoder`), then the MLM head (`mlm`) on the prediction positions and the
    NSP head (`nsp`) on `hidden` (dense num_hiddens + tanh) of the '<cls>' vector.
    forward(tokens, segments, valid_lens=None, pred_positions=None) -> (encoded_X (batch,
    steps, num_hiddens), mlm_Y_hat (batch, num_preds, vocab_size) or None, nsp_Y_hat
    (batch, 2))."""

    def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                 dropout, max_len=1000):
        super().__init__()
        self.encoder = BERTEncoder(vocab_size, num_hiddens, ffn_num_hiddens, num_heads,
                                   num_layers, dropout, max_len)
        self.hidden = nn.Dense(num_hiddens, activation="tanh")
        self.mlm = MaskLM(vocab_size, num_hiddens)
        self.nsp = NextSentencePred()

    def forward(self, tokens, segments, valid_lens=None, pred_positions=None):
        encoded_X = self.encoder(tokens, segments, valid_lens)
        mlm_Y_hat = None if pred_positions is None else self.mlm(encoded_X, pred_positions)
        nsp_Y_hat = self.nsp(self.hidden(encoded_X[:, 0, :]))
        return encoded_X, mlm_Y_hat, nsp_Y_hat


_DTYPES = ("int32", "int32", "float32", "int32", "float32", "int32", "bool")


def _pad_bert_inputs(examples, max_len, vocab):
    """Seven lists, one array per example: token ids (max_len,) padded with '<pad>',
    segments (max_len,), valid length (float32 scalar), prediction positions (P,), MLM
    weights (P,) float32 (0 for padding), MLM labels (P,), NSP label (bool scalar); ids,
    segments, positions and labels int32, P = round(0.15 * max_len)."""
    arrays = bert_data.pad_bert_arrays(examples, max_len, vocab)
    return [list(np.array(a, dtype=dtype)) for a, dtype in zip(arrays, _DTYPES)]


class _WikiTextDataset(gluon.data.Dataset):
    """BERT pretraining examples of `paragraphs` (lists of sentence strings) padded to
    `max_len`; `vocab` is built here. dataset[i] is the 7-tuple (token ids, segments, valid
    length, prediction positions, MLM weights, MLM labels, NSP label) of `_pad_bert_inputs`
    as NumPy arrays (the loader makes mxnet arrays of whole batches)."""

    def __init__(self, paragraphs, max_len):
        examples = bert_data.WikiTextExamples(paragraphs, max_len)
        self.vocab = examples.vocab
        (self.all_token_ids, self.all_segments, self.valid_lens, self.all_pred_positions,
         self.all_mlm_weights, self.all_mlm_labels, self.nsp_labels) = (
            a.astype(dtype) for a, dtype in zip(examples.arrays, _DTYPES))

    def __getitem__(self, idx):
        return (self.all_token_ids[idx], self.all_segments[idx], self.valid_lens[idx],
                self.all_pred_positions[idx], self.all_mlm_weights[idx],
                self.all_mlm_labels[idx], self.nsp_labels[idx])

    def __len__(self):
        return len(self.all_token_ids)


def load_data_wiki(batch_size, max_len):
    """(train_iter, vocab) for BERT pretraining on WikiText-2 (shuffled minibatches of the
    7-tuples of `_WikiTextDataset`, as mxnet arrays)."""
    checks.positive_int("load_data_wiki", "batch_size", batch_size)
    data_dir = download_extract("wikitext-2", "wikitext-2")
    train_set = _WikiTextDataset(_read_wiki(data_dir), max_len)
    train_iter = _batch_loader(train_set, batch_size, True, _as_arrays,
                               num_workers=get_dataloader_workers())
    return train_iter, train_set.vocab


def _get_batch_loss_bert(net, loss, vocab_size, tokens_X_shards, segments_X_shards,
                         valid_lens_x_shards, pred_positions_X_shards, mlm_weights_X_shards,
                         mlm_Y_shards, nsp_y_shards):
    """Per device shard: the MLM loss (mean over the real prediction positions: the Gluon
    loss's sample weights 1 for real and 0 for padded positions, Σ / (Σ weights + 1e-8)),
    the NSP loss (batch mean) and their sum. Returns three lists (mlm_ls, nsp_ls, ls), one
    0-d array per shard; call it inside `autograd.record()` to train."""
    mlm_ls, nsp_ls, ls = [], [], []
    for (tokens_X, segments_X, valid_lens_x, pred_positions_X, mlm_weights_X, mlm_Y,
         nsp_y) in zip(tokens_X_shards, segments_X_shards, valid_lens_x_shards,
                       pred_positions_X_shards, mlm_weights_X_shards, mlm_Y_shards,
                       nsp_y_shards):
        _, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x.reshape(-1),
                                      pred_positions_X)
        weights = mlm_weights_X.reshape(-1, 1)
        mlm_l = loss(mlm_Y_hat.reshape(-1, vocab_size), mlm_Y.reshape(-1), weights)
        mlm_l = mlm_l.sum() / (weights.sum() + 1e-8)
        nsp_l = loss(nsp_Y_hat, nsp_y.astype("float32")).mean()  # bool labels: as numbers
        mlm_ls.append(mlm_l)
        nsp_ls.append(nsp_l)
        ls.append(mlm_l + nsp_l)
        npx.waitall()
    return mlm_ls, nsp_ls, ls


__all__ += ["get_tokens_and_segments", "BERTEncoder", "MaskLM", "NextSentencePred",
            "BERTModel", "_read_wiki", "_get_next_sentence", "_get_nsp_data_from_paragraph",
            "_replace_mlm_tokens", "_get_mlm_data_from_tokens", "_pad_bert_inputs",
            "_WikiTextDataset", "load_data_wiki", "_get_batch_loss_bert"]
