"""Chapter 14, Natural Language Processing: Pretraining, for PyTorch."""

import sys

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils import data

from ..common import bert_data, checks, embeddings, word2vec_data
from ..common.data_hub import download_extract
from .attention_mechanisms import EncoderBlock
from .linear_networks import _batch_loader, get_dataloader_workers

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


# --- 14.8-14.10 BERT ---
# Layouts: token ids and segments (batch, steps) int64, valid lengths (batch,), prediction
# positions (batch, num_preds); hidden states (batch, steps, num_hiddens). The data pipeline
# is written once in d2l.common.bert_data.

get_tokens_and_segments = bert_data.get_tokens_and_segments
_read_wiki = bert_data._read_wiki
_get_next_sentence = bert_data._get_next_sentence
_get_nsp_data_from_paragraph = bert_data._get_nsp_data_from_paragraph
_replace_mlm_tokens = bert_data._replace_mlm_tokens
_get_mlm_data_from_tokens = bert_data._get_mlm_data_from_tokens


class BERTEncoder(nn.Module):
    """Token + segment (2 types) + learnable positional embeddings (`pos_embedding`, (1,
    max_len, num_hiddens), trained: upstream added its `.data`, so it never learned), then
    `num_layers` Transformer encoder blocks with biased attention projections (`blks`,
    children "0", "1", ...). forward(tokens, segments, valid_lens) -> (batch, steps,
    num_hiddens)."""

    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, **kwargs):
        super().__init__(**kwargs)
        checks.positive_int("BERTEncoder", "max_len", max_len)
        self.token_embedding = nn.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = nn.Embedding(2, num_hiddens)
        self.blks = nn.Sequential()
        for i in range(num_layers):
            self.blks.add_module(f"{i}", EncoderBlock(
                key_size, query_size, value_size, num_hiddens, norm_shape, ffn_num_input,
                ffn_num_hiddens, num_heads, dropout, True))
        self.pos_embedding = nn.Parameter(torch.randn(1, max_len, num_hiddens))

    def forward(self, tokens, segments, valid_lens):
        bert_data.check_bert_inputs("BERTEncoder", tokens, segments,
                                    self.token_embedding.num_embeddings,
                                    self.pos_embedding.shape[1])
        X = self.token_embedding(tokens) + self.segment_embedding(segments)
        X = X + self.pos_embedding[:, :X.shape[1], :]
        for blk in self.blks:
            X = blk(X, valid_lens)
        return X


class MaskLM(nn.Module):
    """Masked-language-model head: the hidden vectors at `pred_positions` (batch, num_preds)
    of X (batch, steps, num_inputs) through `mlp` (dense num_hiddens, ReLU, LayerNorm, dense
    vocab_size) -> (batch, num_preds, vocab_size)."""

    def __init__(self, vocab_size, num_hiddens, num_inputs=768, **kwargs):
        super().__init__(**kwargs)
        self.mlp = nn.Sequential(nn.Linear(num_inputs, num_hiddens), nn.ReLU(),
                                 nn.LayerNorm(num_hiddens), nn.Linear(num_hiddens, vocab_size))

    def forward(self, X, pred_positions):
        bert_data.check_positions("MaskLM", pred_positions, X.shape)
        index = pred_positions.long().unsqueeze(-1).expand(-1, -1, X.shape[-1])
        return self.mlp(torch.gather(X, 1, index))


class NextSentencePred(nn.Module):
    """Next-sentence-prediction head: one dense layer, (batch, num_inputs) -> (batch, 2)."""

    def __init__(self, num_inputs, **kwargs):
        super().__init__(**kwargs)
        self.output = nn.Linear(num_inputs, 2)

    def forward(self, X):
        return self.output(X)


class BERTModel(nn.Module):
    """BERTEncoder (`encoder`), then the MLM head (`mlm`) on the prediction positions and the
    NSP head (`nsp`) on `hidden` (dense num_hiddens + tanh) of the '<cls>' vector.
    forward(tokens, segments, valid_lens=None, pred_positions=None) -> (encoded_X (batch,
    steps, num_hiddens), mlm_Y_hat (batch, num_preds, vocab_size) or None, nsp_Y_hat
    (batch, 2))."""

    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, hid_in_features=768, mlm_in_features=768,
                 nsp_in_features=768):
        super().__init__()
        self.encoder = BERTEncoder(vocab_size, num_hiddens, norm_shape, ffn_num_input,
                                   ffn_num_hiddens, num_heads, num_layers, dropout,
                                   max_len=max_len, key_size=key_size, query_size=query_size,
                                   value_size=value_size)
        self.hidden = nn.Sequential(nn.Linear(hid_in_features, num_hiddens), nn.Tanh())
        self.mlm = MaskLM(vocab_size, num_hiddens, mlm_in_features)
        self.nsp = NextSentencePred(nsp_in_features)

    def forward(self, tokens, segments, valid_lens=None, pred_positions=None):
        encoded_X = self.encoder(tokens, segments, valid_lens)
        mlm_Y_hat = None if pred_positions is None else self.mlm(encoded_X, pred_positions)
        nsp_Y_hat = self.nsp(self.hidden(encoded_X[:, 0, :]))
        return encoded_X, mlm_Y_hat, nsp_Y_hat


def _pad_bert_inputs(examples, max_len, vocab):
    """Seven lists, one tensor per example: token ids (max_len,) padded with '<pad>',
    segments (max_len,), valid length (float32 scalar), prediction positions (P,), MLM
    weights (P,) float32 (0 for padding), MLM labels (P,), NSP label; integers int64, P =
    round(0.15 * max_len)."""
    arrays = bert_data.pad_bert_arrays(examples, max_len, vocab)
    return [list(torch.from_numpy(a).long() if a.dtype == bool else torch.from_numpy(a))
            for a in arrays]


class _WikiTextDataset(torch.utils.data.Dataset):
    """BERT pretraining examples of `paragraphs` (lists of sentence strings) padded to
    `max_len`; `vocab` is built here. dataset[i] is the 7-tuple (token ids, segments, valid
    length, prediction positions, MLM weights, MLM labels, NSP label) of `_pad_bert_inputs`;
    a list of indices gives the stacked batch."""

    def __init__(self, paragraphs, max_len):
        examples = bert_data.WikiTextExamples(paragraphs, max_len)
        self.vocab = examples.vocab
        (self.all_token_ids, self.all_segments, self.valid_lens, self.all_pred_positions,
         self.all_mlm_weights, self.all_mlm_labels, self.nsp_labels) = (
            torch.from_numpy(a.astype("int64") if a.dtype == bool else a)
            for a in examples.arrays)

    def __getitem__(self, idx):
        return (self.all_token_ids[idx], self.all_segments[idx], self.valid_lens[idx],
                self.all_pred_positions[idx], self.all_mlm_weights[idx],
                self.all_mlm_labels[idx], self.nsp_labels[idx])

    def __len__(self):
        return len(self.all_token_ids)


def load_data_wiki(batch_size, max_len):
    """(train_iter, vocab) for BERT pretraining on WikiText-2 (shuffled minibatches of the
    7-tuples of `_WikiTextDataset`)."""
    checks.positive_int("load_data_wiki", "batch_size", batch_size)
    data_dir = download_extract("wikitext-2", "wikitext-2")
    train_set = _WikiTextDataset(_read_wiki(data_dir), max_len)
    train_iter = _batch_loader(train_set, batch_size, True,
                               num_workers=get_dataloader_workers())
    return train_iter, train_set.vocab


def _per_example_loss(loss, y_hat, y):
    """Per-example losses of `loss`: a mean-reducing nn.CrossEntropyLoss (the book's) is
    applied with reduction='none' (its other settings kept)."""
    if isinstance(loss, nn.CrossEntropyLoss) and loss.reduction != "none":
        return F.cross_entropy(y_hat, y, weight=loss.weight, ignore_index=loss.ignore_index,
                               reduction="none", label_smoothing=loss.label_smoothing)
    return loss(y_hat, y)


def _get_batch_loss_bert(net, loss, vocab_size, tokens_X, segments_X, valid_lens_x,
                         pred_positions_X, mlm_weights_X, mlm_Y, nsp_y):
    """(MLM loss, NSP loss, their sum) of `net` on one minibatch, 0-d tensors: the MLM loss
    is the mean cross-entropy over the real prediction positions (weight 1; padding has
    weight 0), Σ(loss · weight) / (Σ weight + 1e-8); the NSP loss the batch mean.
    Fix: upstream passed the mean-reduced CrossEntropyLoss, so the weights did not mask the
    padding; the per-position losses are weighted here."""
    _, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, valid_lens_x.reshape(-1),
                                  pred_positions_X)
    mlm_l = _per_example_loss(loss, mlm_Y_hat.reshape(-1, vocab_size), mlm_Y.reshape(-1))
    weights = mlm_weights_X.reshape(-1)
    mlm_l = (mlm_l * weights).sum() / (weights.sum() + 1e-8)
    nsp_l = _per_example_loss(loss, nsp_Y_hat, nsp_y.long()).mean()
    return mlm_l, nsp_l, mlm_l + nsp_l


__all__ += ["get_tokens_and_segments", "BERTEncoder", "MaskLM", "NextSentencePred",
            "BERTModel", "_read_wiki", "_get_next_sentence", "_get_nsp_data_from_paragraph",
            "_replace_mlm_tokens", "_get_mlm_data_from_tokens", "_pad_bert_inputs",
            "_WikiTextDataset", "load_data_wiki", "_get_batch_loss_bert"]
