"""`load_data_snli` (section 15.4) on 550k generated SNLI-format pairs, against upstream d2l
0.16.6 run as a black box; prints a table.

The data: snli_1.0.zip packed as the real archive, its train file holding 550,152 pairs
(the real count) and its test file 9,824, in the real 14-column tab-separated format with
binary parses; words drawn from a Zipf law over 30,000 words, premises ~13 tokens,
hypotheses ~7, each premise used for three hypotheses, about 0.1% gold labels '-'. Both
implementations read the same cached archive (no network): each call extracts it, reads
both files, tokenizes, builds the vocabulary (min_freq 5, '<pad>'), pads every premise and
hypothesis to 50 ids and makes the tensors and loaders.

    python benchmarks/snli.py [--frameworks torch,mxnet] [--repeats 2] [--pairs 550152]

Times are process CPU seconds (the machine may be shared), best of --repeats; upstream's
module is loaded from /tmp/upstream/d2l/<framework>.py ("upstream not available" when it
is missing).
"""

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import harness  # noqa: E402

from d2l.common import data_hub  # noqa: E402
from spec import backends, nlp_files, support  # noqa: E402

LABELS = np.array(["entailment", "contradiction", "neutral", "-"])


def _parse(tokens):
    """A right-branching binary parse: '( a ( man ( sleeps . ) ) )'."""
    text = tokens[-1]
    for token in reversed(tokens[:-1]):
        text = f"( {token} {text} )"
    return text


def _rows(n, seed):
    """`n` SNLI rows as tab-joined lines (header not included)."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(30_000)])
    ranks = np.minimum(rng.zipf(1.3, size=n * 12), 30_000) - 1
    premise_lengths = rng.poisson(12, size=n // 3 + 1) + 1
    hypothesis_lengths = rng.poisson(6, size=n) + 1
    labels = LABELS[rng.choice(4, size=n, p=[0.333, 0.333, 0.333, 0.001])]
    lines, at = [], 0

    def take(k):
        nonlocal at
        at = at + k if at + k <= len(ranks) else k
        return list(words[ranks[at - k:at]])

    for i in range(n):
        if i % 3 == 0:
            premise = take(int(premise_lengths[i // 3])) + ["."]
            p_parse, p_text = _parse(premise), " ".join(premise)
        hypothesis = take(int(hypothesis_lengths[i]))
        h_text = " ".join(hypothesis)
        lines.append("\t".join([labels[i], p_parse, _parse(hypothesis), "(ROOT " + p_text + ")",
                                "(ROOT " + h_text + ")", p_text, h_text, f"{i // 3}.jpg#0",
                                f"{i // 3}.jpg#0r{i % 3}", labels[i], labels[i], labels[i],
                                labels[i], labels[i]]))
    return lines


def make_archive(path, n_train, n_test=9824):
    """snli_1.0.zip with n_train / n_test generated pairs (cached at `path`)."""
    if path.exists():
        return
    header = nlp_files.SNLI_HEADER
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("snli_1.0/", "")
        for split, n, seed in (("train", n_train, 0), ("dev", n_test, 1), ("test", n_test, 2)):
            archive.writestr(f"snli_1.0/snli_1.0_{split}.txt",
                             "\n".join([header] + _rows(n, seed)) + "\n")


def _best(load_data_snli, repeats):
    """(best CPU seconds, result) of load_data_snli(128, 50)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            result = load_data_snli(128, 50)
        times.append(time.process_time() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--frameworks", default="torch,mxnet")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=550_152)
    args = parser.parse_args()
    cache = Path(tempfile.gettempdir()) / f"d2l-bench-snli-{args.pairs}"
    data = cache / "data"
    data.mkdir(parents=True, exist_ok=True)
    archive = data / "snli_1.0.zip"
    start = time.perf_counter()
    make_archive(archive, args.pairs)
    print(f"archive {archive} ({archive.stat().st_size / 2**20:.0f} MiB, made or reused in "
          f"{time.perf_counter() - start:.1f} s)")
    sha1 = support.sha1(archive)
    url = "http://127.0.0.1:9/snli_1.0.zip"  # never fetched: the cached file matches
    os.chdir(cache / "data")  # upstream caches in ../data
    print(f"{'framework':<12}{'ours (s)':>10}{'upstream (s)':>14}{'speed-up':>10}  vocab")
    for name in args.frameworks.split(","):
        backend = backends.Backend(name)
        backend.d2l  # noqa: B018  (import outside the timing)
        with support.environ(D2L_DATA_DIR=data), \
                support.patched(data_hub.DATA_HUB, SNLI=(url, sha1)):
            ours, (_, _, vocab) = _best(backend.d2l.load_data_snli, args.repeats)
        upstream = harness.upstream(name)
        if upstream is None:
            print(f"{name:<12}{ours:>10.2f}{'upstream not available':>24}")
            continue
        upstream.DATA_HUB["SNLI"] = (url, sha1)
        theirs, (_, _, their_vocab) = _best(upstream.load_data_snli, args.repeats)
        same = "same" if their_vocab.idx_to_token == vocab.idx_to_token else "DIFFERENT"
        print(f"{name:<12}{ours:>10.2f}{theirs:>14.2f}{theirs / ours:>9.1f}x  {len(vocab)} "
              f"tokens ({same})")


if __name__ == "__main__":
    main()
