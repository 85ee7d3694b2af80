"""MultiHeadAttention forward (self-attention, batch 32, 128 tokens, 256 hidden, 8 heads, no
dropout) per framework, against the framework's own fused attention on the same weights:

* PyTorch: `torch.nn.functional.scaled_dot_product_attention` between the same projections,
  and `nn.MultiheadAttention` loaded with the same weights;
* TensorFlow: `keras.layers.MultiHeadAttention` loaded with the same weights (both run
  eagerly, and both inside a `tf.function`);
* MXNet: the interleaved self-attention ops (`contrib.interleaved_matmul_selfatt_qk` /
  `_valatt`) with a length-masked `softmax`, and a hybridized batched-matmul block.

Two masks: none, and one valid length per example (key padding, lengths 64..128). Every
baseline's output is first checked against d2l's. Target: d2l within 2x of the fused op.

    python benchmarks/attention.py [--frameworks mxnet,torch,tensorflow] [--repeats 10]

Each framework runs in its own interpreter (MXNet and TensorFlow import cleanly together
only in MXNet-first order, and thread pools would compete); the fastest repeat is kept.
"""

import argparse
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import fastest  # noqa: E402

from spec import attention_mechanisms as spec  # noqa: E402
from spec import backends  # noqa: E402

BATCH, STEPS, HIDDENS, HEADS = 32, 128, 256, 8
SIZES = {"num_hiddens": HIDDENS, "num_heads": HEADS, "bias": False, "query_size": HIDDENS,
         "key_size": HIDDENS, "value_size": HIDDENS}


def inputs(seed=0):
    """Canonical W_q, W_k, W_v, W_o, the input X and per-example valid lengths."""
    rng = np.random.default_rng(seed)
    scale = 1 / math.sqrt(HIDDENS)
    params = {f"{k}.weight": rng.normal(0, scale, (HIDDENS, HIDDENS)).astype(np.float32)
              for k in range(4)}
    X = rng.normal(size=(BATCH, STEPS, HIDDENS)).astype(np.float32)
    return params, X, rng.integers(STEPS // 2, STEPS + 1, BATCH)


def _torch_baselines(b, params, X, lens):
    import torch
    import torch.nn.functional as F

    W = [torch.from_numpy(params[f"{k}.weight"].T.copy()) for k in range(4)]  # (out, in)
    Xt = torch.from_numpy(X)
    keep = (torch.arange(STEPS)[None, :] < torch.from_numpy(lens)[:, None])  # (b, n_k)

    def heads(Z):
        return Z.reshape(BATCH, STEPS, HEADS, -1).transpose(1, 2)

    def sdpa(mask):
        def run():
            q, k, v = (heads(F.linear(Xt, w)) for w in W[:3])
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            return F.linear(out.transpose(1, 2).reshape(BATCH, STEPS, HIDDENS), W[3])
        return run

    mha = torch.nn.MultiheadAttention(HIDDENS, HEADS, bias=False, batch_first=True).eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat(W[:3]))
        mha.out_proj.weight.copy_(W[3])

    def module(mask):
        return lambda: mha(Xt, Xt, Xt, key_padding_mask=None if mask is None else ~mask,
                           need_weights=False)[0]

    return {"scaled_dot_product_attention": lambda masked: sdpa(
                keep[:, None, None, :] if masked else None),
            "nn.MultiheadAttention": lambda masked: module(keep if masked else None)}


def _keras_baselines(b, params, X, lens):
    import tensorflow as tf
    from tensorflow import keras

    layer = keras.layers.MultiHeadAttention(HEADS, HIDDENS // HEADS, use_bias=False)
    Xt = tf.constant(X)
    layer(Xt, Xt)
    d = HIDDENS // HEADS
    for dense, k in ((layer._query_dense, 0), (layer._key_dense, 1), (layer._value_dense, 2)):
        dense.kernel.assign(params[f"{k}.weight"].reshape(HIDDENS, HEADS, d))
    layer._output_dense.kernel.assign(params["3.weight"].reshape(HEADS, d, HIDDENS))
    keep = tf.constant(np.arange(STEPS)[None, None, :] < lens[:, None, None])
    keep = tf.broadcast_to(keep, (BATCH, STEPS, STEPS))

    def call(masked):
        return layer(Xt, Xt, attention_mask=keep if masked else None)

    compiled = tf.function(call)
    return {"keras MultiHeadAttention": lambda masked: lambda: call(masked),
            "keras MultiHeadAttention (tf.function)": lambda masked: lambda: compiled(masked)}


def _mxnet_baselines(b, params, X, lens):
    import mxnet as mx
    from mxnet import np as mnp
    from mxnet import npx
    from mxnet.gluon import nn

    d = HIDDENS // HEADS
    # interleaved projection: columns (head, [q, k, v], d)
    stacked = np.stack([params[f"{k}.weight"].reshape(HIDDENS, HEADS, d) for k in range(3)], 2)
    W_qkv = mx.nd.array(stacked.reshape(HIDDENS, 3 * HIDDENS).T)
    W_o = mx.nd.array(params["3.weight"].T)
    X_tnc = mx.nd.array(X.transpose(1, 0, 2))
    # one length per (example, head) row of scores, repeated for every query
    row_lens = np.repeat(np.repeat(lens, HEADS)[:, None], STEPS, 1).astype(np.int32)
    head_lens = mx.nd.array(row_lens, dtype="int32")

    def interleaved(masked):
        def run():
            qkv = mx.nd.FullyConnected(X_tnc, W_qkv, no_bias=True, num_hidden=3 * HIDDENS,
                                       flatten=False)
            scores = mx.nd.contrib.interleaved_matmul_selfatt_qk(qkv, heads=HEADS)
            weights = (mx.nd.softmax(scores, length=head_lens, use_length=True, axis=-1)
                       if masked else mx.nd.softmax(scores, axis=-1))
            out = mx.nd.contrib.interleaved_matmul_selfatt_valatt(qkv, weights, heads=HEADS)
            return mx.nd.FullyConnected(out, W_o, no_bias=True, num_hidden=HIDDENS,
                                        flatten=False).transpose((1, 0, 2))
        return run

    class BatchedMatmul(nn.HybridBlock):
        """The same computation as one static graph: batch_dot and a length-masked softmax."""

        def __init__(self):
            super().__init__()
            self.projections = nn.HybridSequential()
            for _ in range(4):
                self.projections.add(nn.Dense(HIDDENS, use_bias=False, flatten=False,
                                              in_units=HIDDENS))

        def hybrid_forward(self, F, X, lens):
            def heads(Z):
                Z = Z.reshape(BATCH, STEPS, HEADS, d).transpose(0, 2, 1, 3)
                return Z.reshape(BATCH * HEADS, STEPS, d)

            q, k, v = (heads(self.projections[i](X)) for i in range(3))
            scores = F.npx.batch_dot(q, k, transpose_b=True) / math.sqrt(d)
            weights = F.npx.softmax(scores, length=lens, use_length=True, axis=-1)
            out = F.npx.batch_dot(weights, v).reshape(BATCH, HEADS, STEPS, d)
            return self.projections[3](out.transpose(0, 2, 1, 3).reshape(BATCH, STEPS, HIDDENS))

    block = BatchedMatmul()
    block.initialize()
    for k in range(4):
        block.projections[k].weight.set_data(mnp.array(params[f"{k}.weight"].T))
    block.hybridize(static_alloc=True, static_shape=True)
    Xm = mnp.array(X)
    full = mnp.array(np.full_like(row_lens, STEPS), dtype="int32")
    masked_lens = mnp.array(row_lens, dtype="int32")
    npx.waitall()
    return {"interleaved_matmul_selfatt ops": interleaved,
            "hybridized batch_dot block": lambda masked: lambda: block(
                Xm, masked_lens if masked else full)}


BASELINES = {"torch": _torch_baselines, "tensorflow": _keras_baselines,
             "mxnet": _mxnet_baselines}


def _check(b, reference, observed, label):
    err = float(np.max(np.abs(b.numpy(observed) - reference)))
    if err > 1e-3:
        raise AssertionError(f"{b.name} {label}: differs from d2l's output by {err:.3g}")


def run(name, repeats):
    """Print d2l's and each baseline's forward time (ms) without and with the mask."""
    b = backends.Backend(name)
    params, X, lens = inputs()
    layer = spec.build(b, "mha", SIZES, params)
    Xt = b.tensor(X)
    sync = b.fw.npx.waitall if name == "mxnet" else (lambda: None)
    baselines = BASELINES[name](b, params, X, lens)
    for masked in (False, True):
        valid = spec.lens_tensor(b, lens) if masked else None

        def d2l_forward(valid=valid):
            return spec.run(b, layer, Xt, Xt, Xt, valid)

        label = "key padding mask" if masked else "no mask"
        expected = b.numpy(d2l_forward())
        fused = {baseline: make(masked) for baseline, make in baselines.items()}
        for baseline, fn in fused.items():
            _check(b, expected, fn(), f"{baseline} ({label})")
        mine, *theirs = fastest([d2l_forward, *fused.values()], repeats, sync)
        print(f"{name:<10} {label:<16} d2l MultiHeadAttention {mine * 1e3:8.2f} ms")
        for baseline, seconds in zip(fused, theirs):
            print(f"{'':<27} {baseline:<38} {seconds * 1e3:8.2f} ms   d2l/fused "
                  f"{mine / seconds:5.2f}x")


def main():
    parser = argparse.ArgumentParser(description="MultiHeadAttention forward speed")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run(args.one, args.repeats)
        return
    print(f"MultiHeadAttention forward: batch {BATCH}, {STEPS} tokens, {HIDDENS} hidden, "
          f"{HEADS} heads")
    for name in [n for n in backends.ORDER if n in args.frameworks.split(",")]:
        subprocess.run([sys.executable, __file__, "--one", name, "--repeats",
                        str(args.repeats)], check=True)


if __name__ == "__main__":
    main()
