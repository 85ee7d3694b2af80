"""Benchmarks for the foundation: import cost and train_ch3 overhead, per framework.

    python benchmarks/import_and_train.py [--frameworks mxnet,torch,tensorflow] [--repeats 7]

1. Import cost of `d2l.<fw>` beyond the framework's own import: in a fresh interpreter,
   `import <fw>` is timed, then `import d2l.<fw>` (median of 5 interpreters).
   Target: under 150 ms.
2. An epoch of `train_ch3` (softmax regression on 60000 learnable Fashion-MNIST-format
   images, batch 256, the framework's own loss and SGD, test accuracy on 10000) against a
   bare hand-written loop that computes the same: forward, backward and update per batch,
   training loss and accuracy summed as framework tensors, test accuracy at the end, no
   Accumulator, Animator or per-batch conversions. Same batches in the same order (shuffle
   off). One-epoch `train_ch3` calls (figure included) alternate with bare epochs, `--repeats`
   times; the fastest of each is compared (the minimum is the least noisy estimate of the
   cost on a shared machine). Target: overhead under 10%.

Each framework runs in its own interpreter (three frameworks in one process compete for the
cores with their thread pools). The timing is wall-clock; run nothing else meanwhile.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spec import backends, canonical, support  # noqa: E402


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


def _correct(b, y_hat, y):
    """Correct predictions of a batch as a 0-d framework tensor (no conversion to Python)."""
    if b.name == "tensorflow":
        tf = b.fw
        return tf.reduce_sum(tf.cast(tf.argmax(y_hat, axis=1) == tf.cast(y, tf.int64),
                                     tf.float32))
    return (y_hat.argmax(axis=1).astype(y.dtype) == y).sum() if b.name == "mxnet" else (
        y_hat.argmax(axis=1) == y).sum()


def _bare_epoch(b, net, train_iter, test_iter, loss, updater):
    """The loop a reader would write by hand for the same numbers as train_ch3's epoch."""
    loss_sum = correct = test_correct = 0
    n_train = n_test = 0
    if b.name == "torch":
        net.train()
        for X, y in train_iter:
            updater.zero_grad()
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            updater.step()
            loss_sum, correct = loss_sum + l.detach() * len(y), correct + _correct(b, y_hat, y)
            n_train += len(y)
        net.eval()
        with b.fw.no_grad():
            for X, y in test_iter:
                test_correct, n_test = test_correct + _correct(b, net(X), y), n_test + len(y)
    elif b.name == "mxnet":
        from mxnet import autograd

        for X, y in train_iter:
            with autograd.record():
                y_hat = net(X)
                l = loss(y_hat, y)
            l.backward()
            updater.step(X.shape[0])
            loss_sum, correct = loss_sum + l.sum(), correct + _correct(b, y_hat, y)
            n_train += len(y)
        for X, y in test_iter:
            test_correct, n_test = test_correct + _correct(b, net(X), y), n_test + len(y)
    else:
        tf = b.fw
        for X, y in train_iter:
            with tf.GradientTape() as tape:
                y_hat = net(X, training=True)
                l = loss(y, y_hat)
            params = net.trainable_variables
            updater.apply_gradients(zip(tape.gradient(l, params), params))
            loss_sum, correct = loss_sum + l * len(y), correct + _correct(b, y_hat, y)
            n_train += len(y)
        for X, y in test_iter:
            test_correct, n_test = test_correct + _correct(b, net(X), y), n_test + len(y)
    return (float(loss_sum) / n_train, float(correct) / n_train, float(test_correct) / n_test)


def train_overhead(b, repeats):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (train_x, train_y), (test_x, test_y) = (support.synthetic_fashion_mnist(60000, 0),
                                            support.synthetic_fashion_mnist(10000, 1))

    def loader(x, y):
        x = x[:, None].astype(np.float32) / 255
        return b.d2l.load_array((b.images(x), b.labels(y)), 256, is_train=False)

    train_iter, test_iter = loader(train_x, train_y), loader(test_x, test_y)
    net = canonical.dense_stack(b, canonical.init_params([784, 10]), (1, 28, 28))
    loss = canonical.classification_loss(b)
    updater = canonical.sgd_optimizer(b, net, 0.1)
    _bare_epoch(b, net, train_iter, test_iter, loss, updater)  # warm-up
    bare, d2l = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        _bare_epoch(b, net, train_iter, test_iter, loss, updater)
        _synchronize(b)
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        b.d2l.train_ch3(net, train_iter, test_iter, loss, 1, updater)
        _synchronize(b)
        d2l.append(time.perf_counter() - t)
        plt.close("all")
    return min(bare), min(d2l)


def main():
    parser = argparse.ArgumentParser(description="d2l import and training-loop overhead")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=7, help="runs of each loop")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the per-framework worker
    args = parser.parse_args()
    if args.one:
        print(*train_overhead(backends.Backend(args.one), args.repeats))
        return
    names = [n for n in backends.ORDER if n in args.frameworks.split(",")]
    print(f"{'framework':<11} {'import fw':>10} {'+ d2l':>8} {'bare epoch':>11} "
          f"{'train_ch3 epoch':>16} {'overhead':>9}")
    for name in names:
        fw_import, d2l_import = import_overhead(name)
        worker = subprocess.run([sys.executable, __file__, "--one", name, "--repeats",
                                 str(args.repeats)], capture_output=True, text=True, check=True)
        bare, d2l = map(float, worker.stdout.split()[-2:])
        print(f"{name:<11} {fw_import * 1e3:>8.0f}ms {d2l_import * 1e3:>6.0f}ms "
              f"{bare:>10.3f}s {d2l:>15.3f}s {100 * (d2l / bare - 1):>8.1f}%")


if __name__ == "__main__":
    main()
