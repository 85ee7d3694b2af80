"""Word2vec data speed (section 14.3) and Vocab construction against upstream d2l 0.16.6,
measured side by side in one process; prints a table.

* `load_data_ptb(512, 5, 5)` on the real PTB (read, Vocab, subsampling, centres/contexts,
  negatives, loader), then one pass over the loader, per framework. Upstream 0.16.6 has no
  TensorFlow version: TensorFlow is compared with upstream PyTorch (the pipeline is Python).
* Whether the same `random.seed` gives the same centres, contexts and negatives as upstream's
  saved functions (a black-box comparison of outputs).
* `Vocab` over 1M Zipf-distributed word tokens (flat, and as lines of 20), against
  upstream's Vocab.

    python benchmarks/ptb.py [--frameworks mxnet,torch,tensorflow] [--repeats 3]
                             [--upstream /tmp/upstream/d2l] [--vocab-only]

Upstream is loaded by file path from --upstream (a `pip download d2l==0.16.6` unpacked);
without it the upstream columns read "upstream not available". Times are process CPU time
(loader workers excluded, so upstream's multi-process loading is favoured), best of
--repeats.
"""

import argparse
import contextlib
import gc
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import harness  # noqa: E402

from d2l.common import text  # noqa: E402
from spec import backends, support  # noqa: E402

UPSTREAM_FILES = {"mxnet": "mxnet.py", "torch": "torch.py", "tensorflow": "torch.py"}


def load_upstream(folder, framework):
    """Upstream's d2l/<framework>.py in `folder` as a module (TensorFlow: its PyTorch one),
    or None."""
    return harness.upstream_module(Path(folder) / UPSTREAM_FILES[framework])


NUM_TOKENS = 1_000_000


@contextlib.contextmanager
def ptb_cache():
    """A working folder whose ../data holds the real ptb.zip (upstream's cache folder) and
    `$D2L_DATA_DIR` pointing at it (ours): nothing is downloaded."""
    with tempfile.TemporaryDirectory() as tmp:
        data, work = Path(tmp, "data"), Path(tmp, "work")
        data.mkdir()
        work.mkdir()
        shutil.copy(support.SHARED_DATA / "ptb.zip", data / "ptb.zip")
        old = os.getcwd()
        os.chdir(work)
        try:
            with support.environ(D2L_DATA_DIR=data):
                yield
        finally:
            os.chdir(old)


def best_time(fn, repeats):
    """(best process CPU seconds of `fn()`, its last result)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best, result


def build_and_pass(d2l):
    """load_data_ptb(512, 5, 5) of the module `d2l`, then one pass over its batches."""
    random.seed(0)
    start = time.process_time()
    data_iter, _ = d2l.load_data_ptb(512, 5, 5)
    built = time.process_time() - start
    batches = sum(1 for _ in data_iter)
    return built, time.process_time() - start, batches


def ptb_rows(frameworks, upstream_dir, repeats):
    rows = []
    for name in frameworks:
        ours = backends.Backend(name).d2l
        upstream = load_upstream(upstream_dir, name)
        ours_t = min((build_and_pass(ours) for _ in range(repeats)), key=lambda r: r[1])
        up_t = (min((build_and_pass(upstream) for _ in range(repeats)), key=lambda r: r[1])
                if upstream else None)
        rows.append((name, ours_t, up_t))
    return rows


def same_examples_as_upstream(ours, upstream):
    """Whether seed 0 gives the same subsampled corpus, centres, contexts and negatives in
    our saved functions and upstream's (run on the same PTB sentences and vocabulary)."""
    sentences = ours.read_ptb()
    vocab = ours.Vocab(sentences, min_freq=10)
    results = []
    for module in (ours, upstream):
        random.seed(0)
        subsampled = module.subsampling(sentences, vocab)
        subsampled = subsampled[0] if isinstance(subsampled, tuple) else subsampled
        corpus = [vocab[line] for line in subsampled]
        centers, contexts = module.get_centers_and_contexts(corpus, 5)
        negatives = module.get_negatives(contexts, corpus, 5)
        results.append((subsampled, centers, contexts, negatives, random.random()))
    return [a == b for a, b in zip(*results)]


def zipf_tokens(seed=0):
    """1M word tokens whose ranks follow Zipf's law (exponent 1.2, ~100k distinct)."""
    ranks = np.random.default_rng(seed).zipf(1.2, NUM_TOKENS) % 200_000
    return [f"w{r}" for r in ranks.tolist()]


def vocab_rows(upstream, repeats):
    words = zipf_tokens()
    lines = [words[i:i + 20] for i in range(0, len(words), 20)]
    rows = []
    for label, tokens in (("flat", words), ("lines of 20", lines)):
        ours_t, ours_v = best_time(lambda t=tokens: text.Vocab(t), repeats)
        up_t, up_v = (best_time(lambda t=tokens: upstream.Vocab(t), repeats) if upstream
                      else (None, None))
        same = up_v is not None and up_v.idx_to_token == ours_v.idx_to_token
        rows.append((label, ours_t, up_t, same))
    return rows


def ratio(upstream, ours):
    return f"{upstream / ours:5.2f}x" if upstream else "upstream not available"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--upstream", default="/tmp/upstream/d2l")
    parser.add_argument("--vocab-only", action="store_true")
    args = parser.parse_args()
    frameworks = [f for f in backends.ORDER if f in args.frameworks.split(",")]

    first = load_upstream(args.upstream, frameworks[0]) if frameworks else None
    print(f"Vocab construction, {NUM_TOKENS} Zipf tokens (CPU s, best of {args.repeats})")
    print(f"{'corpus':<12} {'ours':>8} {'upstream':>9} {'speed-up':>9}  same vocab")
    for label, ours_t, up_t, same in vocab_rows(first, args.repeats):
        up = f"{up_t:9.3f}" if up_t else f"{'-':>9}"
        print(f"{label:<12} {ours_t:8.3f} {up} {ratio(up_t, ours_t):>9}  {same}")
    if args.vocab_only:
        return

    with ptb_cache():
        print(f"\nload_data_ptb(512, 5, 5) on the real PTB (CPU s, best of {args.repeats})")
        print(f"{'framework':<11} {'ours build':>10} {'+ 1 pass':>9} {'upstream build':>14} "
              f"{'+ 1 pass':>9} {'build x':>8} {'total x':>8}  batches")
        for name, (built, total, batches), up in ptb_rows(frameworks, args.upstream,
                                                          args.repeats):
            up_cols = (f"{up[0]:14.3f} {up[1]:9.3f}" if up else f"{'-':>14} {'-':>9}")
            print(f"{name:<11} {built:10.3f} {total:9.3f} {up_cols} "
                  f"{ratio(up and up[0], built):>8} {ratio(up and up[1], total):>8}  "
                  f"{batches}")
        if first is not None:
            ours = backends.Backend(frameworks[0]).d2l
            same = same_examples_as_upstream(ours, first)
            print("\nseed 0, same as upstream (subsampled, centers, contexts, negatives, "
                  f"random state after): {same}")


if __name__ == "__main__":
    main()
