"""evaluate_ranking over MovieLens-sized generated data (943 users x 1682 items, ~100
training items per user, one held-out test item each, the seq-aware split of 16.6) with the
book's NeuMF (num_factors 10, nums_hiddens [10, 10, 10], weights from one canonical draw), on
the CPU:

* d2l's vectorized evaluate_ranking per framework (every user x item pair scored in large
  batches, one sort of the score matrix), its result checked against the spec's plain-loop
  NumPy ranking of the same scores;
* upstream d2l 0.16.6's MXNet evaluate_ranking (loaded by file path from
  /tmp/upstream/d2l/mxnet.py as a black box; a per-user loop: a DataLoader, a sort of
  Python tuples and hit_and_auc per user). Upstream ranks only range(num_users) = 943 items
  per user (its bug), so it does less work than the fixed version. Target: d2l's MXNet
  version at least 5x faster.

    python benchmarks/recsys.py [--frameworks mxnet,torch,tensorflow] [--repeats 3]

Each framework runs in its own interpreter (MXNet and TensorFlow import cleanly together
only in MXNet-first order); the fastest repeat is kept.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import harness  # noqa: E402

from spec import backends  # noqa: E402
from spec import recommender_systems as rs  # noqa: E402

FACTORS, NUM_USERS, NUM_ITEMS, HIDDENS = rs.MOVIELENS_SIZES


def fastest(fn, repeats):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run(name, repeats):
    b = backends.Backend(name)
    d2l = b.d2l
    params = rs.neumf_params(FACTORS, NUM_USERS, NUM_ITEMS, HIDDENS, seed=0, scale=0.3)
    net = rs.build_model(b, "neumf", params, FACTORS, NUM_USERS, NUM_ITEMS, HIDDENS)
    candidates, test_input = rs.movielens_ranking_data()
    devices = d2l.try_all_gpus()
    ours, (hit, auc) = fastest(lambda: d2l.evaluate_ranking(
        net, test_input, None, candidates, NUM_USERS, NUM_ITEMS, devices), repeats)
    scores = rs.neumf_scores(params, NUM_USERS, NUM_ITEMS)
    expected = rs.ranking_reference(scores, test_input, candidates)
    assert np.allclose((hit, auc), expected, atol=2e-3), ((hit, auc), expected)
    print(f"{name}: d2l evaluate_ranking {ours:.3f} s (hit rate {hit:.4f}, AUC {auc:.4f}; "
          f"NumPy loop reference {expected[0]:.4f}, {expected[1]:.4f})")
    if name != "mxnet":
        return
    upstream = harness.upstream("mxnet")
    if upstream is None:
        print("upstream not available")
        return
    slow, (up_hit, up_auc) = fastest(lambda: upstream.evaluate_ranking(
        net, test_input, None, candidates, NUM_USERS, NUM_ITEMS, devices), 1)
    print(f"mxnet: upstream 0.16.6 evaluate_ranking {slow:.3f} s (hit rate "
          f"{float(up_hit):.4f}, AUC {float(up_auc):.4f}: only {NUM_USERS} items ranked)")
    print(f"mxnet: speed-up {slow / ours:.1f}x (target >= 5x)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--frameworks", default="mxnet,torch,tensorflow")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        run(args.child, args.repeats)
        return
    for name in args.frameworks.split(","):
        subprocess.run([sys.executable, __file__, "--child", name, "--repeats",
                        str(args.repeats)], check=True)


if __name__ == "__main__":
    main()
