"""Text pipeline speed (sections 8.2-8.3, 9.7) against straightforward per-element Python
loops, measured side by side; prints a table.

* Vocab over 1M word tokens (The Time Machine's words, repeated): construction, the lookup
  of every token (`vocab[lines]`), and both on a flat corpus, against a counting/lookup
  loop per token.
* One epoch of `seq_data_iter_random` / `seq_data_iter_sequential` over a 1M-token corpus
  (batch 32 x 35 steps, tensors in each framework), against a version that slices one
  Python list per example and builds every batch tensor from nested lists.
* bleu over 20k sentence pairs (k=2 and k=4), against the nested n-gram loops.

    python benchmarks/text.py [--frameworks mxnet,torch,tensorflow] [--repeats 3]
                              [--samplers-only]

Times are process CPU time, best of --repeats.
"""

import argparse
import functools
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from d2l.common import machine_translation, text  # noqa: E402
from spec import backends, support  # noqa: E402
from spec.modern_rnns import bleu_reference as loop_bleu  # noqa: E402

NUM_TOKENS = 1_000_000
BATCH_SIZE, NUM_STEPS = 32, 35


# ---------------------------------------------------------------- naive versions


class LoopVocab:
    """Vocab built and queried one token at a time."""

    def __init__(self, tokens, min_freq=0, reserved_tokens=()):
        counts = {}
        for line in tokens if tokens and isinstance(tokens[0], list) else [tokens]:
            for token in line:
                if token in counts:
                    counts[token] += 1
                else:
                    counts[token] = 1
        self.token_freqs = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
        self.idx_to_token = ["<unk>"] + list(reserved_tokens)
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}
        for token, freq in self.token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, 0)
        return [self.__getitem__(token) for token in tokens]


def loop_random_iter(tensor, corpus, batch_size, num_steps):
    """Random sampling with one list slice per example and nested-list tensors."""
    corpus = corpus[random.randint(0, num_steps - 1):]
    num_subseqs = (len(corpus) - 1) // num_steps
    starts = list(range(0, num_subseqs * num_steps, num_steps))
    random.shuffle(starts)
    for i in range(0, num_subseqs // batch_size * batch_size, batch_size):
        chosen = starts[i:i + batch_size]
        yield (tensor([corpus[j:j + num_steps] for j in chosen]),
               tensor([corpus[j + 1:j + 1 + num_steps] for j in chosen]))


def loop_sequential_iter(tensor, corpus, batch_size, num_steps):
    """Sequential partitioning with one list slice per row and nested-list tensors."""
    offset = random.randint(0, num_steps)
    width = (len(corpus) - offset - 1) // batch_size
    for s in range(0, width // num_steps * num_steps, num_steps):
        starts = [offset + r * width + s for r in range(batch_size)]
        yield (tensor([corpus[j:j + num_steps] for j in starts]),
               tensor([corpus[j + 1:j + 1 + num_steps] for j in starts]))


# ---------------------------------------------------------------- data and timing


def word_lines():
    """The Time Machine's non-empty lines as word lists, repeated to NUM_TOKENS tokens."""
    raw = (support.SHARED_DATA / "timemachine.txt").read_text(encoding="utf-8").split("\n")
    cleaned = [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in raw]
    lines = [words for words in text.tokenize(cleaned, "word") if words]
    out, count = [], 0
    while count < NUM_TOKENS:
        for line in lines:
            out.append(line)
            count += len(line)
            if count >= NUM_TOKENS:
                break
    return out


def sentence_pairs(n, seed=0):
    """n (prediction, label) pairs: labels of 3-12 words from a 50-word vocabulary, and
    predictions that replace each word with probability 0.2 and drop the last one half of
    the time (so most pairs share n-grams of every order)."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(50)])
    pairs = []
    for _ in range(n):
        label = rng.choice(words, rng.integers(3, 13))
        pred = np.where(rng.random(len(label)) < 0.2, rng.choice(words, len(label)), label)
        pairs.append((" ".join(pred[:len(pred) - rng.integers(0, 2)]), " ".join(label)))
    return pairs


def best_of(repeats, fn, *args):
    """The fastest of `repeats` runs of fn(*args), in CPU seconds of this process (all its
    threads): on a shared machine wall time mostly measures the neighbours."""
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn(*args)
        times.append(time.process_time() - t)
    return min(times)


def build_and_index(vocab_class, tokens):
    """What load_corpus_time_machine does: a vocabulary, then every token's index."""
    return vocab_class(tokens)[tokens]


def run_epoch(sampler, corpus):
    """Draw every batch of one epoch of `sampler(corpus, BATCH_SIZE, NUM_STEPS)`."""
    for _ in sampler(corpus, BATCH_SIZE, NUM_STEPS):
        pass


def bleu_all(bleu, pairs, k):
    return [bleu(pred, label, k) for pred, label in pairs]


def row(what, fast, slow):
    print(f"{what:<44} {fast * 1e3:>9.1f} {slow * 1e3:>10.1f} {slow / fast:>8.1f}x")


def main():
    parser = argparse.ArgumentParser(description="text pipeline speed")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samplers-only", action="store_true",
                        help="time only the sequence samplers (e.g. in a second env)")
    args = parser.parse_args()
    print(f"{'':<44} {'d2l (ms)':>9} {'loops (ms)':>10} {'speedup':>9}")
    if not args.samplers_only:
        time_vocab(args.repeats)
    time_samplers(args.frameworks.split(","), args.repeats)
    if not args.samplers_only:
        time_bleu(args.repeats)


def time_vocab(repeats):
    lines = word_lines()
    vocab = text.Vocab(lines)
    assert vocab.idx_to_token == LoopVocab(lines).idx_to_token
    row(f"Vocab({sum(map(len, lines))} tokens)", best_of(repeats, text.Vocab, lines),
        best_of(repeats, LoopVocab, lines))
    loop_vocab = LoopVocab(lines)
    row("vocab[lines] (all tokens, nested)", best_of(repeats, vocab.__getitem__, lines),
        best_of(repeats, loop_vocab.__getitem__, lines))
    flat = [token for line in lines for token in line]
    row("Vocab(flat) + vocab[flat] (a corpus)", best_of(repeats, build_and_index, text.Vocab,
                                                         flat),
        best_of(repeats, build_and_index, LoopVocab, flat))



def time_samplers(frameworks, repeats):
    corpus = np.random.default_rng(0).integers(0, 28, NUM_TOKENS).tolist()
    for name in [n for n in backends.ORDER if n in frameworks]:
        d2l = backends.Backend(name).d2l
        for fn_name, loop in (("seq_data_iter_random", loop_random_iter),
                              ("seq_data_iter_sequential", loop_sequential_iter)):
            fn = getattr(d2l, fn_name)
            random.seed(0)
            fast_batches = [(d2l.numpy(X), d2l.numpy(Y)) for X, Y in fn(corpus, 32, 35)]
            random.seed(0)
            loop_batches = [(d2l.numpy(X), d2l.numpy(Y))
                            for X, Y in loop(d2l.tensor, corpus, 32, 35)]
            assert all(np.array_equal(a, b) for p, q in zip(fast_batches, loop_batches)
                       for a, b in zip(p, q)) and len(fast_batches) == len(loop_batches)
            row(f"{name} {fn_name} (1 epoch)",
                best_of(repeats, run_epoch, fn, corpus),
                best_of(repeats, run_epoch, functools.partial(loop, d2l.tensor), corpus))



def time_bleu(repeats):
    pairs = sentence_pairs(20_000)
    for k in (2, 4):
        scores = [machine_translation.bleu(p, label, k) for p, label in pairs]
        assert np.allclose(scores, [loop_bleu(p, label, k) for p, label in pairs],
                           rtol=1e-12, atol=0)
        row(f"bleu x 20000 pairs, k={k}", best_of(repeats, bleu_all, machine_translation.bleu,
                                                  pairs, k),
            best_of(repeats, bleu_all, loop_bleu, pairs, k))


if __name__ == "__main__":
    main()
