"""Chapter 15, Natural Language Processing: Applications, for MXNet: the IMDb reviews (15.1)
and predictions of a sentiment model (15.2), the SNLI dataset (15.4), the multi-input
minibatch split and predictions of an inference model (15.5). Reading, tokenizing and padding
are framework-neutral (`d2l.common.nlp_data`); token ids and labels are float32 `mxnet.np`
arrays here, as `np.array` makes them from Python ints in the book (Gluon's embedding
takes float ids)."""

from mxnet import gluon, np

from ..common import nlp_data
from .deep_learning_computation import try_gpu
from .linear_networks import _batch_loader, get_dataloader_workers, load_array

__all__ = ["load_data_imdb", "predict_sentiment", "SNLIDataset", "load_data_snli",
           "split_batch_multi_inputs", "predict_snli"]


def load_data_imdb(batch_size, num_steps=500):
    """(train_iter, test_iter, vocab) for IMDb sentiment analysis: batches (X, y) with X
    (batch, num_steps) float32 word ids (truncated, or padded with vocab['<pad>'], which the
    book's vocabulary does not reserve: it pads with 0 = '<unk>') and y float32 labels (1
    positive, 0 negative); the train loader is shuffled. The vocabulary holds the training
    words seen at least 5 times."""
    (train_ids, train_labels), (test_ids, test_labels), vocab = nlp_data.load_imdb(
        batch_size, num_steps, "float32")
    train_iter = load_array((np.array(train_ids), train_labels), batch_size)
    test_iter = load_array((np.array(test_ids), test_labels), batch_size, is_train=False)
    return train_iter, test_iter, vocab


def _device_of(net):
    """The context of `net`'s first initialized parameter (the book's `try_gpu()` for a net
    without any)."""
    collect = getattr(net, "collect_params", None)
    for param in (collect().values() if callable(collect) else ()):
        try:
            return param.list_ctx()[0]
        except RuntimeError:  # not initialized yet
            break
    return try_gpu()


def predict_sentiment(net, vocab, sentence):
    """'positive' or 'negative': argmax of `net` on the (1, L) float32 ids of the words of
    `sentence` (split on whitespace), run in inference mode."""
    ids = nlp_data.sentence_ids(vocab, sentence)
    sequence = np.array(ids, ctx=_device_of(net))
    label = int(np.argmax(net(sequence.reshape(1, -1)), axis=1)[0])
    return nlp_data.SENTIMENTS[label]


class SNLIDataset(gluon.data.Dataset):
    """The SNLI dataset (the (premises, hypotheses, labels) of `read_snli`) as float32
    arrays: `premises` and `hypotheses` (N, num_steps) of ids, truncated or padded with
    vocab['<pad>'], and `labels` (N,). Without a `vocab`, one is built from all premise and
    hypothesis tokens (min_freq 5, '<pad>' reserved). Prints `read {N} examples`.

    `dataset[i]` is ((premise, hypothesis), label)."""

    def __init__(self, dataset, num_steps, vocab=None):
        *self._numpy, self.vocab = nlp_data.snli_arrays(dataset, num_steps, vocab, "float32")
        self.num_steps = num_steps
        self.premises, self.hypotheses, self.labels = (np.array(a) for a in self._numpy)
        print("read " + str(len(self.premises)) + " examples")

    def __getitem__(self, idx):
        return (self.premises[idx], self.hypotheses[idx]), self.labels[idx]

    def __len__(self):
        return len(self.premises)


def _snli_batch(samples):
    """`[(premises, hypotheses, labels)]` of one batch (NumPy) as Gluon's default batchify
    arranges ((premise, hypothesis), label) examples: [[premises, hypotheses], labels]."""
    ((premises, hypotheses, labels),) = samples
    return [[np.array(premises), np.array(hypotheses)], np.array(labels)]


def _loader(dataset, batch_size, shuffle):
    arrays = gluon.data.ArrayDataset(*dataset._numpy)
    return _batch_loader(arrays, batch_size, shuffle, _snli_batch,
                         num_workers=get_dataloader_workers())


def load_data_snli(batch_size, num_steps=50):
    """(train_iter, test_iter, vocab) for SNLI: batches [[premises, hypotheses], labels] of
    float32 arrays, premises/hypotheses (batch, num_steps); the training set builds the
    vocabulary, the test set reuses it; the train loader is shuffled and both use
    `get_dataloader_workers()` worker processes."""
    train_set, test_set = nlp_data.snli_sets(SNLIDataset, batch_size, num_steps)
    return (_loader(train_set, batch_size, True), _loader(test_set, batch_size, False),
            train_set.vocab)


def split_batch_multi_inputs(X, y, devices):
    """(X_shards, y_shards) for data parallelism: each feature array of the list X and the
    labels y split over `devices` with `gluon.utils.split_and_load(..., even_split=False)`
    (the first n % k shards one row longer; shards are empty when n < k); X_shards[d] is the
    tuple of device d's features."""
    nlp_data.shard_bounds("split_batch_multi_inputs", X, y, devices)
    X_shards = list(zip(*[gluon.utils.split_and_load(feature, devices, even_split=False)
                          for feature in X]))
    return X_shards, gluon.utils.split_and_load(y, devices, even_split=False)


def predict_snli(net, vocab, premise, hypothesis):
    """'entailment', 'contradiction' or 'neutral': argmax of `net([premise, hypothesis])` in
    inference mode on the (1, L) float32 ids of the token lists `premise` and `hypothesis`."""
    premise_ids, hypothesis_ids = nlp_data.pair_ids(vocab, premise, hypothesis)
    device = _device_of(net)
    premise = np.array(premise_ids, ctx=device).reshape(1, -1)
    hypothesis = np.array(hypothesis_ids, ctx=device).reshape(1, -1)
    label = int(np.argmax(net([premise, hypothesis]), axis=1)[0])
    return nlp_data.SNLI_CLASSES[label]
