"""Section 9.7 as the book runs it, per framework: seq2seq (embed 32, hidden 32, 2 GRU layers,
dropout 0.1) trained with `train_seq2seq` (lr 0.005, batch 64, num_steps 10) on the real
fra-eng.zip (600 examples, served over loopback), then the book's four translations with
their BLEU (k=2). Prints seconds per epoch, the first and last epoch's loss per token, the
line train_seq2seq printed, and the translations.

    python benchmarks/seq2seq.py [--frameworks mxnet,torch] [--epochs 300] [--seed 0]

The book trains 300 epochs. Each framework runs in its own interpreter.
"""

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spec import backends  # noqa: E402


def measure(name, epochs, seed):
    import matplotlib

    matplotlib.use("Agg")
    from spec import modern_rnns

    b = backends.Backend(name)
    history, results, printed, seconds = modern_rnns.book_translation(b, epochs, seed)
    print(f"{name}: {seconds / epochs:.3f} s/epoch, loss {history[0]:.3f} -> {history[-1]:.3f}"
          f" over {epochs} epochs; printed: {printed.strip()}")
    for eng, translation, score in results:
        print(f"    {eng} => {translation}, bleu {score:.3f}")


def main():
    parser = argparse.ArgumentParser(description="the book's seq2seq run (section 9.7)")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure(args.one, args.epochs, args.seed)
        return
    for name in [n for n in backends.ORDER if n in args.frameworks.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--one", name, "--epochs",
                              str(args.epochs), "--seed", str(args.seed)],
                             capture_output=True, text=True, check=True)
        print(out.stdout, end="")


if __name__ == "__main__":
    main()
