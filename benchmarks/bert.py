"""Chapter 14 BERT targets, each framework in its own interpreter, one thread:

* attention: `masked_softmax` on (64, 128, 128) with one valid length per example, and
  `MultiHeadAttention` self-attention (batch 32, 128 tokens, 256 hidden, 8 heads, valid
  lengths 64..128), forward without gradients and forward + backward, d2l against upstream
  0.16.6 (same weights; target: at most upstream's time);
* BERT: forward and forward + backward throughput (sequences per second) of the book's small
  BERT (2 layers, 128 hidden, 2 heads, 256 FFN, max_len 64, batch 32);
* data: `_WikiTextDataset` on 10 MB of generated wiki-format text, against upstream's (Python
  only, run in the PyTorch interpreter; target: at least 3x faster).

    python benchmarks/bert.py [--frameworks mxnet,torch,tensorflow] [--repeats 10]
        [--skip-data]

Upstream is loaded by file path from /tmp/upstream/d2l/<framework>.py (`pip download
d2l==0.16.6 --no-deps` unpacked there); without it the upstream columns print
"upstream not available". The fastest repeat of each function is kept, functions taking
turns so that all see the same load.
"""

import argparse
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import fastest, upstream  # noqa: E402

from spec import backends  # noqa: E402

SOFTMAX_SHAPE = (64, 128, 128)
BATCH, STEPS, HIDDENS, HEADS = 32, 128, 256, 8
BERT_SIZES = {"vocab_size": 10000, "num_hiddens": 128, "ffn_num_hiddens": 256, "num_heads": 2,
              "num_layers": 2, "max_len": 64, "batch": 32, "num_preds": 10}


def report(label, mine, theirs):
    line = f"  {label:<44} d2l {mine * 1e3:9.2f} ms"
    if theirs is None:
        print(line + "   upstream not available")
    else:
        print(line + f"   upstream {theirs * 1e3:9.2f} ms   d2l/upstream {mine / theirs:5.2f}x")


# --- attention ----------------------------------------------------------------------------

def _mha(b, d2l):
    """`d2l.MultiHeadAttention` (256 hidden, 8 heads, no bias, dropout 0) in the framework's
    signature, initialised."""
    if b.name == "mxnet":
        layer = d2l.MultiHeadAttention(HIDDENS, HEADS, 0)
        layer.initialize()
        return layer
    layer = d2l.MultiHeadAttention(HIDDENS, HIDDENS, HIDDENS, HIDDENS, HEADS, 0)
    return layer.eval() if b.name == "torch" else layer


class _Ops:
    """Forward (no gradients) and forward + backward calls of one framework."""

    def __init__(self, b):
        self.b, self.fw = b, b.fw

    def sync(self):
        if self.b.name == "mxnet":
            self.fw.npx.waitall()

    def forward(self, fn, *args):
        if self.b.name == "torch":
            with self.fw.no_grad():
                return fn(*args)
        if self.b.name == "tensorflow":
            return fn(*args)
        return fn(*args)

    def backward(self, fn, inputs, *args, variables=()):
        """Sum of fn(inputs, *args), differentiated with respect to `inputs` (and the layer's
        `variables` in TensorFlow)."""
        if self.b.name == "torch":
            out = fn(inputs, *args)
            out.sum().backward()
            return out
        if self.b.name == "mxnet":
            with self.fw.autograd.record():
                out = fn(inputs, *args)
            out.backward()
            return out
        tf = self.fw
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            out = tf.reduce_sum(fn(inputs, *args))
        tape.gradient(out, [inputs, *variables])
        return out


def _one_thread(b):
    if b.name == "tensorflow":
        b.fw.config.threading.set_intra_op_parallelism_threads(1)
        b.fw.config.threading.set_inter_op_parallelism_threads(1)
    elif b.name == "torch":
        b.fw.set_num_threads(1)


def attention(name, repeats):
    b = backends.Backend(name)
    _one_thread(b)
    d2l, up = b.d2l, upstream(name)
    ops = _Ops(b)
    rng = np.random.default_rng(0)
    X = b.tensor(rng.normal(size=SOFTMAX_SHAPE).astype(np.float32))
    lens_np = rng.integers(1, SOFTMAX_SHAPE[2] + 1, SOFTMAX_SHAPE[0])
    dtype = {"mxnet": "float32", "torch": "int64", "tensorflow": "int32"}[name]
    lens = b.tensor(lens_np, dtype)
    print(f"{name}: masked_softmax {SOFTMAX_SHAPE}, valid lengths 1..128")
    Xg = b.tensor(rng.normal(size=SOFTMAX_SHAPE).astype(np.float32))
    if name == "torch":
        Xg.requires_grad_(True)
    elif name == "mxnet":
        Xg.attach_grad()
    cases = {"forward": (lambda f: lambda: ops.forward(f, X, lens)),
             "forward + backward": (lambda f: lambda: ops.backward(
                 lambda x, v: f(x * 1, v), Xg, lens))}
    for label, make in cases.items():
        fns = [make(d2l.masked_softmax)] + ([make(up.masked_softmax)] if up else [])
        times = fastest(fns, repeats, ops.sync)
        report(f"masked_softmax {label}", times[0], times[1] if up else None)

    print(f"{name}: MultiHeadAttention batch {BATCH}, {STEPS} tokens, {HIDDENS} hidden, "
          f"{HEADS} heads, valid lengths 64..128")
    mine = _mha(b, d2l)
    Q = b.tensor(rng.normal(size=(BATCH, STEPS, HIDDENS)).astype(np.float32))
    vl = b.tensor(rng.integers(STEPS // 2, STEPS + 1, BATCH), dtype)
    ops.forward(mine, Q, Q, Q, vl)
    layers = [mine]
    if up:
        theirs = _mha(b, up)
        ops.forward(theirs, Q, Q, Q, vl)
        d2l.import_params(theirs, d2l.export_params(mine))
        diff = np.abs(b.numpy(ops.forward(mine, Q, Q, Q, vl))
                      - b.numpy(ops.forward(theirs, Q, Q, Q, vl))).max()
        assert diff < 1e-4, f"d2l and upstream MultiHeadAttention differ by {diff}"
        layers.append(theirs)
    if name == "torch":
        Qg = Q.clone().requires_grad_(True)
    elif name == "mxnet":
        Qg = Q.copy()
        Qg.attach_grad()
    else:
        Qg = Q
    cases = {"forward": (lambda m: lambda: ops.forward(m, Q, Q, Q, vl)),
             "forward + backward": (lambda m: lambda: ops.backward(
                 lambda q, v: m(q, q, q, v), Qg, vl,
                 variables=getattr(m, "trainable_variables", ())))}
    for label, make in cases.items():
        times = fastest([make(m) for m in layers], repeats, ops.sync)
        report(f"MultiHeadAttention {label}", times[0], times[1] if up else None)


# --- BERT throughput --------------------------------------------------------------------

def bert(name, repeats):
    """Forward and forward + backward of the book's small BERT on one batch."""
    from spec import natural_language_processing_pretraining as nlp

    b = backends.Backend(name)
    _one_thread(b)
    s = BERT_SIZES
    sizes = {k: s[k] for k in ("vocab_size", "num_hiddens", "ffn_num_hiddens", "num_heads",
                               "num_layers", "max_len")}
    rng = np.random.default_rng(0)
    params = {k: v / 10 for k, v in nlp.bert_params(rng, sizes).items()}
    net = nlp.build_bert(b, "model", sizes, params)
    batch, steps = s["batch"], s["max_len"]
    ids = nlp.ids_dtype(b)
    tokens = b.tensor(rng.integers(0, s["vocab_size"], (batch, steps)), ids)
    segments = b.tensor((np.arange(steps) >= steps // 2)[None].repeat(batch, 0), ids)
    lens = b.tensor(rng.integers(steps // 2, steps + 1, batch).astype(np.float32))
    positions = b.tensor(rng.integers(0, steps, (batch, s["num_preds"])), ids)
    ops = _Ops(b)

    def loss(_, *args):
        _, mlm, nsp = net(*args)
        return (mlm.sum() if name != "tensorflow" else b.fw.reduce_sum(mlm)) + (
            nsp.sum() if name != "tensorflow" else b.fw.reduce_sum(nsp))

    args = (tokens, segments, lens, positions)
    forward = (lambda: ops.forward(lambda: nlp.run(b, net, *args))) if name != "mxnet" else (
        lambda: net(*args))
    backward = lambda: ops.backward(loss, lens, *args,  # noqa: E731
                                    variables=getattr(net, "trainable_variables", ()))
    times = fastest([forward, backward], repeats, ops.sync)
    print(f"{name}: BERT (2 layers, 128 hidden, 2 heads, 256 FFN, vocab {s['vocab_size']}), "
          f"batch {batch} x {steps} tokens, {s['num_preds']} predictions each")
    for label, seconds in zip(("forward", "forward + backward"), times):
        print(f"  {label:<20} {seconds * 1e3:8.2f} ms   {batch / seconds:8.1f} sequences/s")


# --- the pretraining dataset ---------------------------------------------------------------

def dataset(name, repeats):
    """_WikiTextDataset on ~10 MB of generated wiki-format text, d2l against upstream."""
    from spec import natural_language_processing_pretraining as nlp

    b = backends.Backend(name)
    up = upstream(name)
    text = nlp.wiki_text(50000, seed=0)
    paragraphs = nlp.read_wiki_reference(text)
    print(f"{name}: _WikiTextDataset on {len(text) / 1e6:.1f} MB of generated "
          f"wiki.train.tokens ({len(paragraphs)} paragraphs), max_len 64")

    def build(module):
        def run():
            random.seed(0)
            module._WikiTextDataset(paragraphs, 64)
        return run

    fns = [build(b.d2l)] + ([build(up)] if up else [])
    times = fastest(fns, max(1, repeats), lambda: None)
    report("_WikiTextDataset", times[0], times[1] if up else None)


def main():
    parser = argparse.ArgumentParser(description="chapter 14 BERT benchmarks")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--skip-data", action="store_true")
    parser.add_argument("--data-repeats", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        what, name = args.one.split(":")
        {"attention": attention, "bert": bert, "dataset": dataset}[what](name, args.repeats)
        return
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               TF_NUM_INTEROP_THREADS="1", TF_NUM_INTRAOP_THREADS="1",
               TF_CPP_MIN_LOG_LEVEL="2")
    names = [n for n in backends.ORDER if n in args.frameworks.split(",")]
    jobs = [(what, name) for what in ("attention", "bert") for name in names]
    if not args.skip_data:  # the pipeline is framework-neutral: one framework's classes
        jobs.append(("dataset", "torch" if "torch" in names else names[0]))
    for what, name in jobs:
        repeats = args.data_repeats if what == "dataset" else args.repeats
        subprocess.run([sys.executable, __file__, "--one", f"{what}:{name}", "--repeats",
                        str(repeats)], check=True, env=env)


if __name__ == "__main__":
    main()
