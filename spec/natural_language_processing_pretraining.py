"""Chapter 14, Natural Language Processing: Pretraining."""

ENTRIES = []

# --- 14.8-14.10 BERT ---
# BERT models are checked from canonical parameters (`d2l.common.params`; layer order:
# BERTEncoder = positional embedding "positional" (the encoder's own `pos_embedding`, listed
# before its sublayers), token embedding, segment embedding, then 8 layers per encoder block
# as in chapter 10; BERTModel = its encoder, `hidden` dense, MaskLM mlp dense / layernorm /
# dense, NSP dense) against NumPy forward passes, dropout 0, in inference mode. The
# WikiText-2 pipeline is checked against an independent plain-Python reference written from
# behaviour.md (the book's loops, with the random-word fix), on generated text in the real
# wiki.train.tokens format, seeded through Python's `random`.

import collections  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from . import reference, support  # noqa: E402
from .attention_mechanisms import _block_params, _layernorm_params, _normal, run  # noqa: E402
from .entry import (  # noqa: E402
    EXACT,
    REJECTED_TOKEN_IDS,
    Entry,
    Reject,
    Tol,
    rejected_token_ids,
)

BERT_TOL = Tol(1e-4, 1e-4)
WIKI_ZIP = "wikitext-2-v1.zip"
WIKI_URL = "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip"
WIKI_SHA1 = "3c914d17d80b1459be871a5039ac23e752a53cbe"
BERT_RESERVED = ["<pad>", "<mask>", "<cls>", "<sep>"]


def ids_dtype(b):
    return "int64" if b.name == "torch" else "int32"


# --- the models, each framework with its own signature --------------------------------------

def bert_layer(b, kind, s):
    """The backend's 'encoder', 'mlm', 'nsp' or 'model' built from sizes `s`, dropout 0."""
    d2l, name = b.d2l, b.name
    V, H, F = s.get("vocab_size"), s["num_hiddens"], s.get("ffn_num_hiddens")
    heads, layers, max_len = s.get("num_heads"), s.get("num_layers"), s.get("max_len")
    if kind == "mlm":
        return d2l.MaskLM(V, H) if name == "mxnet" else d2l.MaskLM(V, H, s["num_inputs"])
    if kind == "nsp":
        return d2l.NextSentencePred() if name == "mxnet" else d2l.NextSentencePred(H)
    if name == "mxnet":
        cls = d2l.BERTEncoder if kind == "encoder" else d2l.BERTModel
        return cls(V, H, F, heads, layers, 0, max_len)
    norm_shape = [H] if name == "torch" else [2]
    sizes = dict(key_size=H, query_size=H, value_size=H)
    if kind == "encoder":
        return d2l.BERTEncoder(V, H, norm_shape, H, F, heads, layers, 0, max_len, **sizes)
    return d2l.BERTModel(V, H, norm_shape, H, F, heads, layers, 0, max_len, **sizes,
                         hid_in_features=H, mlm_in_features=H, nsp_in_features=H)


def build_bert(b, kind, s, params):
    """bert_layer on the backend's device with canonical `params` loaded."""
    if b.name == "tensorflow":
        with b.fw.device(b.device):
            layer = bert_layer(b, kind, s)
    else:
        layer = bert_layer(b, kind, s)
        if b.name == "mxnet":
            layer.initialize(ctx=b.device)
        else:
            layer.to(b.device)
    b.d2l.import_params(layer, params)
    return layer


def bert_params(rng, s, kind="model"):
    """Random canonical parameters of a BERTEncoder ('encoder') or BERTModel ('model')."""
    H, V = s["num_hiddens"], s["vocab_size"]
    params = {"0.weight": _normal(rng, 1, s["max_len"], H), "1.weight": _normal(rng, V, H),
              "2.weight": _normal(rng, 2, H)}
    sizes = dict(s, bias=True)
    for i in range(s["num_layers"]):
        params.update(_block_params(rng, sizes, 3 + 8 * i))
    if kind == "encoder":
        return params
    k = 3 + 8 * s["num_layers"]
    params.update({f"{k}.weight": _normal(rng, H, H), f"{k}.bias": _normal(rng, H)})
    params.update(_mlm_params(rng, H, H, V, k + 1))
    params.update({f"{k + 4}.weight": _normal(rng, H, 2), f"{k + 4}.bias": _normal(rng, 2)})
    return params


def _mlm_params(rng, num_inputs, H, V, k=0):
    return {f"{k}.weight": _normal(rng, num_inputs, H), f"{k}.bias": _normal(rng, H),
            **_layernorm_params(rng, H, k + 1),
            f"{k + 2}.weight": _normal(rng, H, V), f"{k + 2}.bias": _normal(rng, V)}


# --- NumPy references ---------------------------------------------------------------------

def bert_encoder_reference(params, tokens, segments, valid_lens, num_heads, num_layers):
    """token + segment + positional embeddings, then the encoder blocks (layers 3 + 8i..)."""
    X = (params["1.weight"][tokens] + params["2.weight"][segments]
         + params["0.weight"][:, :np.shape(tokens)[1]]).astype(np.float64)
    for i in range(num_layers):
        X, _ = reference.encoder_block(params, X, valid_lens, num_heads, 3 + 8 * i)
    return X


def mask_lm_reference(params, X, pred_positions, k=0):
    """mlp(X[b, pred_positions[b, p]]): dense + ReLU, layer norm, dense (layers k..k+2)."""
    X = np.asarray(X, np.float64)
    gathered = np.stack([X[i, pred_positions[i]] for i in range(len(X))])
    hidden = np.maximum(reference.dense(params, k, gathered), 0)
    hidden = reference.layer_norm(hidden, params[f"{k + 1}.gamma"], params[f"{k + 1}.beta"])
    return reference.dense(params, k + 2, hidden)


def bert_model_reference(params, tokens, segments, valid_lens, pred_positions, num_heads,
                         num_layers):
    """[encoded_X, mlm_Y_hat (or None), nsp_Y_hat]."""
    X = bert_encoder_reference(params, tokens, segments, valid_lens, num_heads, num_layers)
    k = 3 + 8 * num_layers
    hidden = np.tanh(reference.dense(params, k, X[:, 0]))
    mlm = None if pred_positions is None else mask_lm_reference(params, X, pred_positions,
                                                                k + 1)
    return [X, mlm, reference.dense(params, k + 4, hidden)]


def cross_entropy(logits, labels):
    """Per-example softmax cross-entropy of logits (n, c) and int labels (n,), float64."""
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -log_probs[np.arange(len(labels)), np.asarray(labels, int)]


# --- hypothesis draws ---------------------------------------------------------------------

@st.composite
def _bert_case(draw, kind):
    heads = draw(st.integers(1, 2))
    s = {"num_heads": heads, "num_hiddens": heads * draw(st.sampled_from([2, 4])),
         "ffn_num_hiddens": draw(st.integers(1, 6)), "vocab_size": draw(st.integers(2, 9)),
         "num_layers": draw(st.integers(1, 2)), "max_len": draw(st.integers(4, 8))}
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, s["max_len"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    lens = draw(st.none() | st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
    num_preds = draw(st.integers(1, 3))
    return ({"kind": kind, "sizes": s, "params": bert_params(rng, s, kind),
             "tokens": rng.integers(0, s["vocab_size"], (batch, steps)),
             "segments": rng.integers(0, 2, (batch, steps)),
             "valid_lens": None if lens is None else np.asarray(lens, np.float32),
             "pred_positions": draw(st.none()) if kind == "encoder" else
             rng.integers(0, steps, (batch, num_preds))},)


def _bert_inputs(b, case):
    lens = case["valid_lens"]
    return (b.tensor(case["tokens"], ids_dtype(b)), b.tensor(case["segments"], ids_dtype(b)),
            None if lens is None else b.tensor(lens, "float32"))


def _bert_call(b, case):
    layer = build_bert(b, case["kind"], case["sizes"], case["params"])
    args = _bert_inputs(b, case)
    if case["kind"] == "encoder":
        return b.numpy(run(b, layer, *args))
    out = run(b, layer, *args, b.tensor(case["pred_positions"], ids_dtype(b)))
    return [None if o is None else b.numpy(o) for o in out]


def _bert_reference(case):
    s = case["sizes"]
    args = (case["params"], case["tokens"], case["segments"], case["valid_lens"])
    if case["kind"] == "encoder":
        return bert_encoder_reference(*args, s["num_heads"], s["num_layers"])
    return bert_model_reference(*args, case["pred_positions"], s["num_heads"], s["num_layers"])


@st.composite
def _head_case(draw, kind):
    batch, steps, h = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    s = {"num_hiddens": draw(st.integers(1, 5)), "vocab_size": draw(st.integers(2, 7)),
         "num_inputs": h}
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    if kind == "nsp":
        s["num_hiddens"] = h
        return ({"kind": kind, "sizes": s, "X": _normal(rng, batch, h, scale=1.0),
                 "params": {"0.weight": _normal(rng, h, 2), "0.bias": _normal(rng, 2)}},)
    return ({"kind": kind, "sizes": s, "X": _normal(rng, batch, steps, h, scale=1.0),
             "params": _mlm_params(rng, h, s["num_hiddens"], s["vocab_size"]),
             "pred_positions": rng.integers(0, steps, (batch, draw(st.integers(1, 4))))},)


def _head_call(b, case):
    layer = build_bert(b, case["kind"], case["sizes"], case["params"])
    if case["kind"] == "nsp":
        return b.numpy(run(b, layer, b.tensor(case["X"])))
    return b.numpy(run(b, layer, b.tensor(case["X"]),
                       b.tensor(case["pred_positions"], ids_dtype(b))))


def _head_reference(case):
    if case["kind"] == "nsp":
        return reference.dense(case["params"], 0, case["X"])
    return mask_lm_reference(case["params"], case["X"], case["pred_positions"])


SMALL_BERT = {"num_heads": 2, "num_hiddens": 4, "ffn_num_hiddens": 6, "vocab_size": 7,
              "num_layers": 1, "max_len": 6}


def _encoder_bad_ids(b):
    layer = build_bert(b, "encoder", SMALL_BERT, bert_params(np.random.default_rng(0),
                                                             SMALL_BERT, "encoder"))
    segments = b.tensor(np.zeros((2, 3)), ids_dtype(b))
    return rejected_token_ids("BERTEncoder", "tokens", lambda X: run(
        b, layer, b.tensor(X, ids_dtype(b)), segments, None), SMALL_BERT["vocab_size"])


def _positional_gradient_probe(b):
    """d(sum(encoder output · C))/d pos_embedding for a (2, 3) batch: the full (1, 6, 4)
    gradient (positions 3.. are unused: exactly 0)."""
    rng = np.random.default_rng(5)
    params = bert_params(rng, SMALL_BERT, "encoder")
    layer = build_bert(b, "encoder", SMALL_BERT, params)
    tokens, segments = np.array([[1, 2, 3], [4, 5, 6]]), np.array([[0, 0, 1], [0, 1, 1]])
    C = b.tensor(_normal(np.random.default_rng(6), 2, 3, 4, scale=1.0))
    args = (b.tensor(tokens, ids_dtype(b)), b.tensor(segments, ids_dtype(b)),
            b.tensor(np.array([3, 2], np.float32)))
    fw = b.fw
    if b.name == "torch":
        (layer(*args) * C).sum().backward()
        return b.numpy(layer.pos_embedding.grad)
    if b.name == "mxnet":
        with fw.autograd.record():
            out = (layer(*args) * C).sum()
        out.backward()
        return b.numpy(layer.pos_embedding.grad())
    with fw.GradientTape() as tape:
        out = fw.reduce_sum(layer(*args, training=False) * C)
    return b.numpy(tape.gradient(out, layer.pos_embedding))


def _positional_gradient_expect():
    """Central differences of the float64 reference."""
    rng = np.random.default_rng(5)
    params = {k: v.astype(np.float64) for k, v in bert_params(rng, SMALL_BERT,
                                                               "encoder").items()}
    C = _normal(np.random.default_rng(6), 2, 3, 4, scale=1.0).astype(np.float64)
    tokens, segments = np.array([[1, 2, 3], [4, 5, 6]]), np.array([[0, 0, 1], [0, 1, 1]])

    def f(pos):
        p = dict(params, **{"0.weight": pos})
        return float((bert_encoder_reference(p, tokens, segments, np.array([3.0, 2.0]), 2, 1)
                      * C).sum())

    grad, eps = np.zeros_like(params["0.weight"]), 1e-6
    for idx in np.ndindex(1, 3, 4):
        up, down = params["0.weight"].copy(), params["0.weight"].copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (f(up) - f(down)) / (2 * eps)
    return grad


# --- the WikiText-2 pipeline: generated text and an independent reference ---------------

def wiki_text(num_paragraphs, seed=0, vocab_size=400):
    """Text in the format of WikiText-2's wiki.train.tokens: ' = Title = ' headings, ' '
    blank lines, and paragraph lines of space-separated tokens (Zipf-distributed words,
    '@-@', '@,@', ',', '<unk>', numbers) whose sentences end in ' .', each line starting
    with a space; some paragraphs have a single sentence (dropped by _read_wiki)."""
    rng = np.random.default_rng(seed)
    words = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), rng.integers(2, 9)))
             for _ in range(vocab_size)]
    extras = ["@-@", "@,@", ",", "<unk>", "1", "2011", "the", "of", "and"]
    weights = 1 / np.arange(1, vocab_size + 1)
    weights /= weights.sum()
    lines = []
    for p in range(num_paragraphs):
        if p % 5 == 0:
            lines += [" \n", f" = {words[p % vocab_size].title()} {words[(p * 7) % vocab_size]}"
                             f" = \n", " \n"]
        sentences = []
        for _ in range(int(rng.integers(1, 7))):
            n = int(rng.integers(3, 16))
            tokens = [words[i] for i in rng.choice(vocab_size, n, p=weights)]
            for j in rng.integers(0, n, int(rng.integers(0, 3))):
                tokens[j] = extras[int(rng.integers(len(extras)))]
            tokens[0] = tokens[0].title()
            sentences.append(" ".join(tokens) + " .")
        lines.append(" " + " ".join(sentences) + " \n")
    return "".join(lines)


def wiki_zip(path, text):
    """Pack `text` as the real archive is: wikitext-2/wiki.{train,valid,test}.tokens."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("wikitext-2/", "")
        archive.writestr("wikitext-2/wiki.train.tokens", text)
        archive.writestr("wikitext-2/wiki.valid.tokens", text[:2000])
        archive.writestr("wikitext-2/wiki.test.tokens", text[:2000])


@contextlib.contextmanager
def wiki_served(text):
    """A sandbox serving `text` as wikitext-2-v1.zip, DATA_HUB['wikitext-2'] pointed at it;
    yields the cache folder."""
    from d2l.common import data_hub

    with support.data_sandbox() as (cache, www, url), \
            contextlib.redirect_stdout(io.StringIO()):
        wiki_zip(www / WIKI_ZIP, text)
        entry = (url + WIKI_ZIP, support.sha1(www / WIKI_ZIP))
        with support.patched(data_hub.DATA_HUB, **{"wikitext-2": entry}):
            yield cache


def read_wiki_reference(text):
    """_read_wiki before its shuffle: lines with >= 2 ' . ' parts, stripped, lower-cased,
    split on ' . '."""
    return [line.strip().lower().split(" . ") for line in text.splitlines(keepends=True)
            if len(line.split(" . ")) >= 2]


class VocabReference:
    """'<unk>', the reserved tokens, then tokens with count >= min_freq by count descending,
    ties in first-appearance order."""

    def __init__(self, sentences, min_freq, reserved):
        counts = collections.Counter(t for sentence in sentences for t in sentence)
        order = {t: i for i, t in reversed(list(enumerate(
            t for sentence in sentences for t in sentence)))}
        frequent = sorted((t for t, c in counts.items() if c >= min_freq),
                          key=lambda t: (-counts[t], order[t]))
        special = {"<unk>", *reserved}
        self.idx_to_token = ["<unk>"] + reserved + [t for t in frequent if t not in special]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def ids(self, tokens):
        return [self.token_to_idx.get(t, 0) for t in tokens]


def nsp_reference(paragraph, paragraphs, max_len):
    """The book's loop: one next-sentence draw per pair, fitting or not."""
    out = []
    for i in range(len(paragraph) - 1):
        a, b = paragraph[i], paragraph[i + 1]
        is_next = True
        if random.random() >= 0.5:
            b, is_next = random.choice(random.choice(paragraphs)), False
        if len(a) + len(b) + 3 > max_len:
            continue
        tokens = ["<cls>"] + a + ["<sep>"] + b + ["<sep>"]
        out.append((tokens, [0] * (len(a) + 2) + [1] * (len(b) + 1), is_next))
    return out


def replace_reference(tokens, candidates, num_preds, idx_to_token):
    """The book's loop with the fix: the 10% case inserts a random token string."""
    new, pairs = list(tokens), []
    random.shuffle(candidates)
    for position in candidates:
        if len(pairs) >= num_preds:
            break
        if random.random() < 0.8:
            token = "<mask>"
        elif random.random() < 0.5:
            token = tokens[position]
        else:
            token = idx_to_token[random.randint(0, len(idx_to_token) - 1)]
        new[position] = token
        pairs.append((position, tokens[position]))
    return new, pairs


def mlm_reference(tokens, vocab):
    candidates = [i for i, t in enumerate(tokens) if t not in ("<cls>", "<sep>")]
    num_preds = max(1, round(len(tokens) * 0.15))
    new, pairs = replace_reference(tokens, candidates, num_preds, vocab.idx_to_token)
    pairs = sorted(pairs, key=lambda pair: pair[0])
    return vocab.ids(new), [p for p, _ in pairs], vocab.ids([t for _, t in pairs])


def pad_reference(examples, max_len, pad_id):
    """Seven lists of per-example NumPy values, as the book builds them."""
    num_preds = round(max_len * 0.15)
    out = [[] for _ in range(7)]
    for token_ids, positions, labels, segments, is_next in examples:
        out[0].append(np.array(token_ids + [pad_id] * (max_len - len(token_ids))))
        out[1].append(np.array(segments + [0] * (max_len - len(segments))))
        out[2].append(np.array(len(token_ids), np.float32))
        out[3].append(np.array(positions + [0] * (num_preds - len(positions))))
        out[4].append(np.array([1.0] * len(labels) + [0.0] * (num_preds - len(labels)),
                               np.float32))
        out[5].append(np.array(labels + [0] * (num_preds - len(labels))))
        out[6].append(np.array(int(is_next)))
    return out


def dataset_reference(paragraphs, max_len):
    """(vocab, seven lists) of _WikiTextDataset(paragraphs, max_len), random state as is."""
    paragraphs = [[sentence.split() for sentence in p] for p in paragraphs]
    sentences = [s for p in paragraphs for s in p]
    vocab = VocabReference(sentences, 5, BERT_RESERVED)
    examples = [e for p in paragraphs for e in nsp_reference(p, paragraphs, max_len)]
    examples = [(*mlm_reference(tokens, vocab), segments, is_next)
                for tokens, segments, is_next in examples]
    return vocab, pad_reference(examples, max_len, vocab.token_to_idx["<pad>"])


# --- probes of the pipeline ---------------------------------------------------------------

WIKI_SMALL = wiki_text(40, seed=3)


def _read_wiki_probe(b):
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "wiki.train.tokens"), "w", encoding="utf-8") as f:
            f.write(WIKI_SMALL)
        random.seed(11)
        return b.d2l._read_wiki(folder)


def _read_wiki_expect():
    paragraphs = read_wiki_reference(WIKI_SMALL)
    random.seed(11)
    random.shuffle(paragraphs)
    return paragraphs


PARAGRAPHS = [[s.split() for s in p] for p in read_wiki_reference(WIKI_SMALL)]


def _next_sentence_probe(b):
    random.seed(2)
    return [list(b.d2l._get_next_sentence(["a", "b"], ["c"], PARAGRAPHS)) for _ in range(40)]


def _next_sentence_expect():
    random.seed(2)
    out = []
    for _ in range(40):
        if random.random() < 0.5:
            out.append([["a", "b"], ["c"], True])
        else:
            out.append([["a", "b"], random.choice(random.choice(PARAGRAPHS)), False])
    return out


def _nsp_probe(b):
    random.seed(4)
    return [[list(e) for e in b.d2l._get_nsp_data_from_paragraph(p, PARAGRAPHS, None, 24)]
            for p in PARAGRAPHS[:12]]


def _nsp_expect():
    random.seed(4)
    return [[list(e) for e in nsp_reference(p, PARAGRAPHS, 24)] for p in PARAGRAPHS[:12]]


SMALL_VOCAB_TOKENS = [s for p in PARAGRAPHS for s in p]


def _small_vocab(b):
    return b.d2l.Vocab(SMALL_VOCAB_TOKENS, min_freq=5, reserved_tokens=BERT_RESERVED)


def _replace_probe(b):
    """Many replacements: (new tokens, pairs, the shuffled candidate list) and the share of
    random-word replacements that are vocabulary strings."""
    vocab, out = _small_vocab(b), []
    random.seed(8)
    for tokens in SMALL_VOCAB_TOKENS[:30]:
        candidates = list(range(len(tokens)))
        new, pairs = b.d2l._replace_mlm_tokens(tokens, candidates, 3, vocab)
        out.append([new, [list(p) for p in pairs], candidates])
    return out


def _replace_expect():
    vocab = VocabReference(SMALL_VOCAB_TOKENS, 5, BERT_RESERVED)
    random.seed(8)
    out = []
    for tokens in SMALL_VOCAB_TOKENS[:30]:
        candidates = list(range(len(tokens)))
        new, pairs = replace_reference(tokens, candidates, 3, vocab.idx_to_token)
        out.append([new, [list(p) for p in pairs], candidates])
    return out


def _mlm_probe(b):
    vocab = _small_vocab(b)
    random.seed(9)
    out = []
    for sentence in SMALL_VOCAB_TOKENS[:30]:
        tokens = ["<cls>"] + sentence + ["<sep>"]
        out.append([list(x) for x in b.d2l._get_mlm_data_from_tokens(tokens, vocab)])
    return out


def _mlm_expect():
    vocab = VocabReference(SMALL_VOCAB_TOKENS, 5, BERT_RESERVED)
    random.seed(9)
    return [[list(x) for x in mlm_reference(["<cls>"] + s + ["<sep>"], vocab)]
            for s in SMALL_VOCAB_TOKENS[:30]]


@st.composite
def _pad_inputs(draw):
    """(examples, max_len, pad id): up to 4 examples that fit max_len."""
    max_len = draw(st.integers(4, 20))
    num_preds = round(max_len * 0.15)
    examples = []
    for _ in range(draw(st.integers(0, 4))):
        n = draw(st.integers(1, max_len))
        p = draw(st.integers(0, num_preds))
        examples.append((draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)),
                         sorted(draw(st.lists(st.integers(0, n - 1), min_size=p, max_size=p))),
                         draw(st.lists(st.integers(0, 30), min_size=p, max_size=p)),
                         draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
                         draw(st.booleans())))
    return examples, max_len, draw(st.integers(1, 4))


class _PadVocab:
    def __init__(self, pad_id):
        self.pad_id = pad_id

    def __getitem__(self, token):
        return self.pad_id if token == "<pad>" else 0


def _pad_call(b, examples, max_len, pad_id):
    out = b.d2l._pad_bert_inputs(examples, max_len, _PadVocab(pad_id))
    return [[np.asarray(b.numpy(t), np.float64) for t in column] for column in out]


def _pad_reference(examples, max_len, pad_id):
    return [[np.asarray(v, np.float64) for v in column]
            for column in pad_reference(examples, max_len, pad_id)]


WIKI_MAX_LEN = 32


def _dataset_observation(b, dataset):
    rows = [[b.numpy(t) for t in dataset[i]] for i in range(len(dataset))]
    return [len(dataset), dataset.vocab.idx_to_token,
            [np.stack([np.asarray(r[c], np.float64) for r in rows]) for c in range(7)]]


def _dataset_probe(b):
    random.seed(21)
    paragraphs = read_wiki_reference(WIKI_SMALL)
    return _dataset_observation(b, b.d2l._WikiTextDataset(paragraphs, WIKI_MAX_LEN))


def _dataset_expect():
    random.seed(21)
    vocab, columns = dataset_reference(read_wiki_reference(WIKI_SMALL), WIKI_MAX_LEN)
    return [len(columns[0]), vocab.idx_to_token,
            [np.stack(column).astype(np.float64) for column in columns]]


def _batches(b, train_iter):
    """Every batch of a loader as seven NumPy arrays."""
    return [[np.asarray(b.numpy(t)) for t in batch] for batch in train_iter]


def _load_wiki_probe(b):
    """Rows of one epoch sorted by their token ids (the loader shuffles), the batch sizes,
    the dtypes and the vocabulary length."""
    with wiki_served(WIKI_SMALL):
        random.seed(21)
        train_iter, vocab = b.d2l.load_data_wiki(16, WIKI_MAX_LEN)
        batches = _batches(b, train_iter)
    columns = [np.concatenate([batch[c] for batch in batches]) for c in range(7)]
    order = np.lexsort(columns[0].T[::-1])
    return [len(vocab), [len(batch[0]) for batch in batches][:-1],
            [np.asarray(c[order], np.float64) for c in columns]]


def _load_wiki_expect():
    random.seed(21)
    paragraphs = read_wiki_reference(WIKI_SMALL)
    random.shuffle(paragraphs)
    vocab, columns = dataset_reference(paragraphs, WIKI_MAX_LEN)
    arrays = [np.stack(c).astype(np.float64) for c in columns]
    order = np.lexsort(arrays[0].T[::-1])
    n = len(arrays[0])
    return [len(vocab), [16] * ((n - 1) // 16), [a[order] for a in arrays]]


def _wiki_hub_probe(b):
    registered = list(b.d2l.DATA_HUB["wikitext-2"])
    with wiki_served(WIKI_SMALL) as cache:
        folder = b.d2l.download_extract("wikitext-2", "wikitext-2")
        return [os.path.relpath(folder, cache), sorted(os.listdir(folder)), registered]


# --- 14.10 the loss -----------------------------------------------------------------------

LOSS_BERT = {"num_heads": 2, "num_hiddens": 8, "ffn_num_hiddens": 12, "vocab_size": 11,
             "num_layers": 2, "max_len": 10}


def loss_batch(seed=0):
    """A padded batch of 4: tokens/segments (4, 10), valid lengths, 3 prediction slots with
    1-3 real ones (weights 0 for padding), MLM labels and NSP labels."""
    rng = np.random.default_rng(seed)
    lens = np.array([10, 7, 5, 9])
    tokens = rng.integers(5, 11, (4, 10))
    tokens[np.arange(10) >= lens[:, None]] = 1
    segments = (np.arange(10) >= lens[:, None] // 2).astype(int) * (np.arange(10) < lens[:, None])
    positions = np.array([[1, 4, 7], [2, 3, 0], [1, 0, 0], [5, 6, 2]])
    weights = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1]], np.float32)
    labels = rng.integers(5, 11, (4, 3)) * weights.astype(int)
    nsp = np.array([1, 0, 0, 1])
    return tokens, segments, lens.astype(np.float32), positions, weights, labels, nsp


def _batch_tensors(b, batch):
    tokens, segments, lens, positions, weights, labels, nsp = batch
    ids = ids_dtype(b)
    nsp_dtype = {"mxnet": "bool", "torch": "int64", "tensorflow": "int32"}[b.name]
    return (b.tensor(tokens, ids), b.tensor(segments, ids), b.tensor(lens, "float32"),
            b.tensor(positions, ids), b.tensor(weights, "float32"), b.tensor(labels, ids),
            b.tensor(nsp, nsp_dtype))


def book_loss(b):
    """The loss object the book passes (TensorFlow: sparse CE from logits)."""
    if b.name == "mxnet":
        return b.fw.gluon.loss.SoftmaxCELoss()
    if b.name == "torch":
        return b.fw.nn.CrossEntropyLoss()
    return b.fw.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def batch_loss(b, net, batch, vocab_size=LOSS_BERT["vocab_size"]):
    """[mlm, nsp, total] of `_get_batch_loss_bert` on one batch (MXNet: one shard)."""
    tensors = _batch_tensors(b, batch)
    V = vocab_size
    if b.name == "mxnet":
        out = b.d2l._get_batch_loss_bert(net, book_loss(b), V, *([t] for t in tensors))
        return [o[0] for o in out]
    return list(b.d2l._get_batch_loss_bert(net, book_loss(b), V, *tensors))


def _loss_probe(b):
    net = build_bert(b, "model", LOSS_BERT, bert_params(np.random.default_rng(1), LOSS_BERT))
    return [float(b.numpy(x)) for x in batch_loss(b, net, loss_batch())]


def _loss_expect():
    params = bert_params(np.random.default_rng(1), LOSS_BERT)
    tokens, segments, lens, positions, weights, labels, nsp = loss_batch()
    _, mlm, nsp_hat = bert_model_reference(params, tokens, segments, lens, positions, 2, 2)
    per_token = cross_entropy(mlm.reshape(-1, LOSS_BERT["vocab_size"]), labels.reshape(-1))
    mlm_l = (per_token * weights.reshape(-1)).sum() / (weights.sum() + 1e-8)
    nsp_l = cross_entropy(nsp_hat, nsp).mean()
    return [mlm_l, nsp_l, mlm_l + nsp_l]


TRAIN_STEPS, TRAIN_LR = 6, 0.2


def train_steps(b, net, batches, lr, steps, vocab_size=LOSS_BERT["vocab_size"]):
    """Plain SGD on the total loss of `_get_batch_loss_bert`, cycling through `batches`;
    returns [[mlm, nsp] per step]."""
    fw, history = b.fw, []
    if b.name == "torch":
        optimizer = fw.optim.SGD(net.parameters(), lr=lr)
    elif b.name == "mxnet":
        trainer = fw.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    for step in range(steps):
        batch = batches[step % len(batches)]
        if b.name == "torch":
            optimizer.zero_grad()
            mlm, nsp, total = batch_loss(b, net, batch, vocab_size)
            total.backward()
            optimizer.step()
        elif b.name == "mxnet":
            with fw.autograd.record():
                mlm, nsp, total = batch_loss(b, net, batch, vocab_size)
            total.backward()
            trainer.step(1)
        else:
            with fw.GradientTape() as tape:
                mlm, nsp, total = batch_loss(b, net, batch, vocab_size)
            variables = net.trainable_variables
            for v, g in zip(variables, tape.gradient(total, variables)):
                v.assign_sub(lr * fw.convert_to_tensor(g))  # embeddings: IndexedSlices
        history.append([float(b.numpy(mlm)), float(b.numpy(nsp))])
    return history


def _training_probe(b):
    """The book's small-BERT shape in miniature, from canonical weights: both losses fall."""
    net = build_bert(b, "model", LOSS_BERT, bert_params(np.random.default_rng(1), LOSS_BERT))
    history = train_steps(b, net, [loss_batch(0), loss_batch(1)], TRAIN_LR, TRAIN_STEPS)
    first, last = history[:2], history[-2:]
    assert sum(h[0] for h in last) < sum(h[0] for h in first), history
    assert sum(h[1] for h in last) < sum(h[1] for h in first), history
    return history


# --- bad input ----------------------------------------------------------------------------

def _too_short(b):
    return (read_wiki_reference(WIKI_SMALL), 5)


ENTRIES += [
    Entry("get_tokens_and_segments", "14.8", "get_tokens_and_segments(tokens_a, tokens_b=None)",
          "['<cls>'] + tokens_a + ['<sep>'] (+ tokens_b + ['<sep>']); segments 0 for the first "
          "len(tokens_a) + 2 positions, 1 for the next len(tokens_b) + 1. Returns two lists.",
          reference=lambda a, b: [["<cls>", *a, "<sep>", *(b + ["<sep>"] if b is not None
                                                          else [])],
                                  [0] * (len(a) + 2) + ([1] * (len(b) + 1) if b is not None
                                                        else [])],
          inputs=lambda: st.tuples(st.lists(st.sampled_from(["a", "b", "cc"]), max_size=4),
                                   st.none() | st.lists(st.sampled_from(["x", "y"]),
                                                        max_size=4)),
          call=lambda b, a, t: [list(x) for x in b.d2l.get_tokens_and_segments(a, t)],
          tol=EXACT),
    Entry("BERTEncoder", "14.8",
          "M BERTEncoder(vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers, "
          "dropout, max_len=1000) | P/T BERTEncoder(vocab_size, num_hiddens, norm_shape, "
          "ffn_num_input, ffn_num_hiddens, num_heads, num_layers, dropout, max_len=1000, "
          "key_size=768, query_size=768, value_size=768)",
          "token_embedding(tokens) + segment_embedding(segments) + pos_embedding[:, :steps] "
          "(a learnable (1, max_len, num_hiddens) parameter), then num_layers EncoderBlocks "
          "with bias=True; (batch, steps) ids -> (batch, steps, num_hiddens). Canonical "
          "layers: positional, token embedding, segment embedding, 8 per block. Fix (P): "
          "upstream added pos_embedding.data, so the positional embedding never learned; it "
          "receives gradients in all three (the positional-gradient entry).",
          reference=_bert_reference, inputs=lambda: _bert_case("encoder"), call=_bert_call,
          tol=BERT_TOL, max_examples=8),
    Entry("BERTEncoder (bad token ids)", "14.8", "",
          "Token ids outside [0, vocab_size) raise ValueError naming BERTEncoder and tokens.",
          probe=_encoder_bad_ids, expect=lambda: REJECTED_TOKEN_IDS, tol=EXACT),
    Entry("BERTEncoder (positional gradient)", "14.8", "",
          "The gradient reaching pos_embedding equals the reference's central differences "
          "at the used positions and is 0 beyond them.",
          probe=_positional_gradient_probe, expect=_positional_gradient_expect,
          tol=Tol(1e-3, 1e-4)),
    Entry("MaskLM", "14.8",
          "M MaskLM(vocab_size, num_hiddens) | P/T MaskLM(vocab_size, num_hiddens, "
          "num_inputs=768)",
          "X[b, pred_positions[b, p]] gathered into (batch, num_preds, h), then mlp = dense "
          "num_hiddens, ReLU, LayerNorm, dense vocab_size.",
          reference=_head_reference, inputs=lambda: _head_case("mlm"), call=_head_call,
          tol=BERT_TOL, max_examples=12),
    Entry("NextSentencePred", "14.8", "M NextSentencePred() | P/T NextSentencePred(num_inputs)",
          "One dense layer with 2 outputs: (batch, h) -> (batch, 2) (attribute `output`).",
          reference=_head_reference, inputs=lambda: _head_case("nsp"), call=_head_call,
          tol=BERT_TOL),
    Entry("BERTModel", "14.8",
          "M BERTModel(vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers, "
          "dropout, max_len=1000) | P/T BERTModel(vocab_size, num_hiddens, norm_shape, "
          "ffn_num_input, ffn_num_hiddens, num_heads, num_layers, dropout, max_len=1000, "
          "key_size=768, query_size=768, value_size=768, hid_in_features=768, "
          "mlm_in_features=768, nsp_in_features=768)",
          "(encoded_X, mlm_Y_hat (None without pred_positions), nsp_Y_hat): encoder, MLM head "
          "on the prediction positions, NSP head on tanh(dense(encoded_X[:, 0])). Canonical "
          "layers: the encoder's, hidden, the MLM mlp's three, NSP's dense.",
          reference=_bert_reference, inputs=lambda: _bert_case("model"), call=_bert_call,
          tol=BERT_TOL, max_examples=8),
    Entry("DATA_HUB['wikitext-2']", "14.9", "",
          "wikitext-2-v1.zip from research.metamind.io, sha1 3c914d17...; download_extract("
          "'wikitext-2', 'wikitext-2') gives the folder holding wiki.{train,valid,test}.tokens "
          "(checked on a generated archive packed as the real one).",
          probe=_wiki_hub_probe,
          expect=lambda: ["wikitext-2", ["wiki.test.tokens", "wiki.train.tokens",
                                         "wiki.valid.tokens"], [WIKI_URL, WIKI_SHA1]],
          tol=EXACT),
    Entry("_read_wiki", "14.9", "_read_wiki(data_dir)",
          "Lines of wiki.train.tokens with >= 2 ' . '-separated parts, stripped, lower-cased, "
          "split on ' . ', then random.shuffle.",
          probe=_read_wiki_probe, expect=_read_wiki_expect, tol=EXACT),
    Entry("_get_next_sentence", "14.9", "_get_next_sentence(sentence, next_sentence, paragraphs)",
          "random.random() < 0.5: (sentence, next_sentence, True); else a "
          "random.choice(random.choice(paragraphs)) and False.",
          probe=_next_sentence_probe, expect=_next_sentence_expect, tol=EXACT),
    Entry("_get_nsp_data_from_paragraph", "14.9",
          "_get_nsp_data_from_paragraph(paragraph, paragraphs, vocab, max_len)",
          "One next-sentence draw per consecutive pair; pairs longer than max_len - 3 are "
          "skipped after their draw; (tokens, segments, is_next) from get_tokens_and_segments.",
          probe=_nsp_probe, expect=_nsp_expect, tol=EXACT,
          rejects=(Reject("empty paragraphs", lambda b: ([["a"], ["b"]], [], None, 10),
                          match="paragraphs"),)),
    Entry("_replace_mlm_tokens", "14.9",
          "_replace_mlm_tokens(tokens, candidate_pred_positions, num_mlm_preds, vocab)",
          "Shuffles the candidates in place, then for the first num_mlm_preds: '<mask>' "
          "(random() < 0.8), else keep (random() < 0.5), else a random vocabulary token "
          "string. Fix: upstream inserted the random id itself (mapped to '<unk>' later).",
          probe=_replace_probe, expect=_replace_expect, tol=EXACT),
    Entry("_get_mlm_data_from_tokens", "14.9", "_get_mlm_data_from_tokens(tokens, vocab)",
          "Candidates = positions not '<cls>'/'<sep>'; max(1, round(0.15 len)) predictions; "
          "(vocab ids of the new tokens, sorted positions, label ids).",
          probe=_mlm_probe, expect=_mlm_expect, tol=EXACT),
    Entry("_pad_bert_inputs", "14.9", "_pad_bert_inputs(examples, max_len, vocab)",
          "Seven lists: ids padded with vocab['<pad>'] to max_len, segments padded with 0, "
          "float32 valid lengths, positions padded with 0 to round(0.15 max_len), weights 1 "
          "real / 0 padding, labels padded with 0, NSP labels. dtypes: M int32 / bool NSP, "
          "P int64, T int32; valid lengths and weights float32.",
          reference=_pad_reference, inputs=_pad_inputs, call=_pad_call, tol=EXACT),
    Entry("_WikiTextDataset", "14.9", "_WikiTextDataset(paragraphs, max_len)",
          "Vocab(min_freq=5, reserved <pad> <mask> <cls> <sep>), NSP pairs of every paragraph, "
          "then MLM data of every example, then padding; dataset[i] is the 7-tuple. The same "
          "seed gives the same examples in every framework.",
          probe=_dataset_probe, expect=_dataset_expect, tol=EXACT,
          rejects=(Reject("no paragraphs", lambda b: ([], 64), match="paragraphs"),
                   Reject("max_len below the shortest pair", _too_short, match="max_len"))),
    Entry("load_data_wiki", "14.9", "load_data_wiki(batch_size, max_len)",
          "download_extract('wikitext-2', 'wikitext-2'), _read_wiki, _WikiTextDataset, "
          "shuffled minibatches; returns (train_iter, vocab). One epoch holds every example "
          "once.",
          probe=_load_wiki_probe, expect=_load_wiki_expect, tol=EXACT),
    Entry("_get_batch_loss_bert", "14.10",
          "M (net, loss, vocab_size, *_shards) -> three lists | P/T (net, loss, vocab_size, "
          "tokens_X, segments_X, valid_lens_x, pred_positions_X, mlm_weights_X, mlm_Y, nsp_y)",
          "MLM loss = Σ(CE · weight) / (Σ weights + 1e-8) (the mean over real prediction "
          "positions), NSP loss = batch mean CE, total = their sum. Fix (P): upstream's "
          "mean-reduced CrossEntropyLoss ignored the padding weights.",
          probe=_loss_probe, expect=_loss_expect, tol=Tol(1e-4, 1e-5)),
    Entry("_get_batch_loss_bert (training)", "14.10", "",
          f"{TRAIN_STEPS} SGD steps (lr {TRAIN_LR}) of a small BERT from the same canonical "
          "weights on two padded batches: both losses fall, and the trajectories agree "
          "across frameworks.",
          probe=_training_probe, tol=Tol(1e-3, 1e-4)),
]
