"""Chapter 15, Natural Language Processing: Applications, for PyTorch: the IMDb reviews
(15.1) and predictions of a sentiment model (15.2), the SNLI dataset (15.4), the multi-input
minibatch split and predictions of an inference model (15.5). Reading, tokenizing and padding
are framework-neutral (`d2l.common.nlp_data`); token ids are int64 here."""

import torch
from torch.utils import data

from ..common import nlp_data
from .deep_learning_computation import try_gpu
from .linear_networks import _batch_loader, get_dataloader_workers, load_array

__all__ = ["load_data_imdb", "predict_sentiment", "SNLIDataset", "load_data_snli",
           "split_batch_multi_inputs", "predict_snli"]


def load_data_imdb(batch_size, num_steps=500):
    """(train_iter, test_iter, vocab) for IMDb sentiment analysis: batches (X, y) with X
    (batch, num_steps) int64 word ids (truncated, or padded with vocab['<pad>'], which the
    book's vocabulary does not reserve: it pads with 0 = '<unk>') and y int64 labels (1
    positive, 0 negative); the train loader is shuffled. The vocabulary holds the training
    words seen at least 5 times."""
    (train_ids, train_labels), (test_ids, test_labels), vocab = nlp_data.load_imdb(
        batch_size, num_steps, "int64")
    train_iter = load_array((torch.from_numpy(train_ids), torch.tensor(train_labels)),
                            batch_size)
    test_iter = load_array((torch.from_numpy(test_ids), torch.tensor(test_labels)),
                           batch_size, is_train=False)
    return train_iter, test_iter, vocab


def _device_of(net):
    """Where `net`'s parameters live (the book's `try_gpu()` for a net without any)."""
    parameters = getattr(net, "parameters", None)
    first = next(iter(parameters()), None) if callable(parameters) else None
    return try_gpu() if first is None else first.device


def predict_sentiment(net, vocab, sentence):
    """'positive' or 'negative': argmax of `net` on the (1, L) int64 ids of the words of
    `sentence` (split on whitespace). `net` is put in eval mode first (the book leaves that
    to the caller, so dropout would make predictions random)."""
    ids = nlp_data.sentence_ids(vocab, sentence)
    if isinstance(net, torch.nn.Module):
        net.eval()
    sequence = torch.tensor(ids, device=_device_of(net))
    with torch.no_grad():
        label = int(torch.argmax(net(sequence.reshape(1, -1)), dim=1)[0])
    return nlp_data.SENTIMENTS[label]


class SNLIDataset(data.Dataset):
    """The SNLI dataset (the (premises, hypotheses, labels) of `read_snli`) as int64 id
    tensors: `premises` and `hypotheses` (N, num_steps), truncated or padded with
    vocab['<pad>'], and `labels` (N,). Without a `vocab`, one is built from all premise and
    hypothesis tokens (min_freq 5, '<pad>' reserved). Prints `read {N} examples`.

    `dataset[i]` is ((premise, hypothesis), label); a list or tensor of indices gives the
    whole minibatch at once."""

    def __init__(self, dataset, num_steps, vocab=None):
        premises, hypotheses, labels, self.vocab = nlp_data.snli_arrays(dataset, num_steps,
                                                                        vocab)
        self.num_steps = num_steps
        self.premises, self.hypotheses = torch.from_numpy(premises), torch.from_numpy(hypotheses)
        self.labels = torch.from_numpy(labels)
        print("read " + str(len(self.premises)) + " examples")

    def __getitem__(self, idx):
        return (self.premises[idx], self.hypotheses[idx]), self.labels[idx]

    def __len__(self):
        return len(self.premises)


def load_data_snli(batch_size, num_steps=50):
    """(train_iter, test_iter, vocab) for SNLI: batches ((premises, hypotheses), labels) of
    int64 tensors, premises/hypotheses (batch, num_steps); the training set builds the
    vocabulary, the test set reuses it; the train loader is shuffled and both use
    `get_dataloader_workers()` worker processes."""
    train_set, test_set = nlp_data.snli_sets(SNLIDataset, batch_size, num_steps)
    workers = get_dataloader_workers()
    train_iter = _batch_loader(train_set, batch_size, True, num_workers=workers)
    test_iter = _batch_loader(test_set, batch_size, False, num_workers=workers)
    return train_iter, test_iter, train_set.vocab


def split_batch_multi_inputs(X, y, devices):
    """(X_shards, y_shards) for data parallelism: each feature tensor of the list X and the
    labels y are cut along the batch axis into len(devices) consecutive shards (the first
    n % k shards one row longer, as MXNet's uneven split_and_load; shards are empty when
    n < k) and moved to their device; X_shards[d] is the tuple of device d's features."""
    bounds = nlp_data.shard_bounds("split_batch_multi_inputs", X, y, devices)
    X_shards = [tuple(x[start:stop].to(device) for x in X)
                for (start, stop), device in zip(bounds, devices)]
    y_shards = [y[start:stop].to(device) for (start, stop), device in zip(bounds, devices)]
    return X_shards, y_shards


def predict_snli(net, vocab, premise, hypothesis):
    """'entailment', 'contradiction' or 'neutral': argmax of `net([premise, hypothesis])`
    in eval mode on the (1, L) int64 ids of the token lists `premise` and `hypothesis`."""
    premise_ids, hypothesis_ids = nlp_data.pair_ids(vocab, premise, hypothesis)
    if isinstance(net, torch.nn.Module):
        net.eval()
    device = _device_of(net)
    premise = torch.tensor(premise_ids, device=device).reshape(1, -1)
    hypothesis = torch.tensor(hypothesis_ids, device=device).reshape(1, -1)
    with torch.no_grad():
        label = int(torch.argmax(net([premise, hypothesis]), dim=1)[0])
    return nlp_data.SNLI_CLASSES[label]
