"""Section 8.5 as the book runs it: the scratch RNN (512 hidden units, weights N(0, 0.01)) on
the first 10000 characters of The Time Machine (served over loopback from shared/data),
batch 32, 35 steps, lr 1, `train_ch8` for 500 epochs. Prints per framework the final
perplexity (the book shows about 1.0), the tokens/sec `train_ch8` reports, the wall time and
the two samples.

    python benchmarks/train_ch8.py [--frameworks torch] [--epochs 500] [--random-iter]

Each framework runs in its own interpreter.
"""

import argparse
import contextlib
import io
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spec import backends, support  # noqa: E402
from spec import recurrent_neural_networks as rnn  # noqa: E402


def run(name, num_epochs, use_random_iter):
    """Train as the book does; returns (final perplexity, tokens/sec, seconds, samples)."""
    import matplotlib

    matplotlib.use("Agg")
    b = backends.Backend(name)
    with support.shared_data_served("timemachine.txt"):
        train_iter, vocab = b.d2l.load_data_time_machine(32, 35, use_random_iter)
    net = rnn.scratch_rnn(b, rnn.scratch_params(len(vocab), 512, seed=0, scale=0.01))
    random.seed(0)
    printed = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        b.d2l.train_ch8(net, train_iter, vocab, 1.0, num_epochs, rnn.train_ch8_device(b),
                        use_random_iter)
    seconds = time.perf_counter() - start
    lines = printed.getvalue().splitlines()
    ppl, speed = lines[-3].split(",")[:2]
    return float(ppl.split()[1]), float(speed.split()[0]), seconds, lines[-2:]


def main():
    parser = argparse.ArgumentParser(description="train_ch8 with the book's settings")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--random-iter", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        ppl, speed, seconds, samples = run(args.one, args.epochs, args.random_iter)
        print(ppl, speed, seconds)
        print("\n".join(samples))
        return
    print(f"{'framework':<11} {'epochs':>6} {'perplexity':>10} {'tokens/sec':>11} {'wall':>8}")
    for name in [n for n in backends.ORDER if n in args.frameworks.split(",")]:
        command = [sys.executable, __file__, "--one", name, "--epochs", str(args.epochs)]
        out = subprocess.run(command + (["--random-iter"] if args.random_iter else []),
                             capture_output=True, text=True, check=True).stdout.splitlines()
        ppl, speed, seconds = map(float, out[-3].split())
        print(f"{name:<11} {args.epochs:>6} {ppl:>10.1f} {speed:>11.1f} {seconds:>7.0f}s")
        print("   ", out[-2], "\n   ", out[-1])


if __name__ == "__main__":
    main()
