"""Benchmarks for the foundation: import cost and train_ch3 overhead, per framework.

    python benchmarks/import_and_train.py [--frameworks mxnet,torch,tensorflow] [--epochs 3]

1. Import cost of `d2l.<fw>` beyond the framework's own import: in a fresh interpreter,
   `import <fw>` is timed, then `import d2l.<fw>` (median of 5 interpreters).
   Target: under 150 ms.
2. One epoch of `train_epoch_ch3` (softmax regression on 60000 Fashion-MNIST-shaped images,
   batch 256, the framework's own loss and SGD) against a bare hand-written loop doing the
   same forward, backward and update on the same batches, without d2l's Accumulator and
   accuracy bookkeeping. Median of `--epochs` epochs each. Target: overhead under 10%.

The timing is wall-clock on this machine; run nothing else meanwhile.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spec import backends, canonical  # noqa: E402


def import_overhead(name, runs=5):
    """(seconds to import the framework, further seconds to import d2l.<name>)."""
    code = (f"import time; t0 = time.perf_counter(); import {name}; "
            f"t1 = time.perf_counter(); import d2l.{name}; t2 = time.perf_counter(); "
            f"print(t1 - t0, t2 - t1)")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.split()[-2:] for _ in range(runs)]
    return tuple(statistics.median(float(r[i]) for r in runs) for i in (0, 1))


def _synchronize(b):
    """Wait for queued work (MXNet's engine runs asynchronously)."""
    if b.name == "mxnet":
        b.fw.npx.waitall()


def _bare_epoch(b, net, it, loss, updater):
    """The loop a reader would write by hand: forward, loss, backward, step; nothing else."""
    if b.name == "torch":
        for X, y in it:
            updater.zero_grad()
            loss(net(X), y).backward()
            updater.step()
    elif b.name == "mxnet":
        from mxnet import autograd

        for X, y in it:
            with autograd.record():
                l = loss(net(X), y)
            l.backward()
            updater.step(X.shape[0])
    else:
        import tensorflow as tf

        for X, y in it:
            with tf.GradientTape() as tape:
                l = tf.reduce_mean(loss(y, net(X, training=True)))
            params = net.trainable_variables
            updater.apply_gradients(zip(tape.gradient(l, params), params))


def train_overhead(b, epochs):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (60000, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 60000)
    it = b.d2l.load_array((b.images(X), b.labels(y)), 256, is_train=False)
    net = canonical.dense_stack(b, canonical.init_params([784, 10]))
    loss = canonical.classification_loss(b)
    updater = canonical.sgd_optimizer(b, net, 0.1)
    _bare_epoch(b, net, it, loss, updater)  # warm-up
    bare, d2l = [], []
    for _ in range(epochs):
        t = time.perf_counter()
        _bare_epoch(b, net, it, loss, updater)
        _synchronize(b)
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        b.d2l.train_epoch_ch3(net, it, loss, updater)
        _synchronize(b)
        d2l.append(time.perf_counter() - t)
    return statistics.median(bare), statistics.median(d2l)


def main():
    parser = argparse.ArgumentParser(description="d2l import and training-loop overhead")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    names = [n for n in backends.ORDER if n in args.frameworks.split(",")]
    print(f"{'framework':<11} {'import fw':>10} {'+ d2l':>8} {'bare epoch':>11} "
          f"{'train_epoch_ch3':>16} {'overhead':>9}")
    for name in names:
        fw_import, d2l_import = import_overhead(name)
        b = backends.Backend(name)
        bare, d2l = train_overhead(b, args.epochs)
        print(f"{name:<11} {fw_import * 1e3:>8.0f}ms {d2l_import * 1e3:>6.0f}ms "
              f"{bare:>10.2f}s {d2l:>15.2f}s {100 * (d2l / bare - 1):>8.1f}%")


if __name__ == "__main__":
    main()
