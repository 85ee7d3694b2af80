"""Box operations of 13.4 per framework, against upstream d2l 0.16.6 (MXNet, PyTorch) and
torchvision:

* nms over 5000 boxes (IoU threshold 0.5), two layouts: 'spread' (random boxes over a
  1000 x 1000 image, most kept) and 'clustered' (50 objects, 100 jittered boxes each, most
  suppressed); baselines: upstream nms, torchvision.ops.nms;
* box_iou of 2000 x 2000 boxes; multibox_prior of the book's 561 x 728 image (sizes 0.75,
  0.5, 0.25, ratios 1, 2, 0.5); multibox_target for a batch of 32, 5000 anchors, 10 objects.

Targets (issue 11): nms >= 20x faster than upstream and within 3x of torchvision.ops.nms;
box_iou, multibox_prior, multibox_target >= 3x faster than upstream and within 2x of each
other across frameworks.

    python benchmarks/boxes.py [--frameworks mxnet,torch,tensorflow] [--repeats 5]

MXNet and TensorFlow run these on NumPy for CPU tensors (d2l.common.boxes.host_or_device);
`--native` switches that off to time their own ops. Upstream is loaded as a black box from
/tmp/upstream/d2l/<framework>.py (`pip download d2l==0.16.6 --no-deps` unpacked there) when
present. Each framework runs in its own
interpreter; the fastest repeat is kept (upstream nms: one run).
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import harness  # noqa: E402

from spec import backends  # noqa: E402

F = np.float32


def nms_boxes(layout, n=5000, seed=0):
    rng = np.random.default_rng(seed)
    if layout == "spread":
        xy = rng.uniform(0, 1000, (n, 2))
        wh = rng.uniform(5, 125, (n, 2))
    else:
        centres = rng.uniform(100, 900, (50, 2)).repeat(n // 50, axis=0)
        sizes = rng.uniform(40, 150, (50, 2)).repeat(n // 50, axis=0)
        wh = sizes * rng.uniform(0.8, 1.2, (n, 2))
        xy = centres - wh / 2 + rng.normal(0, 8, (n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(F)
    return boxes, (rng.permutation(n) / n).astype(F)


def random_boxes(rng, n):
    xy = rng.uniform(0, 0.9, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(0.01, 0.3, (n, 2))], 1).astype(F)


def target_inputs(seed=0):
    rng = np.random.default_rng(seed)
    anchors = random_boxes(rng, 5000)[None]
    classes = rng.integers(0, 3, (32, 10, 1)).astype(F)
    return anchors, np.concatenate([classes, random_boxes(rng, 320).reshape(32, 10, 4)], -1)


def fastest(fn, repeats, sync, warm=True):
    if warm:
        fn()
        sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def _sync(b):
    if b.name == "mxnet":
        return lambda: b.fw.nd.waitall()
    if b.name == "torch" and b.gpu:
        return b.fw.cuda.synchronize
    return lambda: None


def run(name, repeats, gpu):
    b = backends.Backend(name, gpu=gpu)
    d2l, sync, up = b.d2l, _sync(b), None if name == "tensorflow" else harness.upstream(name)
    results = {}

    def time_both(key, ours, theirs, check):
        """Time ours and (once checked equal) upstream's; check None: upstream once, cold
        (its nms takes seconds)."""
        results[key] = {"d2l": fastest(ours, repeats, sync)}
        if up is not None and theirs is not None:
            if check is not None:
                check(ours(), theirs())
            results[key]["upstream"] = (fastest(theirs, repeats, sync) if check is not None
                                        else fastest(theirs, 1, sync, warm=False))

    def same(a, c):
        a, c = b.numpy(a), b.numpy(c)
        if a.shape != c.shape or not np.allclose(a, c, rtol=1e-5, atol=1e-5):
            raise AssertionError("d2l and upstream disagree")

    def same_tuple(a, c):
        for x, y in zip(a, c):
            same(x, y)

    def time_nms(layout):
        boxes, scores = nms_boxes(layout)
        bt, st = b.tensor(boxes), b.tensor(scores)
        key = f"nms {layout}"
        time_both(key, lambda: d2l.nms(bt, st, 0.5), up and (lambda: up.nms(bt, st, 0.5)),
                  None)
        kept = b.numpy(d2l.nms(bt, st, 0.5))
        results[key]["kept"] = int(kept.size)
        if name == "torch":
            import torchvision

            tv = torchvision.ops.nms
            assert np.array_equal(b.numpy(tv(bt, st, 0.5)), kept), "torchvision disagrees"
            results[key]["torchvision"] = fastest(lambda: tv(bt, st, 0.5), repeats, sync)

    time_nms("spread")
    time_nms("clustered")
    rng = np.random.default_rng(1)
    b1, b2 = b.tensor(random_boxes(rng, 2000)), b.tensor(random_boxes(rng, 2000))
    time_both("box_iou 2000x2000", lambda: d2l.box_iou(b1, b2),
              up and (lambda: up.box_iou(b1, b2)), same)
    image = b.images(np.zeros((1, 3, 561, 728), F))
    nchw = b.tensor(np.zeros((1, 3, 561, 728), F))
    args = ([0.75, 0.5, 0.25], [1, 2, 0.5])
    time_both("multibox_prior 561x728", lambda: d2l.multibox_prior(image, *args),
              up and (lambda: up.multibox_prior(nchw, *args)), same)
    anchors, labels = (b.tensor(a) for a in target_inputs())
    time_both("multibox_target 32x5000x10", lambda: d2l.multibox_target(anchors, labels),
              up and (lambda: up.multibox_target(anchors, labels)), same_tuple)
    print("RESULT " + json.dumps({name: results}))


def report(all_results):
    print(f"{'':<28}" + "".join(f"{n:>12}" for n in all_results) + "   (ms)")
    keys = list(next(iter(all_results.values())))
    for key in keys:
        row = {n: r[key] for n, r in all_results.items() if key in r}
        print(f"{key:<28}" + "".join(f"{v['d2l'] * 1e3:12.2f}" for v in row.values()))
        for n, v in row.items():
            notes = []
            if "upstream" in v:
                notes.append(f"upstream {v['upstream'] * 1e3:.1f} ms = "
                             f"{v['upstream'] / v['d2l']:.1f}x slower")
            if "torchvision" in v:
                notes.append(f"torchvision {v['torchvision'] * 1e3:.2f} ms (d2l/torchvision "
                             f"{v['d2l'] / v['torchvision']:.2f}x)")
            if "kept" in v:
                notes.append(f"{v['kept']} kept")
            if notes:
                print(f"    {n:<10} " + "; ".join(notes))
        times = [v["d2l"] for v in row.values()]
        if len(times) > 1:
            print(f"    slowest / fastest framework: {max(times) / min(times):.2f}x")


def main():
    parser = argparse.ArgumentParser(description="13.4 box operations speed")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gpu", action="store_true", help="on each framework's first GPU")
    parser.add_argument("--native", action="store_true",
                        help="MXNet and TensorFlow on their own ops for CPU tensors too")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.native:
            from d2l.common import boxes

            boxes.HOST_ON_CPU = False
        run(args.one, args.repeats, args.gpu)
        return
    if not harness.UPSTREAM.exists():
        print("upstream not available (unpack d2l==0.16.6 into /tmp/upstream)")
    results = {}
    for name in [n for n in backends.ORDER if n in args.frameworks.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--one", name, "--repeats",
                              str(args.repeats)] + (["--gpu"] if args.gpu else [])
                             + (["--native"] if args.native else []),
                             check=True, capture_output=True, text=True).stdout
        line = next(x for x in out.splitlines() if x.startswith("RESULT "))
        results.update(json.loads(line[len("RESULT "):]))
    report(results)


if __name__ == "__main__":
    main()
