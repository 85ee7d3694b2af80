"""Chapter 10, Attention Mechanisms: heatmaps (10.1), masked softmax and the scoring functions
(10.3), the attention decoder interface (10.4), multi-head attention (10.5), positional
encoding (10.6) and the Transformer encoder (10.7).

Layers are checked from canonical parameters (`d2l.common.params`; layer order = the book's
attribute order: AdditiveAttention W_k, W_q, w_v; MultiHeadAttention W_q, W_k, W_v, W_o;
PositionWiseFFN dense1, dense2; AddNorm ln; EncoderBlock attention, addnorm1, ffn, addnorm2;
TransformerEncoder embedding, then its blocks) against the NumPy forward passes of
`spec.reference`, with dropout 0, in inference mode, on hypothesis-drawn batch sizes,
sequence lengths, head counts and valid lengths. Each observation is [output, attention
weights].
"""

import numpy as np
from hypothesis import strategies as st

from . import reference
from .entry import REJECTED_TOKEN_IDS, Entry, Invalid, Reject, Tol, rejected_token_ids
from .strategies import arrays

# Valid lengths as the book makes them: `d2l.tensor` gives float32 in MXNet, int64 / int32 in
# PyTorch / TensorFlow.
LENS_DTYPES = {"mxnet": "float32", "torch": "int64", "tensorflow": "int32"}

LAYER_TOL = Tol(1e-5, 1e-5)
BLOCK_TOL = Tol(1e-4, 1e-5)  # layer normalization divides by small standard deviations


def lens_tensor(b, lens):
    """Valid lengths (NumPy ints or None) as the backend's tensor of the book's dtype; float
    lengths (the edge cases: fractional, negative, infinite, NaN) as float32."""
    if lens is None:
        return None
    lens = np.asarray(lens)
    return b.tensor(lens, "float32" if lens.dtype.kind == "f" else LENS_DTYPES[b.name])


# --- building the layers of each framework with its own signature -------------------------

def _construct(b, kind, s):
    """The backend's layer `kind` built from the sizes dict `s` with dropout 0."""
    d2l, name = b.d2l, b.name
    if kind == "additive":
        return (d2l.AdditiveAttention(s["num_hiddens"], 0) if name == "mxnet" else
                d2l.AdditiveAttention(s["key_size"], s["query_size"], s["num_hiddens"], 0))
    if kind == "dot":
        return d2l.DotProductAttention(0)
    if kind == "mha":
        if name == "mxnet":
            return d2l.MultiHeadAttention(s["num_hiddens"], s["num_heads"], 0,
                                          use_bias=s["bias"])
        return d2l.MultiHeadAttention(s["key_size"], s["query_size"], s["value_size"],
                                      s["num_hiddens"], s["num_heads"], 0, bias=s["bias"])
    if kind == "ffn":
        sizes = (s["ffn_num_hiddens"], s["ffn_num_outputs"])
        return d2l.PositionWiseFFN(*((s["ffn_num_input"],) + sizes if name == "torch"
                                     else sizes))
    if kind == "addnorm":  # PyTorch: the normalized SHAPE; TensorFlow: the AXES (3-D inputs)
        return {"mxnet": lambda: d2l.AddNorm(0), "torch": lambda: d2l.AddNorm([s["d"]], 0),
                "tensorflow": lambda: d2l.AddNorm([2], 0)}[name]()
    h, ffn, heads, bias = s["num_hiddens"], s["ffn_num_hiddens"], s["num_heads"], s["bias"]
    if kind == "block":
        if name == "mxnet":
            return d2l.EncoderBlock(h, ffn, heads, 0, use_bias=bias)
        if name == "torch":
            return d2l.EncoderBlock(h, h, h, h, [h], h, ffn, heads, 0, use_bias=bias)
        return d2l.EncoderBlock(h, h, h, h, [2], ffn, heads, 0, bias=bias)
    vocab, layers = s["vocab_size"], s["num_layers"]
    if name == "mxnet":
        return d2l.TransformerEncoder(vocab, h, ffn, heads, layers, 0, use_bias=bias)
    if name == "torch":
        return d2l.TransformerEncoder(vocab, h, h, h, h, [h], h, ffn, heads, layers, 0,
                                      use_bias=bias)
    return d2l.TransformerEncoder(vocab, h, h, h, h, [2], ffn, heads, layers, 0, bias=bias)


def build(b, kind, sizes, params):
    """The backend's layer `kind` on its device with canonical `params` loaded (None: keep
    the framework's own initialisation; MXNet's is then deferred to the first call)."""
    if b.name == "tensorflow":
        with b.fw.device(b.device):
            layer = _construct(b, kind, sizes)
    else:
        layer = _construct(b, kind, sizes)
        if b.name == "mxnet":
            layer.initialize(ctx=b.device)
        else:
            layer.to(b.device)
    if params is not None:
        b.d2l.import_params(layer, params)
    return layer


def run(b, layer, *args):
    """layer(*args) in inference mode (no dropout), without gradients."""
    if b.name == "tensorflow":
        return layer(*args, training=False)
    if b.name == "torch":
        layer.eval()
        with b.fw.no_grad():
            return layer(*args)
    return layer(*args)


# --- hypothesis draws ---------------------------------------------------------------------

def _normal(rng, *shape, scale=0.5):
    return rng.normal(0, scale, shape).astype(np.float32)


# Edge lengths: key j is kept iff j < valid length, so 1.5 keeps 2 keys; <= 0 and NaN keep
# none (a uniform row), inf keeps all.
EDGE_LENGTHS = [-3.0, -0.5, 0.0, 0.5, 1.5, 2.5, np.inf, -np.inf, np.nan]
# The ones npx.sequence_mask survives (the book's MXNet masked_softmax calls it directly).
NATIVE_SAFE_LENGTHS = [0.0, 0.5, 1.5, 2.5]


@st.composite
def valid_lens(draw, batch, n_q, n_k, per_query=True, edge=False, native_safe=False):
    """None, one length per example (batch,) or (with per_query) one per query row
    (batch, n_q); lengths 0 (every key masked) to n_k + 1 (beyond the keys), or (edge) float
    lengths from EDGE_LENGTHS (`native_safe`: NATIVE_SAFE_LENGTHS)."""
    kinds = (["example"] if edge else ["none", "example"]) + (
        ["query"] if per_query and n_q else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    shape = (batch,) if kind == "example" else (batch, n_q)
    edge_lengths = NATIVE_SAFE_LENGTHS if native_safe else EDGE_LENGTHS
    length = st.sampled_from(edge_lengths) if edge else st.integers(0, n_k + 1)
    values = draw(st.lists(length, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return np.asarray(values).reshape(shape)


@st.composite
def _masked_softmax_inputs(draw, book=False):
    """(X, valid_lens); `book`: only what the book's exercises use (3-D X, ordinary logits),
    else 2-D X and very large/negative logits too."""
    batch, n_q, n_k = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    three_d = book or draw(st.booleans())
    shape = (batch, n_q, n_k) if three_d else (batch, n_k)
    bound = 10.0 if book else draw(st.sampled_from([10.0, 1e30]))
    X = draw(arrays(shape, -bound, bound))
    return X, draw(valid_lens(batch, n_q if three_d else 0, n_k))


@st.composite
def _masked_softmax_edges(draw, native_safe=False):
    """Length-1 axes, edge lengths (`native_safe`: NATIVE_SAFE_LENGTHS), and NaN / infinite
    logits at masked keys (ignored). (At kept keys they are left to each framework's softmax,
    whose kernels differ there.)"""
    batch, n_q, n_k = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    three_d = draw(st.booleans())
    X = draw(arrays((batch, n_q, n_k) if three_d else (batch, n_k)))
    lens = draw(valid_lens(batch, n_q if three_d else 0, n_k, edge=True,
                           native_safe=native_safe))
    rows, row_lens = X.reshape(-1, n_k), np.broadcast_to(
        lens.reshape(batch, -1), (batch, len(X.reshape(-1, n_k)) // batch)).reshape(-1)
    masked = ~(np.arange(n_k)[None, :] < row_lens[:, None])
    if masked.any():
        i, j = np.argwhere(masked)[draw(st.integers(0, int(masked.sum()) - 1))]
        rows[i, j] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return X, lens


def _masked_softmax_call(b, X, lens):
    return b.numpy(b.d2l.masked_softmax(b.tensor(X), lens_tensor(b, lens)))


@st.composite
def _attention_case(draw, kind, edge=False):
    """Sizes, canonical params and inputs of an attention layer `kind`
    ('dot', 'additive' or 'mha'); `edge`: edge valid lengths (`EDGE_LENGTHS`)."""
    batch, n_q, n_k = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 5))
    s = {"query_size": draw(st.integers(1, 4)), "key_size": draw(st.integers(1, 4)),
         "value_size": draw(st.integers(1, 4))}
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    params = {}
    if kind == "dot":
        s["key_size"] = s["query_size"]
    elif kind == "additive":
        s["num_hiddens"] = draw(st.integers(1, 5))
        params = {"0.weight": _normal(rng, s["key_size"], s["num_hiddens"]),
                  "1.weight": _normal(rng, s["query_size"], s["num_hiddens"]),
                  "2.weight": _normal(rng, s["num_hiddens"], 1)}
    else:
        s["num_heads"], s["bias"] = draw(st.integers(1, 3)), draw(st.booleans())
        s["num_hiddens"] = s["num_heads"] * draw(st.integers(1, 3))
        params = _mha_params(rng, s)
    case = {"kind": kind, "sizes": s, "params": params,
            "queries": _normal(rng, batch, n_q, s["query_size"], scale=1.0),
            "keys": _normal(rng, batch, n_k, s["key_size"], scale=1.0),
            "values": _normal(rng, batch, n_k, s["value_size"], scale=1.0),
            "valid_lens": draw(valid_lens(batch, n_q, n_k, edge=edge))}
    return (case,)


def _mha_params(rng, s, k=0):
    """Canonical W_q, W_k, W_v, W_o (with biases when s['bias']) as layers k..k+3."""
    h, params = s["num_hiddens"], {}
    for i, size in enumerate((s["query_size"], s["key_size"], s["value_size"], h)):
        params[f"{k + i}.weight"] = _normal(rng, size, h)
        if s["bias"]:
            params[f"{k + i}.bias"] = _normal(rng, h)
    return params


def _attention_call(b, case):
    layer = build(b, case["kind"], case["sizes"], case["params"] or None)
    out = run(b, layer, *(b.tensor(case[n]) for n in ("queries", "keys", "values")),
              lens_tensor(b, case["valid_lens"]))
    weights = (layer.attention.attention_weights if case["kind"] == "mha"
               else layer.attention_weights)
    return [b.numpy(out), b.numpy(weights)]


def _attention_reference(case):
    args = tuple(case[n] for n in ("queries", "keys", "values", "valid_lens"))
    if case["kind"] == "dot":
        return list(reference.dot_product_attention(*args))
    if case["kind"] == "additive":
        return list(reference.additive_attention(case["params"], *args))
    return list(reference.multihead_attention(case["params"], *args,
                                              case["sizes"]["num_heads"]))


@st.composite
def _heads_inputs(draw, merged):
    """(X, num_heads): X (batch, n, num_heads * d) or, `merged` False, (batch * num_heads, n,
    d)."""
    batch, n, heads, d = (draw(st.integers(1, 3)) for _ in range(4))
    shape = (batch, n, heads * d) if merged else (batch * heads, n, d)
    return draw(arrays(shape)), heads


def _split_heads_reference(X, num_heads):
    """Head h of example b (columns h*d:(h+1)*d) becomes row b * num_heads + h."""
    d = X.shape[2] // num_heads
    return np.stack([X[b, :, h * d:(h + 1) * d] for b in range(X.shape[0])
                     for h in range(num_heads)])


def _merge_heads_reference(X, num_heads):
    return np.stack([np.concatenate([X[b * num_heads + h] for h in range(num_heads)], axis=-1)
                     for b in range(X.shape[0] // num_heads)])


@st.composite
def _positions(draw):
    """(num_hiddens (even), max_len, X (batch, steps <= max_len, num_hiddens))."""
    num_hiddens, max_len = 2 * draw(st.integers(1, 8)), draw(st.integers(1, 60))
    steps, batch = draw(st.integers(1, max_len)), draw(st.integers(1, 3))
    return num_hiddens, max_len, draw(arrays((batch, steps, num_hiddens)))


def _pe_table_call(b, num_hiddens, max_len, X):
    """P as the layer stores it and the layer's output for zeros: the table itself."""
    layer = b.d2l.PositionalEncoding(num_hiddens, 0, max_len)
    zeros = b.tensor(np.zeros((1, max_len, num_hiddens), np.float32))
    return [b.numpy(layer.P), b.numpy(run(b, layer, zeros))]


def _pe_table_reference(num_hiddens, max_len, X):
    P = reference.positional_encoding(num_hiddens, max_len)
    return [P, P]


def _pe_call(b, num_hiddens, max_len, X):
    return b.numpy(run(b, b.d2l.PositionalEncoding(num_hiddens, 0, max_len), b.tensor(X)))


def _pe_reference(num_hiddens, max_len, X):
    return X + reference.positional_encoding(num_hiddens, max_len)[:, :X.shape[1]]


def _pe_edge_reference(num_hiddens, max_len, X):
    """Sizes positive ints, num_hiddens even (odd sizes fail upstream): ValueErrors naming
    them, in that order."""
    for name, value in (("num_hiddens", num_hiddens), ("max_len", max_len)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Invalid(name)
    if num_hiddens % 2:
        raise Invalid("num_hiddens")
    return _pe_table_reference(num_hiddens, max_len, X)


@st.composite
def _pe_edges(draw):
    """max_len 1, num_hiddens 2, and one bad size (odd, 0, negative, float)."""
    num_hiddens, max_len = draw(st.sampled_from([2, 4])), draw(st.sampled_from([1, 2]))
    case = draw(st.sampled_from(["small", "num_hiddens", "max_len"]))
    if case == "num_hiddens":
        num_hiddens = draw(st.sampled_from([1, 5, 0, -2, 4.0]))
    elif case == "max_len":
        max_len = draw(st.sampled_from([0, -1, 2.0]))
    return num_hiddens, max_len, np.zeros((1, 1, 2), np.float32)


def _pe_forward_edge_reference(num_hiddens, max_len, X):
    """X must be (batch, steps <= max_len, num_hiddens): else a ValueError naming X."""
    if X.ndim != 3 or X.shape[1] > max_len or X.shape[2] != num_hiddens:
        raise Invalid("X")
    return _pe_reference(num_hiddens, max_len, X)


@st.composite
def _pe_forward_edges(draw):
    """One step; more steps than max_len; the wrong width; a 2-D X."""
    num_hiddens, max_len = 2 * draw(st.integers(1, 3)), draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(1, 1, num_hiddens), (2, max_len + 1, num_hiddens),
                                  (1, 1, num_hiddens + 2), (1, num_hiddens)]))
    return num_hiddens, max_len, draw(arrays(shape))


def _heads_edge_reference(merge):
    """num_heads must be a positive int (ValueError naming it); X must be 3-D with its
    head axis divisible by num_heads (ValueError naming X)."""
    def checked(X, num_heads):
        if isinstance(num_heads, bool) or not isinstance(num_heads, int) or num_heads < 1:
            raise Invalid("num_heads")
        if X.ndim != 3 or X.shape[0 if merge else 2] % num_heads:
            raise Invalid("X")
        return (_merge_heads_reference if merge else _split_heads_reference)(X, num_heads)
    return checked


@st.composite
def _heads_edges(draw, merged):
    """One head per feature (or per row), length-1 axes, and a bad num_heads (0, negative,
    float, bool) or an X whose head axis does not divide."""
    X, num_heads = draw(_heads_inputs(merged))
    case = draw(st.sampled_from(["one", "num_heads", "X"]))
    if case == "one":
        X = X[:1, :1]
        num_heads = X.shape[2] if merged else X.shape[0]
    elif case == "num_heads":
        num_heads = draw(st.sampled_from([0, -1, 1.0, True]))
    else:
        num_heads = (X.shape[2] if merged else X.shape[0]) + 1
    return X, num_heads


@st.composite
def _ffn_case(draw, edge=False):
    """Sizes, canonical params and X; `edge`: an empty batch or no time steps."""
    batch, n = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    if edge:
        batch, n = draw(st.sampled_from([(0, n), (batch, 0), (0, 0)]))
    s = {k: draw(st.integers(1, 5)) for k in ("ffn_num_input", "ffn_num_hiddens",
                                               "ffn_num_outputs")}
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    params = _ffn_params(rng, (s["ffn_num_input"], s["ffn_num_hiddens"],
                               s["ffn_num_outputs"]), 0)
    return ({"sizes": s, "params": params,
             "X": _normal(rng, batch, n, s["ffn_num_input"], scale=1.0)},)


def _ffn_call(b, case):
    layer = build(b, "ffn", case["sizes"], case["params"])
    return b.numpy(run(b, layer, b.tensor(case["X"])))


@st.composite
def _addnorm_case(draw, edge=False):
    """Sizes, canonical params, X and Y; `edge`: an empty batch, or a Y of another batch or
    length than X (1 where X has more: it would broadcast silently)."""
    # d >= 2: over one feature x - mean is 0 exactly, and each framework's float32 rounding
    # of it is amplified by 1 / sqrt(eps) ~ 316 (observed 2.6e-5 in TensorFlow).
    batch, n, d = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(2, 6))
    y_shape = None
    if edge:
        if draw(st.booleans()):
            batch = 0
        else:
            y_shape = [batch, n, d]
            axis = draw(st.integers(0, 1))
            y_shape[axis] = 1 if y_shape[axis] > 1 else 2
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    params = {"0.gamma": 1 + _normal(rng, d), "0.beta": _normal(rng, d)}
    return ({"sizes": {"d": d}, "params": params, "X": _normal(rng, batch, n, d, scale=1.0),
             "Y": _normal(rng, *(y_shape or (batch, n, d)), scale=1.0)},)


def _addnorm_reference(case):
    """LayerNorm(Y + X) (no dropout); X and Y must have one shape."""
    if case["X"].shape != case["Y"].shape:
        raise Invalid("Y")
    return reference.add_norm(case["params"], case["X"], case["Y"])


def _addnorm_call(b, case):
    layer = build(b, "addnorm", case["sizes"], case["params"])
    return b.numpy(run(b, layer, b.tensor(case["X"]), b.tensor(case["Y"])))


def _layernorm_params(rng, d, k):
    return {f"{k}.gamma": 1 + _normal(rng, d, scale=0.2), f"{k}.beta": _normal(rng, d, scale=0.2)}


def _ffn_params(rng, sizes, k):
    """Dense layers k, k+1 (with biases) of widths sizes[0] -> sizes[1] -> sizes[2]."""
    return {f"{k}.weight": _normal(rng, sizes[0], sizes[1]), f"{k}.bias": _normal(rng, sizes[1]),
            f"{k + 1}.weight": _normal(rng, sizes[1], sizes[2]),
            f"{k + 1}.bias": _normal(rng, sizes[2])}


def _block_params(rng, s, k=0):
    """Canonical params of an EncoderBlock as layers k..k+7: attention k..k+3, addnorm1
    k+4, ffn k+5, k+6, addnorm2 k+7."""
    h = s["num_hiddens"]
    return {**_mha_params(rng, dict(s, query_size=h, key_size=h, value_size=h), k),
            **_layernorm_params(rng, h, k + 4),
            **_ffn_params(rng, (h, s["ffn_num_hiddens"], h), k + 5),
            **_layernorm_params(rng, h, k + 7)}


def _decoder_block_params(rng, s, k):
    """Canonical params of the book's DecoderBlock as layers k..k+12: attention1 k..k+3,
    addnorm1 k+4, attention2 k+5..k+8, addnorm2 k+9, ffn k+10, k+11, addnorm3 k+12."""
    h = s["num_hiddens"]
    square = dict(s, query_size=h, key_size=h, value_size=h)
    return {**_mha_params(rng, square, k), **_layernorm_params(rng, h, k + 4),
            **_mha_params(rng, square, k + 5), **_layernorm_params(rng, h, k + 9),
            **_ffn_params(rng, (h, s["ffn_num_hiddens"], h), k + 10),
            **_layernorm_params(rng, h, k + 12)}


@st.composite
def _transformer_sizes(draw):
    heads = draw(st.integers(1, 3))
    return {"num_heads": heads, "num_hiddens": heads * draw(st.sampled_from([2, 4])),
            "ffn_num_hiddens": draw(st.integers(1, 6)), "bias": draw(st.booleans())}


@st.composite
def _block_case(draw, edge=False):
    """Sizes, canonical params, X and valid lengths; `edge`: edge lengths (EDGE_LENGTHS)."""
    s = draw(_transformer_sizes())
    batch, n = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    return ({"sizes": s, "params": _block_params(rng, s),
             "X": _normal(rng, batch, n, s["num_hiddens"], scale=1.0),
             "valid_lens": draw(valid_lens(batch, n, n, edge=edge))},)


def _block_call(b, case):
    layer = build(b, "block", case["sizes"], case["params"])
    out = run(b, layer, b.tensor(case["X"]), lens_tensor(b, case["valid_lens"]))
    return [b.numpy(out), b.numpy(layer.attention.attention.attention_weights)]


def _block_reference(case):
    return list(reference.encoder_block(case["params"], case["X"], case["valid_lens"],
                                        case["sizes"]["num_heads"]))


def encoder_params(rng, s):
    """Canonical params of a TransformerEncoder: embedding (layer 0), then the blocks."""
    params = {"0.weight": _normal(rng, s["vocab_size"], s["num_hiddens"])}
    for i in range(s["num_layers"]):
        params.update(_block_params(rng, s, 1 + 8 * i))
    return params


@st.composite
def _encoder_case(draw, edge=False):
    """Sizes, canonical params, token ids and valid lengths; `edge`: edge lengths."""
    s = draw(_transformer_sizes())
    s.update(vocab_size=draw(st.integers(2, 8)), num_layers=draw(st.integers(1, 2)))
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    return ({"sizes": s, "params": encoder_params(rng, s),
             "ids": rng.integers(0, s["vocab_size"], (batch, steps)),
             "valid_lens": draw(valid_lens(batch, steps, steps, per_query=False, edge=edge))},)


def _encoder_call(b, case):
    layer = build(b, "encoder", case["sizes"], case["params"])
    ids = b.tensor(case["ids"], "int64" if b.name == "torch" else "int32")
    out = run(b, layer, ids, lens_tensor(b, case["valid_lens"]))
    return [b.numpy(out), [b.numpy(w) for w in layer.attention_weights]]


def _encoder_bad_ids(b):
    sizes = {"num_heads": 2, "num_hiddens": 4, "ffn_num_hiddens": 3, "bias": False,
             "vocab_size": 5, "num_layers": 1}
    layer = build(b, "encoder", sizes, None)
    return rejected_token_ids("TransformerEncoder", "X", lambda X: run(
        b, layer, b.tensor(X, "int64" if b.name == "torch" else "int32"), None), 5)


def _encoder_reference(case):
    out, weights = reference.transformer_encoder(case["params"], case["ids"],
                                                 case["valid_lens"], case["sizes"]["num_heads"],
                                                 case["sizes"]["num_layers"])
    return [out, weights]


# --- probes -------------------------------------------------------------------------------

HEATMAPS = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5) / 120


def _heatmaps_probe(b):
    """Draw HEATMAPS and read the figure back."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    returned = b.d2l.show_heatmaps(b.tensor(HEATMAPS), "Keys", "Queries",
                                   titles=["t0", "t1", "t2"], figsize=(3, 2), cmap="Blues")
    (number,) = set(plt.get_fignums()) - before
    fig = plt.figure(number)
    *grid, colorbar_axes = fig.axes
    images = [ax.images[0] for ax in grid]
    area = fig.subplotpars.top - fig.subplotpars.bottom
    observation = [
        returned, [np.asarray(im.get_array()) for im in images],
        [ax.get_xlabel() for ax in grid], [ax.get_ylabel() for ax in grid],
        [ax.get_title() for ax in grid], [im.get_cmap().name for im in images],
        all(grid[0].get_shared_x_axes().joined(grid[0], ax)
            and grid[0].get_shared_y_axes().joined(grid[0], ax) for ax in grid),
        [im.colorbar is not None for im in images],
        round(colorbar_axes.get_position().height / area, 6), list(fig.get_size_inches())]
    plt.close(fig)
    return observation


def _heatmaps_expect():
    return [None, list(HEATMAPS.reshape(6, 4, 5)), ["", "", "", "Keys", "Keys", "Keys"],
            ["Queries", "", "", "Queries", "", ""], ["t0", "t1", "t2"] * 2, ["Blues"] * 6,
            True, [False] * 5 + [True], 0.6, [3.0, 2.0]]


def _attention_decoder_probe(b):
    """An AttentionDecoder is a Decoder whose attention_weights are abstract."""
    decoder = b.d2l.AttentionDecoder()
    try:
        decoder.attention_weights  # noqa: B018
        abstract = False
    except NotImplementedError:
        abstract = True
    return [isinstance(decoder, b.d2l.Decoder), abstract]


def _heads_args(shape, num_heads):
    return lambda b: (b.tensor(np.zeros(shape, np.float32)), num_heads)


def _mha_args(num_hiddens, num_heads):
    def args(b):
        if b.name == "mxnet":
            return (num_hiddens, num_heads, 0)
        return (4, 4, 4, num_hiddens, num_heads, 0)
    return args


def _masked_args(x_shape, lens_shape):
    def args(b):
        lens = None if lens_shape is None else lens_tensor(b, np.ones(lens_shape, int))
        return b.tensor(np.zeros(x_shape, np.float32)), lens
    return args


ENTRIES = [
    Entry("show_heatmaps", "10.1",
          "show_heatmaps(matrices, xlabel, ylabel, titles=None, figsize=(2.5, 2.5), "
          "cmap='Reds')",
          "A num_rows x num_cols grid (squeeze=False) of imshow heatmaps of the 4-D "
          "`matrices` (a tensor of any framework), axes sharing x and y; xlabel on the bottom "
          "row, ylabel on the first column, titles[j] over column j; one colorbar of the last "
          "image, shrink 0.6. Returns None. Written once in d2l.common.plotting.",
          probe=_heatmaps_probe, expect=_heatmaps_expect, tol=Tol(1e-6, 1e-7),
          rejects=(Reject("3-D matrices", lambda b: (b.tensor(np.zeros((2, 2, 2), "f")),
                                                     "x", "y"), match="matrices"),
                   Reject("fewer titles than columns",
                          lambda b: (b.tensor(np.zeros((1, 3, 2, 2), "f")), "x", "y"),
                          kwargs=lambda b: {"titles": ["a"]}, match="titles"))),
    Entry("masked_softmax", "10.3", "masked_softmax(X, valid_lens)",
          "Softmax over the last axis of X (batch, n_k) or (batch, n_q, n_k) over the keys "
          "before each row's valid length: valid_lens None, (batch,) or (batch, n_q). Masked "
          "keys get 0 whatever the logits (very large and very negative ones too); a row with "
          "length <= 0 is uniform (the book's -1e6 fill). Same shape as X. Key j is kept iff "
          "j < valid length (1.5 keeps 2 keys, inf all); masked logits are ignored whatever "
          "they are (NaN, ±inf: upstream MXNet's arithmetic mask let them turn the row into "
          "NaN); a row without a kept key (length <= 0 or NaN) is uniform.",
          reference=reference.masked_softmax, inputs=_masked_softmax_inputs,
          book_inputs=lambda: _masked_softmax_inputs(book=True),
          edges=_masked_softmax_edges,
          safe_edges=lambda: _masked_softmax_edges(native_safe=True),
          call=_masked_softmax_call, tol=Tol(1e-5, 1e-6),
          rejects=(Reject("1-D X", _masked_args((4,), None), match="X"),
                   Reject("4-D X", _masked_args((1, 2, 3, 4), None), match="X"),
                   Reject("valid_lens of another batch size", _masked_args((2, 3, 4), (3,)),
                          match="valid_lens"),
                   Reject("valid_lens (batch, n_q) of the wrong n_q",
                          _masked_args((2, 3, 4), (2, 4)), match="valid_lens"),
                   Reject("per-query valid_lens for 2-D X", _masked_args((2, 4), (2, 4)),
                          match="valid_lens"),
                   Reject("3-D valid_lens", _masked_args((2, 3, 4), (2, 3, 1)),
                          match="valid_lens"))),
    Entry("AdditiveAttention", "10.3",
          "M: AdditiveAttention(num_hiddens, dropout, **kwargs) | P, T: "
          "AdditiveAttention(key_size, query_size, num_hiddens, dropout, **kwargs)",
          "score(q, k) = w_v · tanh(W_q q + W_k k) (no biases), masked softmax over the keys, "
          "dropout(weights) @ values; attention_weights (batch, n_q, n_k) kept. Canonical "
          "layers W_k, W_q, w_v.",
          reference=_attention_reference, inputs=lambda: _attention_case("additive"),
          edges=lambda: _attention_case("additive", True),
          call=_attention_call, tol=LAYER_TOL),
    Entry("DotProductAttention", "10.3",
          "DotProductAttention(dropout, **kwargs); forward (queries, keys, values, "
          "valid_lens=None) (T: valid_lens has no default)",
          "softmax(Q Kᵀ / √d) V with the masked softmax; attention_weights kept. dropout "
          "must be a probability in [0, 1) here and in every chapter 9-10 layer taking one "
          "(ValueError naming dropout, one shared check).",
          reference=_attention_reference, inputs=lambda: _attention_case("dot"),
          edges=lambda: _attention_case("dot", True),
          call=_attention_call, tol=LAYER_TOL,
          rejects=(Reject("dropout 1 (all dropped: the framework would divide by 0)",
                          lambda b: (1,), match="dropout"),
                   Reject("dropout NaN", lambda b: (float("nan"),), match="dropout"))),
    Entry("AttentionDecoder", "10.4", "AttentionDecoder(**kwargs)",
          "A Decoder whose read-only property attention_weights raises NotImplementedError.",
          probe=_attention_decoder_probe, expect=lambda: [True, True]),
    Entry("MultiHeadAttention", "10.5",
          "M: MultiHeadAttention(num_hiddens, num_heads, dropout, use_bias=False, **kwargs) | "
          "P, T: MultiHeadAttention(key_size, query_size, value_size, num_hiddens, num_heads, "
          "dropout, bias=False, **kwargs)",
          "W_q, W_k, W_v project to num_hiddens, num_heads heads of scaled dot-product "
          "attention (valid lengths repeated per head), heads concatenated and projected by "
          "W_o; `attention.attention_weights` is (batch * num_heads, n_q, n_k).",
          reference=_attention_reference, inputs=lambda: _attention_case("mha"),
          edges=lambda: _attention_case("mha", True),
          call=_attention_call, tol=LAYER_TOL,
          rejects=(Reject("num_hiddens not divisible by num_heads", _mha_args(10, 3),
                          match="num_heads"),
                   Reject("num_heads 0", _mha_args(4, 0), match="num_heads"),
                   Reject("dropout -0.1", lambda b: _mha_args(4, 2)(b)[:-1] + (-0.1,),
                          match="dropout"))),
    Entry("transpose_qkv", "10.5", "transpose_qkv(X, num_heads)",
          "(batch, n, num_hiddens) -> (batch * num_heads, n, num_hiddens / num_heads), head h "
          "of example b in row b * num_heads + h. num_heads must be a positive int "
          "(ValueError naming num_heads), num_hiddens divisible by it (ValueError naming X).",
          reference=_heads_edge_reference(False), inputs=lambda: _heads_inputs(True),
          call=lambda b, X, heads: b.numpy(b.d2l.transpose_qkv(b.tensor(X), heads)),
          edges=lambda: _heads_edges(True),
          tol=Tol(0.0, 0.0),
          rejects=(Reject("num_hiddens not divisible", _heads_args((2, 3, 5), 2),
                          match="X"),
                   Reject("2-D X", _heads_args((2, 4), 2), match="X"),
                   Reject("num_heads 0", _heads_args((2, 3, 4), 0), match="num_heads"))),
    Entry("transpose_output", "10.5", "transpose_output(X, num_heads)",
          "The inverse of transpose_qkv: (batch * num_heads, n, d) -> (batch, n, "
          "num_heads * d). Bad num_heads and a first axis it does not divide as in "
          "transpose_qkv.",
          reference=_heads_edge_reference(True), inputs=lambda: _heads_inputs(False),
          call=lambda b, X, heads: b.numpy(b.d2l.transpose_output(b.tensor(X), heads)),
          edges=lambda: _heads_edges(False),
          tol=Tol(0.0, 0.0),
          rejects=(Reject("batch not divisible by num_heads", _heads_args((3, 2, 2), 2),
                          match="X"),)),
    Entry("PositionalEncoding", "10.6", "PositionalEncoding(num_hiddens, dropout, max_len=1000)",
          "P (1, max_len, num_hiddens): P[0, i, 2j] = sin(i / 10000^(2j/num_hiddens)), "
          "P[0, i, 2j+1] = cos(same); the attribute P and the output for zeros are that "
          "closed form rounded to float32 (T keeps P in float64, as the book). num_hiddens "
          "and max_len must be positive ints and num_hiddens even (odd sizes fail upstream "
          "with a broadcasting error): ValueErrors naming them. max_len 1 is one row.",
          reference=_pe_edge_reference, inputs=_positions, call=_pe_table_call,
          edges=_pe_edges,
          tol=Tol(0.0, 6e-8),
          rejects=(Reject("odd num_hiddens", lambda b: (5, 0), match="num_hiddens"),
                   Reject("max_len 0", lambda b: (4, 0, 0), match="max_len"),
                   Reject("dropout 1.5", lambda b: (4, 1.5), match="dropout"))),
    Entry("PositionalEncoding (forward)", "10.6", "PositionalEncoding(...)(X)",
          "X (batch, steps, num_hiddens) + P[:, :steps, :], then dropout. More steps than "
          "max_len, another width or another rank: ValueError naming X.",
          reference=_pe_forward_edge_reference, inputs=_positions, call=_pe_call,
          edges=_pe_forward_edges, tol=Tol(1e-6, 1e-7)),
    Entry("PositionWiseFFN", "10.7",
          "M, T: PositionWiseFFN(ffn_num_hiddens, ffn_num_outputs, **kwargs) | "
          "P: PositionWiseFFN(ffn_num_input, ffn_num_hiddens, ffn_num_outputs, **kwargs)",
          "dense2(ReLU(dense1(X))) on the last axis of a 3-D X; canonical layers dense1, "
          "dense2 (with biases). An empty batch or no time steps give an empty output of "
          "ffn_num_outputs features.",
          reference=lambda case: reference.position_wise_ffn(case["params"], case["X"]),
          inputs=_ffn_case, edges=lambda: _ffn_case(True), call=_ffn_call, tol=LAYER_TOL),
    Entry("AddNorm", "10.7",
          "M: AddNorm(dropout, **kwargs) | P: AddNorm(normalized_shape, dropout, **kwargs) "
          "(a shape, e.g. [32]) | T: AddNorm(normalized_shape, dropout, **kwargs) (a list of "
          "axes, e.g. [2])",
          "LayerNorm(dropout(Y) + X), epsilon 1e-5 in all three (Keras' default is 1e-3); "
          "canonical layer ln (gamma, beta). Y of another shape than X (even one that would "
          "broadcast) raises ValueError naming Y; an empty batch gives an empty output.",
          reference=_addnorm_reference, inputs=_addnorm_case,
          edges=lambda: _addnorm_case(True), call=_addnorm_call, tol=BLOCK_TOL),
    Entry("EncoderBlock", "10.7",
          "M: EncoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias=False) "
          "| P: EncoderBlock(key_size, query_size, value_size, num_hiddens, norm_shape, "
          "ffn_num_input, ffn_num_hiddens, num_heads, dropout, use_bias=False) | T: "
          "EncoderBlock(key_size, query_size, value_size, num_hiddens, norm_shape, "
          "ffn_num_hiddens, num_heads, dropout, bias=False)",
          "Y = AddNorm(X, MHA(X, X, X, valid_lens)); AddNorm(Y, FFN(Y)). Canonical layers: "
          "W_q, W_k, W_v, W_o, addnorm1, dense1, dense2, addnorm2. Valid lengths as "
          "masked_softmax takes them (edge lengths included).",
          reference=_block_reference, inputs=_block_case, edges=lambda: _block_case(True),
          call=_block_call, tol=BLOCK_TOL),
    Entry("TransformerEncoder", "10.7",
          "M: TransformerEncoder(vocab_size, num_hiddens, ffn_num_hiddens, num_heads, "
          "num_layers, dropout, use_bias=False) | P: TransformerEncoder(vocab_size, key_size, "
          "query_size, value_size, num_hiddens, norm_shape, ffn_num_input, ffn_num_hiddens, "
          "num_heads, num_layers, dropout, use_bias=False) | T: as P without ffn_num_input, "
          "bias=False",
          "embedding · √num_hiddens + positional encoding, num_layers encoder blocks; "
          "attention_weights lists each block's weights. Canonical layers: embedding, then "
          "8 per block. Valid lengths as masked_softmax takes them (edge lengths included).",
          reference=_encoder_reference, inputs=_encoder_case,
          edges=lambda: _encoder_case(True), call=_encoder_call, tol=BLOCK_TOL),
    Entry("TransformerEncoder (token ids out of range)", "10.7", "encoder(X, valid_lens)",
          "An id of X below 0 or >= vocab_size (the embedding would give zeros or fail inside "
          "the framework): ValueError naming X, in all three (T: when run eagerly).",
          probe=_encoder_bad_ids, expect=lambda: REJECTED_TOKEN_IDS, book=False),
]


# --- the book's decoders (10.4, 10.7; notebook cells, not saved) on the saved pieces --------
#
# Written per framework from the book's description, on top of the saved AttentionDecoder,
# AdditiveAttention, MultiHeadAttention, AddNorm, PositionWiseFFN and PositionalEncoding.
# Canonical layer order: Seq2SeqAttentionDecoder attention (W_k, W_q, w_v), embedding, GRU
# (input [context; embedding]), dense; TransformerDecoder embedding, per block attention1
# (4), addnorm1, attention2 (4), addnorm2, ffn (2), addnorm3, then dense.

_BOOK_DECODERS = {}


def book_decoders(b):
    """(Seq2SeqAttentionDecoder, TransformerDecoder) classes of backend b.

    Seq2SeqAttentionDecoder(vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
    init_state(enc_outputs, enc_valid_lens) from a Seq2SeqEncoder's (outputs, state); each
    step queries additive attention over the encoder outputs with the last layer's hidden
    state and feeds [context; embedding] to the GRU. TransformerDecoder(vocab_size,
    num_hiddens, ffn_num_hiddens, num_heads, num_layers, dropout): init_state(enc_outputs,
    enc_valid_lens) -> [enc_outputs, enc_valid_lens, [None] * num_layers]; each block caches
    its keys/values in state[2][i]; in training the self-attention is causal (valid lengths
    1..num_steps per query row). Both expose attention_weights.
    """
    if b.name not in _BOOK_DECODERS:
        make = {"mxnet": _gluon_decoders, "torch": _torch_decoders,
                "tensorflow": _keras_decoders}[b.name]
        _BOOK_DECODERS[b.name] = make(b.d2l)
    return _BOOK_DECODERS[b.name]


def _torch_decoders(d2l):
    import math

    import torch
    from torch import nn

    class Seq2SeqAttentionDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.attention = d2l.AdditiveAttention(num_hiddens, num_hiddens, num_hiddens,
                                                   dropout)
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers,
                              dropout=dropout)
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            outputs, hidden_state = enc_outputs
            return outputs.permute(1, 0, 2), hidden_state, enc_valid_lens

        def forward(self, X, state):
            enc_outputs, hidden_state, enc_valid_lens = state
            outputs, self._attention_weights = [], []
            for x in self.embedding(X).permute(1, 0, 2):
                query = hidden_state[-1].unsqueeze(1)
                context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
                x = torch.cat((context, x.unsqueeze(1)), dim=-1)
                out, hidden_state = self.rnn(x.permute(1, 0, 2), hidden_state)
                outputs.append(out)
                self._attention_weights.append(self.attention.attention_weights)
            outputs = self.dense(torch.cat(outputs, dim=0))
            return outputs.permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens]

        @property
        def attention_weights(self):
            return self._attention_weights

    class DecoderBlock(nn.Module):
        def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, i):
            super().__init__()
            h = num_hiddens
            self.i = i
            self.attention1 = d2l.MultiHeadAttention(h, h, h, h, num_heads, dropout)
            self.addnorm1 = d2l.AddNorm([h], dropout)
            self.attention2 = d2l.MultiHeadAttention(h, h, h, h, num_heads, dropout)
            self.addnorm2 = d2l.AddNorm([h], dropout)
            self.ffn = d2l.PositionWiseFFN(h, ffn_num_hiddens, h)
            self.addnorm3 = d2l.AddNorm([h], dropout)

        def forward(self, X, state):
            enc_outputs, enc_valid_lens, cache = state
            key_values = X if cache[self.i] is None else torch.cat((cache[self.i], X), 1)
            cache[self.i] = key_values
            dec_valid_lens = None
            if self.training:
                batch_size, num_steps, _ = X.shape
                dec_valid_lens = torch.arange(1, num_steps + 1, device=X.device).repeat(
                    batch_size, 1)
            Y = self.addnorm1(X, self.attention1(X, key_values, key_values, dec_valid_lens))
            Z = self.addnorm2(Y, self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens))
            return self.addnorm3(Z, self.ffn(Z)), state

    class TransformerDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                     dropout):
            super().__init__()
            self.num_hiddens, self.num_layers = num_hiddens, num_layers
            self.embedding = nn.Embedding(vocab_size, num_hiddens)
            self.pos_encoding = d2l.PositionalEncoding(num_hiddens, dropout)
            self.blks = nn.Sequential(*(DecoderBlock(num_hiddens, ffn_num_hiddens, num_heads,
                                                     dropout, i) for i in range(num_layers)))
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            return [enc_outputs, enc_valid_lens, [None] * self.num_layers]

        def forward(self, X, state):
            X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
            self._attention_weights = [[None] * self.num_layers for _ in range(2)]
            for i, blk in enumerate(self.blks):
                X, state = blk(X, state)
                self._attention_weights[0][i] = blk.attention1.attention.attention_weights
                self._attention_weights[1][i] = blk.attention2.attention.attention_weights
            return self.dense(X), state

        @property
        def attention_weights(self):
            return self._attention_weights

    return Seq2SeqAttentionDecoder, TransformerDecoder


def _gluon_decoders(d2l):
    import math

    from mxnet import autograd, np
    from mxnet.gluon import nn, rnn

    class Seq2SeqAttentionDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.attention = d2l.AdditiveAttention(num_hiddens, dropout)
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = rnn.GRU(num_hiddens, num_layers, dropout=dropout)
            self.dense = nn.Dense(vocab_size, flatten=False)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            outputs, hidden_state = enc_outputs
            return outputs.swapaxes(0, 1), hidden_state, enc_valid_lens

        def forward(self, X, state):
            enc_outputs, hidden_state, enc_valid_lens = state
            outputs, self._attention_weights = [], []
            for x in self.embedding(X).swapaxes(0, 1):
                query = np.expand_dims(hidden_state[0][-1], axis=1)
                context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
                x = np.concatenate((context, np.expand_dims(x, axis=1)), axis=-1)
                out, hidden_state = self.rnn(x.swapaxes(0, 1), hidden_state)
                outputs.append(out)
                self._attention_weights.append(self.attention.attention_weights)
            outputs = self.dense(np.concatenate(outputs, axis=0))
            return outputs.swapaxes(0, 1), [enc_outputs, hidden_state, enc_valid_lens]

        @property
        def attention_weights(self):
            return self._attention_weights

    class DecoderBlock(nn.Block):
        def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, i):
            super().__init__()
            self.i = i
            self.attention1 = d2l.MultiHeadAttention(num_hiddens, num_heads, dropout)
            self.addnorm1 = d2l.AddNorm(dropout)
            self.attention2 = d2l.MultiHeadAttention(num_hiddens, num_heads, dropout)
            self.addnorm2 = d2l.AddNorm(dropout)
            self.ffn = d2l.PositionWiseFFN(ffn_num_hiddens, num_hiddens)
            self.addnorm3 = d2l.AddNorm(dropout)

        def forward(self, X, state):
            enc_outputs, enc_valid_lens, cache = state
            key_values = X if cache[self.i] is None else np.concatenate((cache[self.i], X), 1)
            cache[self.i] = key_values
            dec_valid_lens = None
            if autograd.is_training():
                batch_size, num_steps, _ = X.shape
                dec_valid_lens = np.tile(np.arange(1, num_steps + 1, ctx=X.ctx),
                                         (batch_size, 1))
            Y = self.addnorm1(X, self.attention1(X, key_values, key_values, dec_valid_lens))
            Z = self.addnorm2(Y, self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens))
            return self.addnorm3(Z, self.ffn(Z)), state

    class TransformerDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                     dropout):
            super().__init__()
            self.num_hiddens, self.num_layers = num_hiddens, num_layers
            self.embedding = nn.Embedding(vocab_size, num_hiddens)
            self.pos_encoding = d2l.PositionalEncoding(num_hiddens, dropout)
            self.blks = nn.Sequential()
            for i in range(num_layers):
                self.blks.add(DecoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout, i))
            self.dense = nn.Dense(vocab_size, flatten=False)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            return [enc_outputs, enc_valid_lens, [None] * self.num_layers]

        def forward(self, X, state):
            X = self.pos_encoding(self.embedding(X) * math.sqrt(self.num_hiddens))
            self._attention_weights = [[None] * self.num_layers for _ in range(2)]
            for i, blk in enumerate(self.blks):
                X, state = blk(X, state)
                self._attention_weights[0][i] = blk.attention1.attention.attention_weights
                self._attention_weights[1][i] = blk.attention2.attention.attention_weights
            return self.dense(X), state

        @property
        def attention_weights(self):
            return self._attention_weights

    return Seq2SeqAttentionDecoder, TransformerDecoder


def _keras_decoders(d2l):
    import math

    import tensorflow as tf
    from tensorflow import keras

    class Seq2SeqAttentionDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.attention = d2l.AdditiveAttention(num_hiddens, num_hiddens, num_hiddens,
                                                   dropout)
            self.embedding = keras.layers.Embedding(vocab_size, embed_size)
            self.rnn = keras.layers.RNN(keras.layers.StackedRNNCells(
                [keras.layers.GRUCell(num_hiddens, dropout=dropout)
                 for _ in range(num_layers)]), return_sequences=True, return_state=True)
            self.dense = keras.layers.Dense(vocab_size)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            outputs, hidden_state = enc_outputs
            return outputs, hidden_state, enc_valid_lens

        def call(self, X, state, training=None):
            enc_outputs, hidden_state, enc_valid_lens = state
            outputs, self._attention_weights = [], []
            # The book loops in Python over the time steps of a tensor, which does not trace:
            # train_seq2seq then runs this decoder eagerly, as the book does.
            for x in tf.transpose(self.embedding(X), perm=(1, 0, 2)):
                query = tf.expand_dims(hidden_state[-1], axis=1)
                context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens,
                                         training=training)
                x = tf.concat((context, tf.expand_dims(x, axis=1)), axis=-1)
                out, *hidden_state = self.rnn(x, initial_state=hidden_state,
                                              training=training)
                hidden_state = tf.nest.flatten(hidden_state)
                outputs.append(out)
                self._attention_weights.append(self.attention.attention_weights)
            outputs = self.dense(tf.concat(outputs, axis=1))
            return outputs, [enc_outputs, hidden_state, enc_valid_lens]

        @property
        def attention_weights(self):
            return self._attention_weights

    class DecoderBlock(keras.layers.Layer):
        def __init__(self, num_hiddens, ffn_num_hiddens, num_heads, dropout, i):
            super().__init__()
            h = num_hiddens
            self.i = i
            self.attention1 = d2l.MultiHeadAttention(h, h, h, h, num_heads, dropout)
            self.addnorm1 = d2l.AddNorm([2], dropout)
            self.attention2 = d2l.MultiHeadAttention(h, h, h, h, num_heads, dropout)
            self.addnorm2 = d2l.AddNorm([2], dropout)
            self.ffn = d2l.PositionWiseFFN(ffn_num_hiddens, h)
            self.addnorm3 = d2l.AddNorm([2], dropout)

        def build(self, *args, **kwargs):
            """The sublayers build themselves on their first call."""

        def call(self, X, state, training=None):
            enc_outputs, enc_valid_lens, cache = state
            key_values = X if cache[self.i] is None else tf.concat((cache[self.i], X), 1)
            cache[self.i] = key_values
            dec_valid_lens = None
            if training:
                batch_size, num_steps = X.shape[0], X.shape[1]
                dec_valid_lens = tf.repeat(tf.range(1, num_steps + 1)[None, :], batch_size, 0)
            Y = self.addnorm1(X, self.attention1(X, key_values, key_values, dec_valid_lens,
                                                 training=training), training=training)
            Z = self.addnorm2(Y, self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens,
                                                 training=training), training=training)
            return self.addnorm3(Z, self.ffn(Z), training=training), state

    class TransformerDecoder(d2l.AttentionDecoder):
        def __init__(self, vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                     dropout):
            super().__init__()
            self.num_hiddens, self.num_layers = num_hiddens, num_layers
            self.embedding = keras.layers.Embedding(vocab_size, num_hiddens)
            self.pos_encoding = d2l.PositionalEncoding(num_hiddens, dropout)
            self.blks = [DecoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout, i)
                         for i in range(num_layers)]
            self.dense = keras.layers.Dense(vocab_size)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            return [enc_outputs, enc_valid_lens, [None] * self.num_layers]

        def call(self, X, state, training=None):
            X = self.embedding(X) * math.sqrt(self.num_hiddens)
            X = self.pos_encoding(X, training=training)
            self._attention_weights = [[None] * self.num_layers for _ in range(2)]
            for i, blk in enumerate(self.blks):
                X, state = blk(X, state, training=training)
                self._attention_weights[0][i] = blk.attention1.attention.attention_weights
                self._attention_weights[1][i] = blk.attention2.attention.attention_weights
            return self.dense(X), state

        @property
        def attention_weights(self):
            return self._attention_weights

    return Seq2SeqAttentionDecoder, TransformerDecoder


# Sizes of the two attention encoder-decoders trained in the tests (toy vocabularies of 8).
BAHDANAU = {"vocab_size": 8, "embed_size": 5, "num_hiddens": 6, "num_layers": 2}
TRANSFORMER = {"vocab_size": 8, "num_hiddens": 8, "ffn_num_hiddens": 10, "num_heads": 2,
               "num_layers": 2, "bias": False}


def book_model(b, kind):
    """EncoderDecoder of the book's 10.4 ('bahdanau': Seq2SeqEncoder +
    Seq2SeqAttentionDecoder) or 10.7 ('transformer': TransformerEncoder +
    TransformerDecoder) model, dropout 0, framework initialisation."""
    attention_decoder, transformer_decoder = book_decoders(b)
    if kind == "bahdanau":
        s = BAHDANAU
        encoder = b.d2l.Seq2SeqEncoder(s["vocab_size"], s["embed_size"], s["num_hiddens"],
                                       s["num_layers"])
        decoder = attention_decoder(s["vocab_size"], s["embed_size"], s["num_hiddens"],
                                    s["num_layers"])
    else:
        s = TRANSFORMER
        encoder = _construct(b, "encoder", s)
        decoder = transformer_decoder(s["vocab_size"], s["num_hiddens"], s["ffn_num_hiddens"],
                                      s["num_heads"], s["num_layers"], 0)
    return b.d2l.EncoderDecoder(encoder, decoder)


def book_model_params(kind, seed=0):
    """Random canonical parameters of `book_model(b, kind)` (layer order in the comment
    above `book_decoders`)."""
    from . import canonical

    rng = np.random.default_rng(seed)
    if kind == "bahdanau":
        s = BAHDANAU
        v, e, h, n = s["vocab_size"], s["embed_size"], s["num_hiddens"], s["num_layers"]
        params = {"0.weight": _normal(rng, v, e, scale=1.0),
                  "2.weight": _normal(rng, h, h), "3.weight": _normal(rng, h, h),
                  "4.weight": _normal(rng, h, 1), "5.weight": _normal(rng, v, e, scale=1.0),
                  "7.weight": _normal(rng, h, v), "7.bias": _normal(rng, v)}
        params.update(canonical.init_recurrent("gru", e, h, n, seed=seed + 1, k=1))
        params.update(canonical.init_recurrent("gru", h + e, h, n, seed=seed + 2, k=6))
        return params
    s = TRANSFORMER
    v, h, n = s["vocab_size"], s["num_hiddens"], s["num_layers"]
    params = encoder_params(rng, s)
    k = 1 + 8 * n  # the decoder's embedding, then its blocks, then its dense layer
    params[f"{k}.weight"] = _normal(rng, v, h, scale=1.0)
    for i in range(n):
        params.update(_decoder_block_params(rng, s, k + 1 + 13 * i))
    params.update({f"{k + 1 + 13 * n}.weight": _normal(rng, h, v),
                   f"{k + 1 + 13 * n}.bias": _normal(rng, v)})
    return params


def train_book_model(b, kind, params, batches, lr, num_epochs):
    """train_seq2seq on `book_model(b, kind)` from canonical `params` (instead of its Xavier
    draw) on fixed NumPy batches (X, X_valid_len, Y, Y_valid_len) of the toy vocabulary.
    Returns (per-epoch loss per token, the trained net)."""
    import contextlib
    import io

    import matplotlib.pyplot as plt

    from . import modern_rnns

    net = modern_rnns.load_canonical(b, book_model(b, kind), params,
                                     *(modern_rnns.ids(b, a) for a in ([[4]], [[4]], [1])))
    data_iter = [modern_rnns.backend_batch(b, batch) for batch in batches]
    before = set(plt.get_fignums())
    with modern_rnns.canonical_init(b, params), modern_rnns.recorded_histories() as histories, \
            contextlib.redirect_stdout(io.StringIO()):
        b.d2l.train_seq2seq(net, data_iter, lr, num_epochs, modern_rnns.toy_vocab(),
                            b.d2l.try_gpu())
    for number in set(plt.get_fignums()) - before:
        plt.close(number)
    return histories[0], net
