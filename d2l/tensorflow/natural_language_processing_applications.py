"""Chapter 15, Natural Language Processing: Applications, for TensorFlow (upstream has no
TensorFlow code for it; this follows the PyTorch tab): the IMDb reviews (15.1) and
predictions of a sentiment model (15.2), the SNLI dataset (15.4), the multi-input minibatch
split and predictions of an inference model (15.5). Reading, tokenizing and padding are
framework-neutral (`d2l.common.nlp_data`); token ids and labels are int32 here."""

import tensorflow as tf
from tensorflow import keras

from ..common import nlp_data
from .deep_learning_computation import try_gpu
from .linear_networks import get_dataloader_workers

__all__ = ["load_data_imdb", "predict_sentiment", "SNLIDataset", "load_data_snli",
           "split_batch_multi_inputs", "predict_snli"]


def _batches(arrays, batch_size, shuffle):
    """A tf.data.Dataset of minibatches of the equally long `arrays` (a nested tuple), in
    order or, when `shuffle`, in a new random permutation of all examples on every pass (a
    shuffle buffer of indices: the book's 1000-example buffer would keep IMDb's positive
    reviews, which come first, together)."""
    n = len(tf.nest.flatten(arrays)[0])
    order = tf.data.Dataset.range(n)
    if shuffle:
        order = order.shuffle(max(n, 1), reshuffle_each_iteration=True)
    return order.batch(batch_size).map(
        lambda idx: tf.nest.map_structure(lambda a: tf.gather(a, idx), arrays),
        num_parallel_calls=get_dataloader_workers())


def load_data_imdb(batch_size, num_steps=500):
    """(train_iter, test_iter, vocab) for IMDb sentiment analysis: batches (X, y) with X
    (batch, num_steps) int32 word ids (truncated, or padded with vocab['<pad>'], which the
    book's vocabulary does not reserve: it pads with 0 = '<unk>') and y int32 labels (1
    positive, 0 negative); the train loader is shuffled. The vocabulary holds the training
    words seen at least 5 times."""
    train, test, vocab = nlp_data.load_imdb(batch_size, num_steps, "int32")

    def split(ids, labels):
        return (tf.constant(ids, dtype=tf.int32), tf.constant(labels, dtype=tf.int32))

    return (_batches(split(*train), batch_size, True),
            _batches(split(*test), batch_size, False), vocab)


def _call(net, *inputs):
    """`net(*inputs)` in inference mode (`training=False` for Keras layers and models)."""
    if isinstance(net, keras.layers.Layer):
        return net(*inputs, training=False)
    return net(*inputs)


def predict_sentiment(net, vocab, sentence):
    """'positive' or 'negative': argmax of `net` (in inference mode) on the (1, L) int32 ids
    of the words of `sentence` (split on whitespace)."""
    ids = nlp_data.sentence_ids(vocab, sentence)
    with try_gpu():
        sequence = tf.constant(ids, dtype=tf.int32)
        label = int(tf.argmax(_call(net, tf.reshape(sequence, (1, -1))), axis=1)[0])
    return nlp_data.SENTIMENTS[label]


class SNLIDataset:
    """The SNLI dataset (the (premises, hypotheses, labels) of `read_snli`) as int32
    tensors: `premises` and `hypotheses` (N, num_steps) of ids, truncated or padded with
    vocab['<pad>'], and `labels` (N,). Without a `vocab`, one is built from all premise and
    hypothesis tokens (min_freq 5, '<pad>' reserved). Prints `read {N} examples`.

    `dataset[i]` is ((premise, hypothesis), label); a list or tensor of indices gives the
    whole minibatch."""

    def __init__(self, dataset, num_steps, vocab=None):
        premises, hypotheses, labels, self.vocab = nlp_data.snli_arrays(dataset, num_steps,
                                                                        vocab, "int32")
        self.num_steps = num_steps
        self.premises, self.hypotheses, self.labels = (
            tf.constant(a, dtype=tf.int32) for a in (premises, hypotheses, labels))
        print("read " + str(len(self.premises)) + " examples")

    def __getitem__(self, idx):
        return ((tf.gather(self.premises, idx), tf.gather(self.hypotheses, idx)),
                tf.gather(self.labels, idx))

    def __len__(self):
        return len(self.premises)


def load_data_snli(batch_size, num_steps=50):
    """(train_iter, test_iter, vocab) for SNLI: tf.data batches ((premises, hypotheses),
    labels) of int32 tensors, premises/hypotheses (batch, num_steps); the training set
    builds the vocabulary, the test set reuses it; the train batches are reshuffled on every
    pass."""
    train_set, test_set = nlp_data.snli_sets(SNLIDataset, batch_size, num_steps)

    def arrays(dataset):
        return (dataset.premises, dataset.hypotheses), dataset.labels

    return (_batches(arrays(train_set), batch_size, True),
            _batches(arrays(test_set), batch_size, False), train_set.vocab)


def _placed(device, tensor):
    """A copy of `tensor` on `device` (a device name or a `tf.device` from try_gpu)."""
    with tf.device(getattr(device, "_device_name", device)):
        return tf.identity(tensor)


def split_batch_multi_inputs(X, y, devices):
    """(X_shards, y_shards) for data parallelism: each feature tensor of the list X and the
    labels y are cut along the batch axis into len(devices) consecutive shards (the first
    n % k shards one row longer, as MXNet's uneven split_and_load; shards are empty when
    n < k), each copied to its device; X_shards[d] is the tuple of device d's features."""
    bounds = nlp_data.shard_bounds("split_batch_multi_inputs", X, y, devices)
    X_shards = [tuple(_placed(device, x[start:stop]) for x in X)
                for (start, stop), device in zip(bounds, devices)]
    y_shards = [_placed(device, y[start:stop]) for (start, stop), device in zip(bounds, devices)]
    return X_shards, y_shards


def predict_snli(net, vocab, premise, hypothesis):
    """'entailment', 'contradiction' or 'neutral': argmax of `net([premise, hypothesis])` in
    inference mode on the (1, L) int32 ids of the token lists `premise` and `hypothesis`."""
    premise_ids, hypothesis_ids = nlp_data.pair_ids(vocab, premise, hypothesis)
    with try_gpu():
        premise = tf.reshape(tf.constant(premise_ids, dtype=tf.int32), (1, -1))
        hypothesis = tf.reshape(tf.constant(hypothesis_ids, dtype=tf.int32), (1, -1))
        label = int(tf.argmax(_call(net, [premise, hypothesis]), axis=1)[0])
    return nlp_data.SNLI_CLASSES[label]
