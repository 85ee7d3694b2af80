"""corr2d on a 256 x 256 input with a 5 x 5 kernel, forward and forward + backward, per
framework (target: under 50 ms on CPU), against the straightforward double Python loop of
the book's text run on NumPy.

    python benchmarks/corr2d.py [--frameworks mxnet,torch,tensorflow] [--repeats 20]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spec import backends  # noqa: E402


def loop_corr2d(X, K):
    """The naive definition: one window product per output element."""
    h, w = K.shape
    Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), np.float32)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def best_of(fn, repeats, sync=lambda: None):
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return min(times)


def time_backend(b, X, K, repeats):
    """(forward seconds, forward + backward + update seconds) of corr2d in backend `b`."""
    Xt, Kt = b.tensor(X), b.param(K)
    sync = b.fw.npx.waitall if b.name == "mxnet" else (lambda: None)
    forward = best_of(lambda: b.d2l.corr2d(Xt, Kt), repeats, sync)
    both = best_of(lambda: b.sgd_step(lambda: b.d2l.reduce_sum(b.d2l.corr2d(Xt, Kt)), [Kt],
                                      0.0), repeats, sync)
    return forward, both


def main():
    parser = argparse.ArgumentParser(description="corr2d speed")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 256)).astype(np.float32)
    K = rng.normal(size=(5, 5)).astype(np.float32)
    print(f"NumPy double loop: {best_of(lambda: loop_corr2d(X, K), 1) * 1e3:.0f} ms")
    for name in [n for n in backends.ORDER if n in args.frameworks.split(",")]:
        forward, both = time_backend(backends.Backend(name), X, K, args.repeats)
        print(f"{name:<11} forward {forward * 1e3:6.2f} ms   forward+backward+step "
              f"{both * 1e3:6.2f} ms")

if __name__ == "__main__":
    main()
