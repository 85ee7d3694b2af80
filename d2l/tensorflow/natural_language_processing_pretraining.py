"""Chapter 14, Natural Language Processing: Pretraining, for TensorFlow (tf.keras: Keras 3 or
tf-keras)."""

import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras

from ..common import bert_data, checks, embeddings, word2vec_data
from ..common.data_hub import download_extract
from .attention_mechanisms import EncoderBlock, _BuiltOnFirstCall

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

    def epoch(seed):  # one order per pass, cut into batches of indices
        order = tf.random.experimental.stateless_shuffle(
            tf.range(num_examples, dtype=tf.int64), seed=tf.stack([seed, 0]))
        return tf.data.Dataset.range(num_batches).map(
            lambda i: order[i * batch_size:(i + 1) * batch_size])

    # A seed drawn anew on every pass (a random op inside the dataset's function would repeat
    # its order on every pass once tf.random.set_seed has been called).
    seeds = tf.data.Dataset.random(rerandomize_each_iteration=True).take(1)
    data_iter = (seeds.flat_map(epoch).map(_batch_gather(examples))
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


# --- 14.8-14.10 BERT ---
# Upstream has no TensorFlow BERT; the classes take PyTorch's signatures, with chapter 10's
# TensorFlow conventions: the size arguments (ffn_num_input, key/query/value sizes, the
# *_in_features) are accepted but unused (Dense layers infer their input sizes), norm_shape
# lists the normalised AXES ([2] for (batch, steps, hiddens)), calls take `training=None`.
# Layouts: token ids and segments (batch, steps) int32, valid lengths (batch,), prediction
# positions (batch, num_preds); hidden states (batch, steps, num_hiddens). The data pipeline
# is written once in d2l.common.bert_data.

get_tokens_and_segments = bert_data.get_tokens_and_segments
_read_wiki = bert_data._read_wiki
_get_next_sentence = bert_data._get_next_sentence
_get_nsp_data_from_paragraph = bert_data._get_nsp_data_from_paragraph
_replace_mlm_tokens = bert_data._replace_mlm_tokens
_get_mlm_data_from_tokens = bert_data._get_mlm_data_from_tokens


class BERTEncoder(_BuiltOnFirstCall, keras.layers.Layer):
    """Token + segment (2 types) + learnable positional embeddings (`pos_embedding`, a
    (1, max_len, num_hiddens) weight drawn from N(0, 1)), then `num_layers` Transformer
    encoder blocks with biased attention projections (`blks`). call(tokens, segments,
    valid_lens) -> (batch, steps, num_hiddens)."""

    def __init__(self, vocab_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens,
                 num_heads, num_layers, dropout, max_len=1000, key_size=768, query_size=768,
                 value_size=768, **kwargs):
        super().__init__(**kwargs)
        checks.positive_int("BERTEncoder", "max_len", max_len)
        self.token_embedding = keras.layers.Embedding(vocab_size, num_hiddens)
        self.segment_embedding = keras.layers.Embedding(2, num_hiddens)
        self.blks = [EncoderBlock(key_size, query_size, value_size, num_hiddens, norm_shape,
                                  ffn_num_hiddens, num_heads, dropout, True)
                     for _ in range(num_layers)]
        self.pos_embedding = self.add_weight(
            name="pos_embedding", shape=(1, max_len, num_hiddens),
            initializer=keras.initializers.RandomNormal(0.0, 1.0))

    def call(self, tokens, segments, valid_lens, training=None):
        if tf.executing_eagerly():  # traced, the ids cannot be read
            bert_data.check_bert_inputs("BERTEncoder", tokens, segments,
                                        self.token_embedding.input_dim,
                                        self.pos_embedding.shape[1])
        X = self.token_embedding(tokens) + self.segment_embedding(segments)
        X = X + self.pos_embedding[:, :tf.shape(X)[1], :]
        for blk in self.blks:
            X = blk(X, valid_lens, training=training)
        return X


class MaskLM(_BuiltOnFirstCall, keras.layers.Layer):
    """Masked-language-model head: the hidden vectors at `pred_positions` (batch, num_preds)
    of X (batch, steps, h) through `mlp` (dense num_hiddens + ReLU, LayerNorm over axis 2 of
    the (batch, num_preds, num_hiddens) gathered vectors (epsilon 1e-5), dense vocab_size)
    -> (batch, num_preds, vocab_size)."""

    def __init__(self, vocab_size, num_hiddens, num_inputs=768, **kwargs):
        super().__init__(**kwargs)
        self.mlp = keras.Sequential([keras.layers.Dense(num_hiddens, activation="relu"),
                                     keras.layers.LayerNormalization(axis=2, epsilon=1e-5),
                                     keras.layers.Dense(vocab_size)])

    def call(self, X, pred_positions):
        if tf.executing_eagerly():
            bert_data.check_positions("MaskLM", pred_positions, X.shape)
        return self.mlp(tf.gather(X, tf.cast(pred_positions, tf.int32), batch_dims=1))


class NextSentencePred(_BuiltOnFirstCall, keras.layers.Layer):
    """Next-sentence-prediction head: one dense layer, (batch, h) -> (batch, 2)."""

    def __init__(self, num_inputs=768, **kwargs):
        super().__init__(**kwargs)
        self.output_layer = keras.layers.Dense(2)

    def call(self, X):
        return self.output_layer(X)

    @property
    def output(self):
        """The dense layer (the book's attribute name; Keras reserves `output`)."""
        return self.output_layer


class BERTModel(keras.Model):
    """BERTEncoder (`encoder`), then the MLM head (`mlm`) on the prediction positions and the
    NSP head (`nsp`) on `hidden` (dense num_hiddens + tanh) of the '<cls>' vector.
    call(tokens, segments, valid_lens=None, pred_positions=None) -> (encoded_X (batch,
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
        self.hidden = keras.layers.Dense(num_hiddens, activation="tanh")
        self.mlm = MaskLM(vocab_size, num_hiddens, mlm_in_features)
        self.nsp = NextSentencePred(nsp_in_features)

    def build(self, *shapes, **named_shapes):
        """The sublayers build themselves on their first call."""

    def call(self, tokens, segments, valid_lens=None, pred_positions=None, training=None):
        encoded_X = self.encoder(tokens, segments, valid_lens, training=training)
        mlm_Y_hat = None if pred_positions is None else self.mlm(encoded_X, pred_positions)
        nsp_Y_hat = self.nsp(self.hidden(encoded_X[:, 0, :]))
        return encoded_X, mlm_Y_hat, nsp_Y_hat


_DTYPES = (tf.int32, tf.int32, tf.float32, tf.int32, tf.float32, tf.int32, tf.int32)


def _pad_bert_inputs(examples, max_len, vocab):
    """Seven lists, one tensor per example: token ids (max_len,) padded with '<pad>',
    segments (max_len,), valid length (float32 scalar), prediction positions (P,), MLM
    weights (P,) float32 (0 for padding), MLM labels (P,), NSP label; integers int32, P =
    round(0.15 * max_len)."""
    arrays = bert_data.pad_bert_arrays(examples, max_len, vocab)
    return [tf.unstack(tf.cast(a, dtype), num=len(a)) if len(a) else []
            for a, dtype in zip(arrays, _DTYPES)]


class _WikiTextDataset:
    """BERT pretraining examples of `paragraphs` (lists of sentence strings) padded to
    `max_len`; `vocab` is built here. dataset[i] is the 7-tuple (token ids, segments, valid
    length, prediction positions, MLM weights, MLM labels, NSP label) of `_pad_bert_inputs`
    (NumPy; a list of indices gives the stacked batch); `arrays` holds the seven (n, ...)
    arrays."""

    def __init__(self, paragraphs, max_len):
        examples = bert_data.WikiTextExamples(paragraphs, max_len)
        self.vocab = examples.vocab
        self.arrays = tuple(a.astype(dtype.as_numpy_dtype)
                            for a, dtype in zip(examples.arrays, _DTYPES))

    def __getitem__(self, idx):
        return tuple(a[idx] for a in self.arrays)

    def __len__(self):
        return len(self.arrays[0])


def load_data_wiki(batch_size, max_len):
    """(train_iter, vocab) for BERT pretraining on WikiText-2: a tf.data.Dataset of shuffled
    minibatches (reshuffled every pass) of the 7-tuples of `_WikiTextDataset`."""
    checks.positive_int("load_data_wiki", "batch_size", batch_size)
    data_dir = download_extract("wikitext-2", "wikitext-2")
    train_set = _WikiTextDataset(_read_wiki(data_dir), max_len)
    train_iter = tf.data.Dataset.from_tensor_slices(train_set.arrays).shuffle(
        len(train_set)).batch(batch_size)
    return train_iter, train_set.vocab


def _per_example_loss(loss, y, y_hat):
    """Per-example losses: a Keras SparseCategoricalCrossentropy (reduced) is applied
    unreduced with its from_logits setting; any other `loss(y, y_hat)` must give them."""
    if isinstance(loss, keras.losses.SparseCategoricalCrossentropy):
        return keras.losses.sparse_categorical_crossentropy(
            y, y_hat, from_logits=loss.get_config()["from_logits"])
    return loss(y, y_hat)


def _get_batch_loss_bert(net, loss, vocab_size, tokens_X, segments_X, valid_lens_x,
                         pred_positions_X, mlm_weights_X, mlm_Y, nsp_y):
    """(MLM loss, NSP loss, their sum) of `net` on one minibatch, 0-d tensors: the MLM loss
    is the mean cross-entropy over the real prediction positions (weight 1; padding has
    weight 0), Σ(loss · weight) / (Σ weight + 1e-8); the NSP loss the batch mean. `loss` is
    keras.losses.SparseCategoricalCrossentropy(from_logits=True) (or a callable (y, y_hat)
    giving per-example losses). Call it inside a GradientTape to train."""
    _, mlm_Y_hat, nsp_Y_hat = net(tokens_X, segments_X, tf.reshape(valid_lens_x, [-1]),
                                  pred_positions_X, training=True)
    mlm_l = _per_example_loss(loss, tf.reshape(mlm_Y, [-1]),
                              tf.reshape(mlm_Y_hat, (-1, vocab_size)))
    weights = tf.cast(tf.reshape(mlm_weights_X, [-1]), mlm_l.dtype)
    mlm_l = tf.reduce_sum(mlm_l * weights) / (tf.reduce_sum(weights) + 1e-8)
    nsp_l = tf.reduce_mean(_per_example_loss(loss, tf.cast(nsp_y, tf.int32), nsp_Y_hat))
    return mlm_l, nsp_l, mlm_l + nsp_l


__all__ += ["get_tokens_and_segments", "BERTEncoder", "MaskLM", "NextSentencePred",
            "BERTModel", "_read_wiki", "_get_next_sentence", "_get_nsp_data_from_paragraph",
            "_replace_mlm_tokens", "_get_mlm_data_from_tokens", "_pad_bert_inputs",
            "_WikiTextDataset", "load_data_wiki", "_get_batch_loss_bert"]
