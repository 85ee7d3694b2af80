"""Chapter 8, Recurrent Neural Networks, for tensorflow: the text datasets of 8.2-8.3 (built on
`d2l.common.text`), the RNN from scratch (8.5) and the concise RNN model (8.6)."""

import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras

from ..common import checks, language_models, text
from . import aliases
from .deep_learning_computation import try_gpu

# 8.2-8.3: Text data
__all__ = ["seq_data_iter_random", "seq_data_iter_sequential", "SeqDataLoader",
           "load_data_time_machine"]


def _index_tensor(a):
    """An index array as `d2l.tensor` makes it from Python ints: int32 in TensorFlow."""
    return aliases.tensor(a, dtype=aliases.int32)


def _unstack(a):
    """The minibatches of an epoch tensor: its slices along the first axis, in one op
    (indexing an eager tensor once per minibatch costs far more)."""
    return tf.unstack(a)


def _tensor_batches(epoch, corpus, batch_size, num_steps):
    """The (X, Y) minibatches of a `d2l.common.text` sampler as tensors."""
    return text.tensor_batches(epoch, _index_tensor, _unstack, corpus, batch_size, num_steps)


def seq_data_iter_random(corpus, batch_size, num_steps):
    """Generator of (X, Y) minibatches of randomly placed subsequences of `corpus` (a list
    of token indices): X, Y int32 (batch_size, num_steps), Y is X shifted by one token.
    Draws one `random.randint` and one `random.shuffle` (see `d2l.common.text`)."""
    corpus = text.sampler_corpus("seq_data_iter_random", corpus, batch_size, num_steps)
    return _tensor_batches(text.random_epoch, corpus, batch_size, num_steps)


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    """Generator of (X, Y) minibatches where row i of consecutive batches continues the
    text: X, Y int32 (batch_size, num_steps), Y is X shifted by one token. Draws one
    `random.randint` (the offset)."""
    corpus = text.sampler_corpus("seq_data_iter_sequential", corpus, batch_size, num_steps)
    return _tensor_batches(text.sequential_epoch, corpus, batch_size, num_steps)


class SeqDataLoader(text.SeqDataLoader):
    """Iterable over Time Machine minibatches (see `d2l.common.text.SeqDataLoader`)."""

    backend = __package__


def load_data_time_machine(batch_size, num_steps, use_random_iter=False, max_tokens=10000):
    """(data_iter, vocab): a `SeqDataLoader` over the first max_tokens characters of The Time
    Machine and its vocabulary."""
    return text.load_data_time_machine(sys.modules[__package__], batch_size, num_steps,
                                       use_random_iter, max_tokens)


# 8.5: RNN from scratch and training
__all__ += ["RNNModelScratch", "predict_ch8", "grad_clipping", "train_epoch_ch8", "train_ch8"]


class RNNModelScratch:
    """An RNN language model made of user functions (section 8.5).

    `get_params(vocab_size, num_hiddens)` returns the list of tf.Variables (kept as
    `trainable_variables`), `init_state(batch_size, num_hiddens)` the initial state (a tuple
    of tensors), and `forward_fn(inputs, state, params)` maps one-hot inputs
    (num_steps, batch, vocab_size) float32 to (outputs (num_steps * batch, vocab_size),
    new state). `net(X, state)` takes token ids X of shape (batch, num_steps).
    """

    def __init__(self, vocab_size, num_hiddens, init_state, forward_fn, get_params):
        language_models.check_sizes("RNNModelScratch", vocab_size, num_hiddens)
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.init_state, self.forward_fn = init_state, forward_fn
        self.trainable_variables = get_params(vocab_size, num_hiddens)

    def __call__(self, X, state):
        checks.token_ids("RNNModelScratch", "X", X, self.vocab_size)
        X = tf.one_hot(tf.cast(tf.transpose(X), tf.int32), self.vocab_size, dtype=tf.float32)
        return self.forward_fn(X, state, self.trainable_variables)

    def begin_state(self, batch_size, *args, **kwargs):
        """The initial state; further arguments (the book passes dtype=) are ignored."""
        return self.init_state(batch_size, self.num_hiddens)


def predict_ch8(prefix, num_preds, net, vocab):
    """`prefix` followed by `num_preds` greedily generated characters (one string)."""
    return language_models.predict_ch8(
        prefix, num_preds, vocab, lambda: net.begin_state(batch_size=1, dtype=tf.float32),
        lambda token, state: net(np.array([[token]]), state))


def grad_clipping(grads, theta):
    """The gradients as a list of dense tensors (tf.IndexedSlices are densified), scaled by
    theta / ||g|| when their global L2 norm ||g|| exceeds `theta` (the book's test: an
    infinite norm scales by 0, so infinite entries become NaN; a NaN norm changes nothing)."""
    language_models.check_theta(theta)
    grads = [tf.convert_to_tensor(g) for g in grads]
    if not grads:
        return grads
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g ** 2) for g in grads]))
    scale = tf.where(norm > theta, theta / norm, tf.ones_like(norm))
    return [g * scale for g in grads]


def train_epoch_ch8(net, train_iter, loss, updater, use_random_iter):
    """One epoch with truncated backpropagation through time; returns (perplexity, tokens
    per second). `loss` is a Keras loss (called label first, mean-reduced); `updater` a
    Keras optimizer stepping on `net.trainable_variables` with the gradients clipped to
    global norm 1. Each batch has its own tape, so no state is carried across graphs."""
    def step(X, Y, state):
        if state is None:
            state = net.begin_state(batch_size=X.shape[0], dtype=tf.float32)
        with tf.GradientTape() as tape:
            y_hat, state = net(X, state)
            y = tf.reshape(tf.transpose(Y), (-1,))
            l = tf.reduce_mean(loss(y, y_hat))
        params = net.trainable_variables
        grads = grad_clipping(tape.gradient(l, params), 1)
        updater.apply_gradients(zip(grads, params))
        return l, state

    return language_models.train_epoch_ch8(step, train_iter, use_random_iter)


def train_ch8(net, train_iter, vocab, lr, num_epochs, strategy, use_random_iter=False):
    """Train a language model with SGD (`lr`) on the mean sparse cross-entropy of logits;
    the loss and optimizer are created in `strategy.scope()` (e.g.
    tf.distribute.OneDeviceStrategy(device_name)). Plots the perplexity every 10 epochs and
    prints the 'time traveller' sample there; prints the final perplexity, tokens/sec (on
    `try_gpu()`'s device name) and two samples."""
    language_models.check_train_ch8(lr, num_epochs)
    with strategy.scope():
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        updater = keras.optimizers.SGD(learning_rate=float(lr))
    language_models.train_ch8(
        lambda: train_epoch_ch8(net, train_iter, loss, updater, use_random_iter),
        lambda prefix: predict_ch8(prefix, language_models.NUM_SAMPLE_PREDS, net, vocab),
        num_epochs, try_gpu()._device_name, sample_while_training=True)


# 8.6: Concise RNN model
__all__ += ["RNNModel"]

# Whether tf.keras is tf-keras (Keras 2: TF_USE_LEGACY_KERAS=1 with tf-keras installed) rather
# than Keras 3; the two define the cells' get_initial_state differently.
_TF_KERAS = keras.layers.Layer.__module__.startswith("tf_keras")


class RNNModel(keras.layers.Layer):
    """A language model around a Keras recurrent layer (section 8.6), under either Keras
    `tf.keras` is (Keras 3, or tf-keras with TF_USE_LEGACY_KERAS=1).

    `rnn_layer` is a `tf.keras.layers.RNN` (SimpleRNN, GRU, LSTM, or RNN over a cell or
    StackedRNNCells) or a `Bidirectional` of one, built with return_sequences=True and
    return_state=True: batch-major, or time-major (`time_major=True`, the book's Keras 2
    layer; tf-keras only). `net(inputs, state)` one-hot encodes token ids (batch, num_steps)
    in the layer's layout, and `dense` maps the outputs to logits (num_steps * batch,
    vocab_size) with rows in time-major order (step, then example), as in MXNet/PyTorch.
    Returns (logits, new state); the state is the list after the layer's output: [h] or
    [h, c] (LSTM) for one cell, per cell for StackedRNNCells (Keras 3 nests each cell's state
    in a list, tf-keras only an LSTM's), forward then backward for Bidirectional. `state` may
    also be what the cell's `get_initial_state` gives (tf-keras: a tensor for one
    SimpleRNN/GRU cell).
    """

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super().__init__(**kwargs)
        recurrent = isinstance(rnn_layer, (keras.layers.RNN, keras.layers.Bidirectional))
        if not (recurrent and rnn_layer.return_sequences and rnn_layer.return_state):
            raise ValueError("RNNModel: rnn_layer must be a tf.keras.layers.RNN (or a "
                             "Bidirectional of one) built with return_sequences=True and "
                             f"return_state=True, got {rnn_layer!r}")
        checks.positive_int("RNNModel", "vocab_size", vocab_size)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.dense = keras.layers.Dense(vocab_size)

    def build(self, input_shape):
        """The sublayers build on their first call."""

    def _directions(self):
        """The layer's RNN per direction: (rnn,) or (forward, backward)."""
        return (self.rnn.forward_layer, self.rnn.backward_layer) \
            if isinstance(self.rnn, keras.layers.Bidirectional) else (self.rnn,)

    def call(self, inputs, state):
        checks.token_ids("RNNModel", "inputs", inputs, self.vocab_size)
        time_major = getattr(self._directions()[0], "time_major", False)
        inputs = tf.transpose(inputs) if time_major else inputs
        Y, *state = self.rnn(tf.one_hot(tf.cast(inputs, tf.int32), self.vocab_size),
                             initial_state=state)
        Y = Y if time_major else tf.transpose(Y, (1, 0, 2))
        return self.dense(tf.reshape(Y, (-1, Y.shape[-1]))), state

    def begin_state(self, batch_size, dtype=None):
        """The cells' zero state for `batch_size` examples (in `dtype`, default float32):
        the structure `call` takes and returns. Calls each cell's `get_initial_state` as the
        Keras in use defines it (Keras 3: `(batch_size)`; tf-keras, as in the book:
        `(batch_size=..., dtype=...)`)."""
        dtype = tf.as_dtype(dtype or tf.float32)
        state = []
        for layer in self._directions():
            if _TF_KERAS:
                cell_state = layer.cell.get_initial_state(batch_size=batch_size, dtype=dtype)
            else:
                cell_state = tf.nest.map_structure(lambda s: tf.cast(s, dtype),
                                                   layer.cell.get_initial_state(batch_size))
            state += cell_state if isinstance(cell_state, (list, tuple)) else [cell_state]
        return state
