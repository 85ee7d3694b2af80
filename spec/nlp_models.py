"""The book's chapter 15 models, whose code the book does not save, written book-style in each
framework for the checks of `predict_sentiment` and `predict_snli`: the bidirectional LSTM of
15.2 (`BiRNN`), the textCNN of 15.3 and the decomposable attention model of 15.5. Each is
built from canonical parameters (`d2l.common.params`) and has a NumPy reference forward pass.

Canonical layers, in the order the book's classes define them:

* BiRNN: 0 embedding (V, E); 1 one bidirectional LSTM layer (num_layers stacked, hidden H);
  2 dense (4H, 2) on the concatenated outputs of the first and the last time step. Keras has
  no multi-layer bidirectional layer: there the LSTM is one Bidirectional per layer (see
  `keras_birnn_params`).
* TextCNN: 0 embedding (V, E) (trained); 1 embedding (V, E) (the book's constant one);
  2 dense (sum(num_channels), 2) (the decoder, after dropout 0.5); 3... one conv1d
  (c_i, 2E, k_i) per kernel size, each followed by ReLU and max-over-time pooling (as in
  MXNet and the book's text; the PyTorch tab averages over time, which would make the
  frameworks disagree).
* DecomposableAttention: 0 embedding (V, E); 1-2 the attend MLP f; 3-4 the compare MLP g;
  5-6 the aggregate MLP h; 7 dense (H, 3). Each MLP is dropout 0.2, dense, ReLU, dropout 0.2,
  dense, ReLU.
"""

import numpy as np

from . import reference

# ------------------------------------------------------------------ canonical parameters


def _normal(rng, *dims, scale=0.5):
    return rng.normal(0, scale, dims).astype(np.float32)


def init_birnn(vocab_size, embed_size, num_hiddens, num_layers, seed=0):
    """Random canonical parameters of BiRNN."""
    from spec.canonical import init_recurrent

    rng = np.random.default_rng(seed)
    params = {"0.weight": _normal(rng, vocab_size, embed_size)}
    params.update(init_recurrent("lstm", embed_size, num_hiddens, num_layers, True, seed, k=1))
    params.update({"2.weight": _normal(rng, 4 * num_hiddens, 2), "2.bias": _normal(rng, 2)})
    return params


def init_textcnn(vocab_size, embed_size, kernel_sizes, num_channels, seed=0):
    """Random canonical parameters of TextCNN."""
    rng = np.random.default_rng(seed)
    params = {"0.weight": _normal(rng, vocab_size, embed_size),
              "1.weight": _normal(rng, vocab_size, embed_size),
              "2.weight": _normal(rng, sum(num_channels), 2), "2.bias": _normal(rng, 2)}
    for k, (c, size) in enumerate(zip(num_channels, kernel_sizes), start=3):
        params[f"{k}.weight"] = _normal(rng, c, 2 * embed_size, size)
        params[f"{k}.bias"] = _normal(rng, c)
    return params


def init_decomposable(vocab_size, embed_size, num_hiddens, seed=0):
    """Random canonical parameters of DecomposableAttention."""
    rng = np.random.default_rng(seed)
    sizes = [(embed_size, num_hiddens), (num_hiddens, num_hiddens),
             (2 * embed_size, num_hiddens), (num_hiddens, num_hiddens),
             (2 * num_hiddens, num_hiddens), (num_hiddens, num_hiddens), (num_hiddens, 3)]
    params = {"0.weight": _normal(rng, vocab_size, embed_size)}
    for k, (n_in, n_out) in enumerate(sizes, start=1):
        params[f"{k}.weight"] = _normal(rng, n_in, n_out, scale=1 / np.sqrt(n_in))
        params[f"{k}.bias"] = _normal(rng, n_out, scale=0.1)
    return params


def keras_birnn_params(params):
    """BiRNN's canonical parameters for the Keras model: the LSTM layer's num_layers stacked
    layers become one canonical layer each (1, 2, ...), the dense layer follows them."""
    from spec.canonical import _per_layer, rekeyed

    layers = _per_layer(rekeyed(params, 1))
    out = {"0.weight": params["0.weight"]}
    for k, layer in enumerate(layers, start=1):
        out.update(rekeyed(layer, 0, k))
    out.update(rekeyed(params, 2, len(layers) + 1))
    return out


# ------------------------------------------------------------------- NumPy references


def _dense(params, k, X):
    return X @ np.asarray(params[f"{k}.weight"], np.float64) + params[f"{k}.bias"]


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def birnn_reference(params, ids):
    """BiRNN logits (batch, 2) for token ids (batch, num_steps)."""
    X = reference.embedding(params["0.weight"], np.asarray(ids).T)
    outputs, _ = reference.recurrent("lstm", reference.layer_params(params, 1), X)
    return _dense(params, 2, np.concatenate([outputs[0], outputs[-1]], axis=1))


def textcnn_reference(params, ids):
    """TextCNN logits (batch, 2) in inference mode for token ids (batch, num_steps)."""
    X = np.concatenate([reference.embedding(params["0.weight"], ids),
                        reference.embedding(params["1.weight"], ids)], axis=2)
    pooled, k = [], 3
    while f"{k}.weight" in params:
        W, b = np.asarray(params[f"{k}.weight"], np.float64), params[f"{k}.bias"]
        size = W.shape[2]
        windows = np.stack([X[:, j:j + size] for j in range(X.shape[1] - size + 1)], axis=1)
        conv = np.einsum("btkc,ock->bto", windows, W) + b  # (batch, steps, channels)
        pooled.append(np.maximum(conv, 0).max(axis=1))
        k += 1
    return _dense(params, 2, np.concatenate(pooled, axis=1))


def _mlp(params, k, X):
    return np.maximum(_dense(params, k + 1, np.maximum(_dense(params, k, X), 0)), 0)


def decomposable_reference(params, premises, hypotheses):
    """DecomposableAttention logits (batch, 3) in inference mode for token ids premises
    (batch, m) and hypotheses (batch, n)."""
    A = reference.embedding(params["0.weight"], premises)
    B = reference.embedding(params["0.weight"], hypotheses)
    e = _mlp(params, 1, A) @ _mlp(params, 1, B).transpose(0, 2, 1)
    beta = _softmax(e) @ B
    alpha = _softmax(e.transpose(0, 2, 1)) @ A
    V_A = _mlp(params, 3, np.concatenate([A, beta], axis=2)).sum(axis=1)
    V_B = _mlp(params, 3, np.concatenate([B, alpha], axis=2)).sum(axis=1)
    return _dense(params, 7, _mlp(params, 5, np.concatenate([V_A, V_B], axis=1)))


# ------------------------------------------------------------ the models, per framework


def birnn(b, vocab_size, embed_size, num_hiddens, num_layers):
    """The book's BiRNN (15.2) in backend `b`, unloaded."""
    return {"torch": _torch_models, "mxnet": _mxnet_models,
            "tensorflow": _keras_models}[b.name]()["BiRNN"](vocab_size, embed_size,
                                                            num_hiddens, num_layers)


def textcnn(b, vocab_size, embed_size, kernel_sizes, num_channels):
    """The book's TextCNN (15.3) in backend `b`, unloaded."""
    return {"torch": _torch_models, "mxnet": _mxnet_models,
            "tensorflow": _keras_models}[b.name]()["TextCNN"](vocab_size, embed_size,
                                                              kernel_sizes, num_channels)


def decomposable(b, vocab, embed_size, num_hiddens):
    """The book's DecomposableAttention (15.5) in backend `b`, unloaded."""
    return {"torch": _torch_models, "mxnet": _mxnet_models,
            "tensorflow": _keras_models}[b.name]()["DecomposableAttention"](
        vocab, embed_size, num_hiddens, embed_size, 2 * embed_size, 2 * num_hiddens)


def loaded(b, net, params, example):
    """`net` with canonical `params`, after one forward pass on `example` (the model's
    input, as framework tensors) so that every framework knows its shapes."""
    if b.name == "mxnet":
        net.initialize(ctx=b.device)
        net(example)
    elif b.name == "tensorflow":
        import tensorflow as tf

        with tf.device(b.device):
            net(example)
        if "1.weight_ih_l0" in params:  # BiRNN: one Keras layer per LSTM layer
            params = keras_birnn_params(params)
    else:
        net.to(b.device)
    b.d2l.import_params(net, params)
    return net


def run(b, net, inputs):
    """net(inputs) in inference mode, as NumPy (inputs: framework tensors)."""
    if b.name == "torch":
        import torch

        net.eval()
        with torch.no_grad():
            return b.numpy(net(inputs))
    if b.name == "tensorflow":
        return b.numpy(net(inputs, training=False))
    return b.numpy(net(inputs))


_CACHE = {}


def _torch_models():
    if "torch" in _CACHE:
        return _CACHE["torch"]
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch import nn

    class BiRNN(nn.Module):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, **kwargs):
            super().__init__(**kwargs)
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.encoder = nn.LSTM(embed_size, num_hiddens, num_layers=num_layers,
                                   bidirectional=True)
            self.decoder = nn.Linear(4 * num_hiddens, 2)

        def forward(self, inputs):
            embeddings = self.embedding(inputs.T)
            self.encoder.flatten_parameters()
            outputs, _ = self.encoder(embeddings)
            encoding = torch.cat((outputs[0], outputs[-1]), dim=1)
            return self.decoder(encoding)

    class TextCNN(nn.Module):
        def __init__(self, vocab_size, embed_size, kernel_sizes, num_channels, **kwargs):
            super().__init__(**kwargs)
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.constant_embedding = nn.Embedding(vocab_size, embed_size)
            self.dropout = nn.Dropout(0.5)
            self.decoder = nn.Linear(sum(num_channels), 2)
            self.pool = nn.AdaptiveMaxPool1d(1)
            self.relu = nn.ReLU()
            self.convs = nn.ModuleList(nn.Conv1d(2 * embed_size, c, k)
                                       for c, k in zip(num_channels, kernel_sizes))

        def forward(self, inputs):
            embeddings = torch.cat((self.embedding(inputs), self.constant_embedding(inputs)),
                                   dim=2).permute(0, 2, 1)
            encoding = torch.cat([torch.squeeze(self.relu(self.pool(conv(embeddings))), dim=-1)
                                  for conv in self.convs], dim=1)
            return self.decoder(self.dropout(encoding))

    def mlp(num_inputs, num_hiddens, flatten):
        net = [nn.Dropout(0.2), nn.Linear(num_inputs, num_hiddens), nn.ReLU()]
        net += [nn.Flatten(start_dim=1)] if flatten else []
        net += [nn.Dropout(0.2), nn.Linear(num_hiddens, num_hiddens), nn.ReLU()]
        net += [nn.Flatten(start_dim=1)] if flatten else []
        return nn.Sequential(*net)

    class Attend(nn.Module):
        def __init__(self, num_inputs, num_hiddens, **kwargs):
            super().__init__(**kwargs)
            self.f = mlp(num_inputs, num_hiddens, flatten=False)

        def forward(self, A, B):
            f_A, f_B = self.f(A), self.f(B)
            e = torch.bmm(f_A, f_B.permute(0, 2, 1))
            beta = torch.bmm(F.softmax(e, dim=-1), B)
            alpha = torch.bmm(F.softmax(e.permute(0, 2, 1), dim=-1), A)
            return beta, alpha

    class Compare(nn.Module):
        def __init__(self, num_inputs, num_hiddens, **kwargs):
            super().__init__(**kwargs)
            self.g = mlp(num_inputs, num_hiddens, flatten=False)

        def forward(self, A, B, beta, alpha):
            return self.g(torch.cat([A, beta], dim=2)), self.g(torch.cat([B, alpha], dim=2))

    class Aggregate(nn.Module):
        def __init__(self, num_inputs, num_hiddens, num_outputs, **kwargs):
            super().__init__(**kwargs)
            self.h = mlp(num_inputs, num_hiddens, flatten=True)
            self.linear = nn.Linear(num_hiddens, num_outputs)

        def forward(self, V_A, V_B):
            return self.linear(self.h(torch.cat([V_A.sum(dim=1), V_B.sum(dim=1)], dim=1)))

    class DecomposableAttention(nn.Module):
        def __init__(self, vocab, embed_size, num_hiddens, num_inputs_attend=100,
                     num_inputs_compare=200, num_inputs_agg=400, **kwargs):
            super().__init__(**kwargs)
            self.embedding = nn.Embedding(len(vocab), embed_size)
            self.attend = Attend(num_inputs_attend, num_hiddens)
            self.compare = Compare(num_inputs_compare, num_hiddens)
            self.aggregate = Aggregate(num_inputs_agg, num_hiddens, num_outputs=3)

        def forward(self, X):
            premises, hypotheses = X
            A, B = self.embedding(premises), self.embedding(hypotheses)
            beta, alpha = self.attend(A, B)
            V_A, V_B = self.compare(A, B, beta, alpha)
            return self.aggregate(V_A, V_B)

    _CACHE["torch"] = dict(BiRNN=BiRNN, TextCNN=TextCNN,
                           DecomposableAttention=DecomposableAttention)
    return _CACHE["torch"]


def _mxnet_models():
    if "mxnet" in _CACHE:
        return _CACHE["mxnet"]
    from mxnet import np, npx
    from mxnet.gluon import nn, rnn

    class BiRNN(nn.Block):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, **kwargs):
            super().__init__(**kwargs)
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.encoder = rnn.LSTM(num_hiddens, num_layers=num_layers, bidirectional=True,
                                    input_size=embed_size)
            self.decoder = nn.Dense(2)

        def forward(self, inputs):
            embeddings = self.embedding(inputs.T)
            outputs = self.encoder(embeddings)
            encoding = np.concatenate((outputs[0], outputs[-1]), axis=1)
            return self.decoder(encoding)

    class TextCNN(nn.Block):
        def __init__(self, vocab_size, embed_size, kernel_sizes, num_channels, **kwargs):
            super().__init__(**kwargs)
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.constant_embedding = nn.Embedding(vocab_size, embed_size)
            self.dropout = nn.Dropout(0.5)
            self.decoder = nn.Dense(2)
            self.pool = nn.GlobalMaxPool1D()
            self.convs = nn.Sequential()
            for c, k in zip(num_channels, kernel_sizes):
                self.convs.add(nn.Conv1D(c, k, activation="relu"))

        def forward(self, inputs):
            embeddings = np.concatenate((self.embedding(inputs),
                                         self.constant_embedding(inputs)), axis=2)
            embeddings = embeddings.transpose(0, 2, 1)
            encoding = np.concatenate([np.squeeze(self.pool(conv(embeddings)), axis=-1)
                                       for conv in self.convs], axis=1)
            return self.decoder(self.dropout(encoding))

    def mlp(num_hiddens, flatten):
        net = nn.Sequential()
        net.add(nn.Dropout(0.2), nn.Dense(num_hiddens, activation="relu", flatten=flatten),
                nn.Dropout(0.2), nn.Dense(num_hiddens, activation="relu", flatten=flatten))
        return net

    class Attend(nn.Block):
        def __init__(self, num_hiddens, **kwargs):
            super().__init__(**kwargs)
            self.f = mlp(num_hiddens=num_hiddens, flatten=False)

        def forward(self, A, B):
            f_A, f_B = self.f(A), self.f(B)
            e = npx.batch_dot(f_A, f_B, transpose_b=True)
            beta = npx.batch_dot(npx.softmax(e), B)
            alpha = npx.batch_dot(npx.softmax(e.transpose(0, 2, 1)), A)
            return beta, alpha

    class Compare(nn.Block):
        def __init__(self, num_hiddens, **kwargs):
            super().__init__(**kwargs)
            self.g = mlp(num_hiddens=num_hiddens, flatten=False)

        def forward(self, A, B, beta, alpha):
            return (self.g(np.concatenate([A, beta], axis=2)),
                    self.g(np.concatenate([B, alpha], axis=2)))

    class Aggregate(nn.Block):
        def __init__(self, num_hiddens, num_outputs, **kwargs):
            super().__init__(**kwargs)
            self.h = mlp(num_hiddens=num_hiddens, flatten=True)
            self.h.add(nn.Dense(num_outputs))

        def forward(self, V_A, V_B):
            return self.h(np.concatenate([V_A.sum(axis=1), V_B.sum(axis=1)], axis=1))

    class DecomposableAttention(nn.Block):
        def __init__(self, vocab, embed_size, num_hiddens, *unused, **kwargs):
            super().__init__(**kwargs)
            self.embedding = nn.Embedding(len(vocab), embed_size)
            self.attend = Attend(num_hiddens)
            self.compare = Compare(num_hiddens)
            self.aggregate = Aggregate(num_hiddens, 3)

        def forward(self, X):
            premises, hypotheses = X
            A, B = self.embedding(premises), self.embedding(hypotheses)
            beta, alpha = self.attend(A, B)
            V_A, V_B = self.compare(A, B, beta, alpha)
            return self.aggregate(V_A, V_B)

    _CACHE["mxnet"] = dict(BiRNN=BiRNN, TextCNN=TextCNN,
                           DecomposableAttention=DecomposableAttention)
    return _CACHE["mxnet"]


def _keras_models():
    if "tensorflow" in _CACHE:
        return _CACHE["tensorflow"]
    import tensorflow as tf
    from tensorflow import keras

    L = keras.layers

    class BiRNN(keras.Model):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, **kwargs):
            super().__init__(**kwargs)
            self.embedding = L.Embedding(vocab_size, embed_size)
            self.encoder = [L.Bidirectional(L.LSTM(num_hiddens, return_sequences=True))
                            for _ in range(num_layers)]
            self.decoder = L.Dense(2)

        def call(self, inputs):
            outputs = self.embedding(inputs)  # batch-major (batch, num_steps, embed_size)
            for layer in self.encoder:
                outputs = layer(outputs)
            encoding = tf.concat((outputs[:, 0], outputs[:, -1]), axis=1)
            return self.decoder(encoding)

    class TextCNN(keras.Model):
        def __init__(self, vocab_size, embed_size, kernel_sizes, num_channels, **kwargs):
            super().__init__(**kwargs)
            self.embedding = L.Embedding(vocab_size, embed_size)
            self.constant_embedding = L.Embedding(vocab_size, embed_size)
            self.dropout = L.Dropout(0.5)
            self.decoder = L.Dense(2)
            self.pool = L.GlobalMaxPool1D()
            self.convs = [L.Conv1D(c, k, activation="relu")
                          for c, k in zip(num_channels, kernel_sizes)]

        def call(self, inputs, training=None):
            embeddings = tf.concat((self.embedding(inputs), self.constant_embedding(inputs)),
                                   axis=2)  # channels last: (batch, num_steps, 2 * embed)
            encoding = tf.concat([self.pool(conv(embeddings)) for conv in self.convs], axis=1)
            return self.decoder(self.dropout(encoding, training=training))

    def mlp(num_hiddens):
        return keras.Sequential([L.Dropout(0.2), L.Dense(num_hiddens, activation="relu"),
                                 L.Dropout(0.2), L.Dense(num_hiddens, activation="relu")])

    class Attend(L.Layer):
        def __init__(self, num_hiddens, **kwargs):
            super().__init__(**kwargs)
            self.f = mlp(num_hiddens)

        def call(self, A, B, training=None):
            f_A, f_B = self.f(A, training=training), self.f(B, training=training)
            e = tf.matmul(f_A, f_B, transpose_b=True)
            beta = tf.matmul(tf.nn.softmax(e, axis=-1), B)
            alpha = tf.matmul(tf.nn.softmax(tf.transpose(e, (0, 2, 1)), axis=-1), A)
            return beta, alpha

    class Compare(L.Layer):
        def __init__(self, num_hiddens, **kwargs):
            super().__init__(**kwargs)
            self.g = mlp(num_hiddens)

        def call(self, A, B, beta, alpha, training=None):
            return (self.g(tf.concat([A, beta], axis=2), training=training),
                    self.g(tf.concat([B, alpha], axis=2), training=training))

    class Aggregate(L.Layer):
        def __init__(self, num_hiddens, num_outputs, **kwargs):
            super().__init__(**kwargs)
            self.h = mlp(num_hiddens)
            self.linear = L.Dense(num_outputs)

        def call(self, V_A, V_B, training=None):
            V = tf.concat([tf.reduce_sum(V_A, axis=1), tf.reduce_sum(V_B, axis=1)], axis=1)
            return self.linear(self.h(V, training=training))

    class DecomposableAttention(keras.Model):
        def __init__(self, vocab, embed_size, num_hiddens, *unused, **kwargs):
            super().__init__(**kwargs)
            self.embedding = L.Embedding(len(vocab), embed_size)
            self.attend = Attend(num_hiddens)
            self.compare = Compare(num_hiddens)
            self.aggregate = Aggregate(num_hiddens, 3)

        def call(self, X, training=None):
            premises, hypotheses = X
            A, B = self.embedding(premises), self.embedding(hypotheses)
            beta, alpha = self.attend(A, B, training=training)
            V_A, V_B = self.compare(A, B, beta, alpha, training=training)
            return self.aggregate(V_A, V_B, training=training)

    _CACHE["tensorflow"] = dict(BiRNN=BiRNN, TextCNN=TextCNN,
                                DecomposableAttention=DecomposableAttention)
    return _CACHE["tensorflow"]
