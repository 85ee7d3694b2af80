"""NumPy references for the models and training loops of chapters 3 and 4.

Models are stacks of dense layers given by canonical parameters (`spec.canonical`):
{"<k>.weight": (in, out), "<k>.bias": (out,)}, with ReLU between layers and the input
flattened. Computation is in float64; the frameworks run in float32.
"""

import numpy as np


def n_dense(params):
    return len([k for k in params if k.endswith(".weight")])


def forward(params, X):
    """Logits of the dense stack; also returns each layer's input (for backprop)."""
    h = np.asarray(X, np.float64).reshape(len(X), -1)
    inputs = []
    for k in range(n_dense(params)):
        inputs.append(h)
        h = h @ params[f"{k}.weight"] + params[f"{k}.bias"]
        if k < n_dense(params) - 1:
            h = np.maximum(h, 0)
    return h, inputs


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(logits, y):
    """Per-example softmax cross-entropy of integer labels."""
    p = softmax(logits)
    return -np.log(p[np.arange(len(y)), y])


def accuracy(y_hat, y):
    """Number of correct predictions: the argmax of each row when y_hat has several columns;
    else one prediction per example (a single column (n, 1) is read as n predictions for
    labels (n,)), cast to y's dtype and compared with y. A row of scores with a NaN, and a
    non-finite prediction, is never correct."""
    y = np.asarray(y)
    if y_hat.ndim == 2 and y_hat.shape[1] > 1:
        scored = ~np.isnan(y_hat).any(axis=1)
        predicted = np.argmax(y_hat, axis=1)
    else:
        predicted = y_hat.ravel() if y_hat.shape == (len(y), 1) and y.ndim == 1 else y_hat
        scored = np.isfinite(predicted)
    with np.errstate(invalid="ignore"):
        hits = predicted.astype(y.dtype) == y
    return float(np.count_nonzero(hits & scored))


def squared(out, y):
    """Per-example half squared error (y reshaped to the output)."""
    return ((out - np.reshape(y, out.shape)) ** 2 / 2).sum(axis=1)


def sgd_step(params, X, y, lr, loss="cross_entropy"):
    """One SGD step on the batch mean of `loss` ('cross_entropy' of integer labels or
    'squared'); returns new params and the per-example losses and outputs before the step."""
    logits, inputs = forward(params, X)
    if loss == "cross_entropy":
        losses = cross_entropy(logits, y)
        grad = softmax(logits)
        grad[np.arange(len(y)), y] -= 1
    else:
        losses = squared(logits, y)
        grad = logits - np.reshape(y, logits.shape)
    grad /= len(y)
    new = dict(params)
    for k in reversed(range(n_dense(params))):
        w = params[f"{k}.weight"]
        new[f"{k}.weight"] = w - lr * inputs[k].T @ grad
        new[f"{k}.bias"] = params[f"{k}.bias"] - lr * grad.sum(axis=0)
        if k:
            grad = (grad @ w.T) * (inputs[k] > 0)
    return new, losses, logits


def train_epochs(params, batches, lr, num_epochs, loss="cross_entropy"):
    """What `train_epoch_ch3` returns per epoch with SGD on the batch-mean `loss`:
    a list of (mean loss, mean accuracy), and the final params."""
    params = {k: np.asarray(v, np.float64) for k, v in params.items()}
    history = []
    for _ in range(num_epochs):
        loss_sum = correct = count = 0.0
        for X, y in batches:
            params, losses, logits = sgd_step(params, X, y, lr, loss)
            loss_sum += losses.sum()
            correct += accuracy(logits, y)
            count += len(y)
        history.append((loss_sum / count, correct / count))
    return history, params


def bilinear_resize(images, size):
    """Resize N x H x W images to N x size x size: bilinear, half-pixel centres, no
    antialiasing (what the loaders' `resize` means)."""
    images = np.asarray(images, np.float64)
    _, h, w = images.shape

    def axis(n_in):
        pos = np.clip((np.arange(size) + 0.5) * n_in / size - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, pos - lo

    (r0, r1, fr), (c0, c1, fc) = axis(h), axis(w)
    top = images[:, r0][:, :, c0] * (1 - fc) + images[:, r0][:, :, c1] * fc
    bottom = images[:, r1][:, :, c0] * (1 - fc) + images[:, r1][:, :, c1] * fc
    return top * (1 - fr[:, None]) + bottom * fr[:, None]


def conv2d(X, weight, bias, stride=1, padding=0):
    """NCHW cross-correlation with `padding` zeros on every side; weight (O, I, kh, kw)."""
    X = np.pad(np.asarray(X, np.float64), ((0, 0), (0, 0), (padding, padding),
                                           (padding, padding)))
    windows = np.lib.stride_tricks.sliding_window_view(X, weight.shape[2:], axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    return (np.einsum("nchwij,ocij->nohw", windows, weight, optimize=True)
            + bias[None, :, None, None])


def batch_norm(X, params, k, training, eps=1e-5):
    """Batch normalisation of NCHW X with canonical params "<k>.gamma" etc.: batch statistics
    (biased variance) in training, running statistics in inference."""
    if training:
        mean, var = X.mean(axis=(0, 2, 3)), X.var(axis=(0, 2, 3))
    else:
        mean, var = params[f"{k}.running_mean"], params[f"{k}.running_var"]
    shape = (1, -1, 1, 1)
    return (params[f"{k}.gamma"].reshape(shape) * (X - mean.reshape(shape))
            / np.sqrt(var.reshape(shape) + eps) + params[f"{k}.beta"].reshape(shape))


def residual(params, X, strides, training):
    """The residual block of section 7.6 with canonical params: 0 conv1, 1 bn1, 2 conv2,
    3 bn2 and, when present, 4 the 1x1 shortcut convolution."""
    Y = conv2d(X, params["0.weight"], params["0.bias"], strides, 1)
    Y = np.maximum(batch_norm(Y, params, 1, training), 0)
    Y = batch_norm(conv2d(Y, params["2.weight"], params["2.bias"], 1, 1), params, 3, training)
    if "4.weight" in params:
        X = conv2d(X, params["4.weight"], params["4.bias"], strides, 0)
    return np.maximum(Y + X, 0)


def pool2d(X, kernel, stride, padding, mode):
    """NCHW max or average pooling; max pooling pads with -inf."""
    fill = -np.inf if mode == "max" else 0.0
    X = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)),
               constant_values=fill)
    windows = np.lib.stride_tricks.sliding_window_view(X, (kernel, kernel), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]
    return windows.max(axis=(4, 5)) if mode == "max" else windows.mean(axis=(4, 5))


def grouped_conv2d(X, weight, bias, stride, padding, groups):
    """conv2d with the channels split into `groups` independent convolutions."""
    xs = np.split(X, groups, axis=1)
    ws = np.split(weight, groups, axis=0)
    out = np.concatenate([conv2d(x, w, np.zeros(len(w)), stride, padding)
                          for x, w in zip(xs, ws)], axis=1)
    return out + bias[None, :, None, None]


def run(layers, params, X, training):
    """The NumPy forward pass of a model description (see `spec.canonical`); dropout is the
    identity (compare dropout models in inference mode only)."""
    h, k = np.asarray(X, np.float64), 0
    params = {key: np.asarray(v, np.float64) for key, v in params.items()}
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            out, kernel, stride, pad, groups = (*layer[1:], 1)[:5]
            h = grouped_conv2d(h, params[f"{k}.weight"], params[f"{k}.bias"], stride, pad,
                               groups)
            k += 1
        elif kind == "bn":
            h = (batch_norm(h, params, k, training) if h.ndim == 4 else
                 batch_norm(h[:, :, None, None], params, k, training)[:, :, 0, 0])
            k += 1
        elif kind == "dense":
            h = h.reshape(len(h), -1) @ params[f"{k}.weight"] + params[f"{k}.bias"]
            k += 1
        elif kind == "residual":
            n = 5 if layer[2] else 4
            own = {f"{int(key.split('.')[0]) - k}.{key.split('.')[1]}": v
                   for key, v in params.items() if k <= int(key.split(".")[0]) < k + n}
            h = residual(own, h, layer[3], training)
            k += n
        elif kind in ("avgpool", "maxpool"):
            h = pool2d(h, layer[1], layer[2], (*layer, 0)[3], kind[:3])
        elif kind == "gap":
            h = h.mean(axis=(2, 3))
        elif kind == "flatten":
            h = h.reshape(len(h), -1)
        elif kind == "relu":
            h = np.maximum(h, 0)
        elif kind == "sigmoid":
            h = 1 / (1 + np.exp(-h))
    return h


def embedding(weight, ids):
    """Rows of the canonical embedding weight (num_embeddings, dim) for integer `ids` of
    any shape: result shape ids.shape + (dim,)."""
    return np.asarray(weight, np.float64)[np.asarray(ids, np.int64)]


def layer_norm(X, gamma, beta, eps=1e-5):
    """Normalise X over its trailing gamma.ndim axes (biased variance), then scale by gamma
    and shift by beta (canonical layernorm params, of the normalized shape)."""
    X = np.asarray(X, np.float64)
    axes = tuple(range(-np.ndim(gamma), 0))
    mean, var = X.mean(axis=axes, keepdims=True), X.var(axis=axes, keepdims=True)
    return (X - mean) / np.sqrt(var + eps) * gamma + beta


def layer_params(params, k):
    """The arrays of canonical layer k, keyed by their names without the "<k>." prefix."""
    prefix = f"{k}."
    return {key[len(prefix):]: np.asarray(v, np.float64) for key, v in params.items()
            if key.startswith(prefix)}


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def recurrent_cell(kind, x, state, w_ih, w_hh, b_ih, b_hh, activation="tanh"):
    """One time step of one direction of a recurrent layer with canonical weights.

    x (N, in); state: h (N, H) for 'rnn'/'gru', (h, c) for 'lstm'. Returns the new state.
    """
    h = state[0] if kind == "lstm" else state
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    if kind == "rnn":
        return np.tanh(gi + gh) if activation == "tanh" else np.maximum(gi + gh, 0)
    if kind == "gru":
        (i_r, i_z, i_n), (h_r, h_z, h_n) = np.split(gi, 3, axis=1), np.split(gh, 3, axis=1)
        r, z = _sigmoid(i_r + h_r), _sigmoid(i_z + h_z)
        n = np.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h
    i, f, g, o = np.split(gi + gh, 4, axis=1)
    c = _sigmoid(f) * state[1] + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def recurrent(kind, params, X, state=None, activation="tanh"):
    """A multi-layer, optionally bidirectional 'rnn', 'gru' or 'lstm' layer over time-major X
    (num_steps, batch, in) with one canonical layer's `params` (names without the "<k>."
    prefix; see `d2l.common.params`): the oracle of the framework recurrent layers.

    `state` is the initial state in the canonical state format, h (num_layers * D, batch, H)
    for 'rnn'/'gru' and (h, c) for 'lstm', row l * D + d for layer l and direction d; None
    means zeros. Returns (outputs (num_steps, batch, D * H), final state in that format).
    """
    params = {name: np.asarray(v, np.float64) for name, v in params.items()}
    num_layers = len([n for n in params if n.startswith("weight_ih_l")
                      and not n.endswith("_reverse")])
    suffixes = ("", "_reverse") if "weight_ih_l0_reverse" in params else ("",)
    hidden = params["weight_hh_l0"].shape[1]
    batch = X.shape[1]
    if state is None:
        zeros = np.zeros((num_layers * len(suffixes), batch, hidden))
        state = (zeros, zeros) if kind == "lstm" else zeros
    states = [np.asarray(s, np.float64) for s in state] if kind == "lstm" else \
        [np.asarray(state, np.float64)]
    layer_input, finals = np.asarray(X, np.float64), []
    for layer in range(num_layers):
        outputs = []
        for d, suffix in enumerate(suffixes):
            names = [f"{field}_l{layer}{suffix}" for field in
                     ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            w_ih, w_hh = params[names[0]], params[names[1]]
            b_ih, b_hh = (params.get(n, np.zeros(len(w_ih))) for n in names[2:])
            row = layer * len(suffixes) + d
            s = tuple(part[row] for part in states) if kind == "lstm" else states[0][row]
            steps = range(len(layer_input))[::-1 if suffix else 1]
            out = np.zeros((len(layer_input), batch, hidden))
            for t in steps:
                s = recurrent_cell(kind, layer_input[t], s, w_ih, w_hh, b_ih, b_hh, activation)
                out[t] = s[0] if kind == "lstm" else s
            outputs.append(out)
            finals.append(s)
        layer_input = np.concatenate(outputs, axis=-1)
    if kind == "lstm":
        return layer_input, (np.stack([h for h, _ in finals]), np.stack([c for _, c in finals]))
    return layer_input, np.stack(finals)


# Section 8.5: the book's RNN from scratch. Parameters are a dict of the book's get_params
# list, in its order and layout: W_xh (V, H), W_hh (H, H), b_h (H,), W_hq (H, V), b_q (V,).
SCRATCH_RNN_NAMES = ("W_xh", "W_hh", "b_h", "W_hq", "b_q")


def scratch_rnn(params, X, H):
    """The scratch RNN on token ids X (batch, num_steps) from state H (batch, hidden).

    Returns (outputs (num_steps * batch, V), time-major rows as the book stacks them, final
    H, and the one-hot inputs and hidden states of every step for `scratch_rnn_grads`).
    """
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    inputs = np.eye(len(p["W_xh"]))[np.asarray(X, np.int64).T]  # (num_steps, batch, V)
    hs, outputs = [np.asarray(H, np.float64)], []
    for x in inputs:
        hs.append(np.tanh(x @ p["W_xh"] + hs[-1] @ p["W_hh"] + p["b_h"]))
        outputs.append(hs[-1] @ p["W_hq"] + p["b_q"])
    return np.concatenate(outputs), hs[-1], (inputs, hs)


def scratch_rnn_grads(params, X, Y, H):
    """Mean cross-entropy of the next tokens Y (batch, num_steps) and its gradients by
    backpropagation through the batch's steps only (the incoming state H is a constant, as
    after detaching). Returns (loss, grads keyed like params, final H)."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    logits, H_final, (inputs, hs) = scratch_rnn(p, X, H)
    y = np.asarray(Y, np.int64).T.reshape(-1)
    loss = cross_entropy(logits, y).mean()
    d_logits = softmax(logits)
    d_logits[np.arange(len(y)), y] -= 1
    d_logits = (d_logits / len(y)).reshape(len(inputs), len(H), -1)
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    d_next = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        grads["W_hq"] += hs[t + 1].T @ d_logits[t]
        grads["b_q"] += d_logits[t].sum(axis=0)
        d_pre = (d_logits[t] @ p["W_hq"].T + d_next) * (1 - hs[t + 1] ** 2)
        grads["W_xh"] += inputs[t].T @ d_pre
        grads["W_hh"] += hs[t].T @ d_pre
        grads["b_h"] += d_pre.sum(axis=0)
        d_next = d_pre @ p["W_hh"].T
    return loss, grads, H_final


def clip_by_global_norm(grads, theta):
    """`grad_clipping`: every gradient times theta / ||g|| when the L2 norm ||g|| of all of
    them together exceeds theta (a list of arrays in, a new list out). The book's test: an
    infinite norm scales by 0 (infinite entries become NaN), a NaN norm changes nothing."""
    grads = [np.asarray(g, np.float64) for g in grads]
    norm = np.sqrt(sum((g ** 2).sum() for g in grads))
    return [g * theta / norm for g in grads] if norm > theta else grads


def scratch_rnn_epoch(params, batches, lr, use_random_iter):
    """What `train_epoch_ch8` does to the scratch RNN with `sgd` (batch size 1): a zero state
    at the first batch (every batch when `use_random_iter`), else the previous batch's final
    state; gradients clipped to norm 1. Returns (perplexity, new params)."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    H, loss_sum, num_tokens = None, 0.0, 0
    for X, Y in batches:
        if H is None or use_random_iter:
            H = np.zeros((len(X), len(p["W_hh"])))
        loss, grads, H = scratch_rnn_grads(p, X, Y, H)
        clipped = clip_by_global_norm([grads[k] for k in SCRATCH_RNN_NAMES], 1.0)
        p = {k: p[k] - lr * g for k, g in zip(SCRATCH_RNN_NAMES, clipped)}
        loss_sum, num_tokens = loss_sum + loss * np.size(Y), num_tokens + np.size(Y)
    return float(np.exp(loss_sum / num_tokens)), p


def scratch_rnn_predict(params, prefix_ids, num_preds):
    """`predict_ch8`'s greedy decode with the scratch RNN: the ids of the prefix followed by
    `num_preds` argmax predictions, and the smallest gap between the best and second-best
    score over those predictions (how safe the argmax is from float32 rounding)."""
    H = np.zeros((1, len(params["W_hh"])))
    ids, gaps = [prefix_ids[0]], []
    for token in prefix_ids[1:]:
        _, H, _ = scratch_rnn(params, [[ids[-1]]], H)
        ids.append(token)
    for _ in range(num_preds):
        scores, H, _ = scratch_rnn(params, [[ids[-1]]], H)
        top2 = np.sort(scores[0])[-2:]
        ids.append(int(scores[0].argmax()))
        gaps.append(top2[1] - top2[0])
    return ids, min(gaps, default=np.inf)


# --- attention (chapter 10): NumPy forward passes from canonical parameters ---------------
#
# Parameters are canonical dicts (`d2l.common.params`); `k` is the index of a model's first
# layer in them. Written per row / per head, independently of the backends' vectorized code.


def masked_softmax(X, valid_lens):
    """Softmax over the last axis of each row of X (2-D or 3-D) over the keys j < the row's
    valid length (valid_lens None, (batch,) or (batch, n_q); a fractional length 2.5 keeps
    keys 0, 1, 2): masked logits are ignored whatever they are (NaN and infinities too), a
    row without a kept key (valid length <= 0 or NaN) is uniform."""
    X = np.asarray(X, np.float64)
    rows = X.reshape(-1, X.shape[-1])
    if valid_lens is None:
        lens = np.full(len(rows), X.shape[-1])
    else:
        lens = np.broadcast_to(np.reshape(valid_lens, (X.shape[0], -1)),
                               (X.shape[0], rows.shape[0] // X.shape[0])).reshape(-1)
    out = np.empty_like(rows)
    for row, x, n in zip(out, rows, lens):
        if not n > 0:
            row[:] = 1 / len(x)
            continue
        kept = x[np.arange(len(x)) < n]
        e = np.exp(kept - kept.max())
        row[:len(kept)], row[len(kept):] = e / e.sum(), 0.0
    return out.reshape(X.shape)


def dense(params, k, X):
    """X @ weight + bias of canonical layer k (no bias if it has none), on the last axis."""
    out = np.asarray(X, np.float64) @ params[f"{k}.weight"]
    return out + params[f"{k}.bias"] if f"{k}.bias" in params else out


def dot_product_attention(queries, keys, values, valid_lens):
    """(softmax(Q Kᵀ / √d) V, weights) for each example of the batch."""
    queries, keys, values = (np.asarray(a, np.float64) for a in (queries, keys, values))
    scores = np.einsum("bqd,bkd->bqk", queries, keys) / np.sqrt(queries.shape[-1])
    weights = masked_softmax(scores, valid_lens)
    return np.einsum("bqk,bkv->bqv", weights, values), weights


def additive_attention(params, queries, keys, values, valid_lens, k=0):
    """Additive attention with canonical layers k (W_k), k+1 (W_q), k+2 (w_v): (output,
    weights)."""
    q, kk = dense(params, k + 1, queries), dense(params, k, keys)
    scores = np.stack([[dense(params, k + 2, np.tanh(qi + kk[b]))[:, 0] for qi in q[b]]
                       for b in range(len(q))])
    weights = masked_softmax(scores, valid_lens)
    return np.einsum("bqk,bkv->bqv", weights, np.asarray(values, np.float64)), weights


def multihead_attention(params, queries, keys, values, valid_lens, num_heads, k=0):
    """Multi-head attention with canonical layers k..k+3 (W_q, W_k, W_v, W_o): head h uses
    columns h*d:(h+1)*d of the projections. Returns (output, weights) with the weights of
    head h of example b in row b * num_heads + h."""
    q, kk, v = (dense(params, k + i, a) for i, a in enumerate((queries, keys, values)))
    d = q.shape[-1] // num_heads
    heads, weights = [], []
    for h in range(num_heads):
        cols = slice(h * d, (h + 1) * d)
        out, w = dot_product_attention(q[..., cols], kk[..., cols], v[..., cols], valid_lens)
        heads.append(out)
        weights.append(w)
    weights = np.stack(weights, axis=1).reshape(-1, *weights[0].shape[1:])
    return dense(params, k + 3, np.concatenate(heads, axis=-1)), weights


def add_norm(params, X, Y, k=0):
    """LayerNorm(X + Y) with canonical layer k (over the trailing axes of its gamma)."""
    return layer_norm(np.asarray(X, np.float64) + Y, params[f"{k}.gamma"], params[f"{k}.beta"])


def position_wise_ffn(params, X, k=0):
    return dense(params, k + 1, np.maximum(dense(params, k, X), 0))


def positional_encoding(num_hiddens, max_len):
    """The sinusoid table (1, max_len, num_hiddens) of section 10.6, entry by entry."""
    P = np.empty((1, max_len, num_hiddens))
    for i in range(max_len):
        for j in range(0, num_hiddens, 2):
            angle = i / 10000 ** (j / num_hiddens)
            P[0, i, j] = np.sin(angle)
            if j + 1 < num_hiddens:
                P[0, i, j + 1] = np.cos(angle)
    return P


def encoder_block(params, X, valid_lens, num_heads, k=0):
    """Transformer encoder block with canonical layers k..k+7: attention (k..k+3), layer norm
    k+4, FFN k+5, k+6, layer norm k+7. Returns (output, attention weights)."""
    attended, weights = multihead_attention(params, X, X, X, valid_lens, num_heads, k)
    Y = add_norm(params, X, attended, k + 4)
    return add_norm(params, Y, position_wise_ffn(params, Y, k + 5), k + 7), weights


def transformer_encoder(params, ids, valid_lens, num_heads, num_layers):
    """Embedding (layer 0) · √num_hiddens + positional encoding, then `num_layers` encoder
    blocks (layers 1 + 8i ..). Returns (output, list of each block's attention weights)."""
    num_hiddens = params["0.weight"].shape[1]
    X = embedding(params["0.weight"], ids) * np.sqrt(num_hiddens)
    X = X + positional_encoding(num_hiddens, np.shape(ids)[1])
    weights = []
    for i in range(num_layers):
        X, w = encoder_block(params, X, valid_lens, num_heads, 1 + 8 * i)
        weights.append(w)
    return X, weights
