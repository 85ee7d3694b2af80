"""Data-parallel `train_ch13` on 2 CPU devices against 1 device, per framework, on the
frameworks' own engines: two CPU contexts and the kvstore (MXNet), two logical CPU devices
under a MirroredStrategy (TensorFlow), two gloo processes under DistributedDataParallel
(PyTorch; one process for one device). Same model, data and global batch in both runs.

Reported per framework: seconds per epoch with 1 and 2 devices (from train_ch13's own
examples/sec, training steps only, after a one-epoch warm-up; the fastest of --repeats
interleaved runs; PyTorch's 1 device: the faster of one process with a thread per core and
with one thread), their ratio (target: 2 devices at most 1.5x slower than 1 on this 2-core
machine), and the communication share of the 2-device epoch: the time of the framework's own
gradient all-reduce across the 2 devices (Trainer.allreduce_grads over the kvstore /
replica-context all_reduce / gloo all_reduce of the gradients' size),
timed alone per step, times the steps per epoch, over the epoch time.

    python benchmarks/multidevice.py [--frameworks mxnet,torch,tensorflow] [--epochs 2]
                                     [--repeats 3]

Each framework runs in its own interpreter (TensorFlow's logical devices must be set before
it starts); use an environment that has them (the cross env has all three).
"""

import argparse
import contextlib
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spec import canonical  # noqa: E402
from spec.computational_performance import cifar_like  # noqa: E402

CNN = (("conv", 16, 3, 1, 1), ("relu",), ("maxpool", 2, 2, 0), ("conv", 32, 3, 1, 1),
       ("relu",), ("maxpool", 2, 2, 0), ("conv", 64, 3, 1, 1), ("relu",), ("gap",),
       ("dense", 10))
SHAPE, N, BATCH, LR = (3, 32, 32), 1024, 128, 0.1


def _parts(b):
    """The book's per-example loss and the framework's SGD (rates as in the spec)."""
    from spec.computational_performance import _framework_parts

    return _framework_parts(b, LR, BATCH)


def _iters(b):
    (x, y), (tx, ty) = cifar_like(N, 0, 10), cifar_like(256, 1, 10)
    return (b.d2l.load_array((b.images(x), b.labels(y)), BATCH, False),
            b.d2l.load_array((b.images(tx), b.labels(ty)), BATCH, False))


def _seconds_per_epoch(printed):
    rate = float(re.search(r"([\d.]+) examples/sec", printed).group(1))
    return N / rate


def _timed(fn, repeats=20):
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def _train(b, net_or_fn, trainer, devices, epochs):
    train_iter, test_iter = _iters(b)
    loss, _ = _parts(b)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        out = b.d2l.train_ch13(net_or_fn, train_iter, test_iter, loss, trainer, epochs,
                               devices)
    return out, printed.getvalue()


def _best(b, runs, repeats, epochs):
    """Seconds per epoch of each (net, trainer, devices) in `runs` (a dict by device count):
    a warm-up epoch each, then `repeats` interleaved timed runs; the fastest run is kept."""
    for net, trainer, devices in runs.values():
        _train(b, net, trainer, devices, 1)
    best = {k: float("inf") for k in runs}
    for _ in range(repeats):
        for k, (net, trainer, devices) in runs.items():
            _, printed = _train(b, net, trainer, devices, epochs)
            best[k] = min(best[k], _seconds_per_epoch(printed))
    return best


def run_mxnet(epochs, repeats):
    from mxnet import gluon, npx

    from spec.backends import Backend

    b = Backend("mxnet")
    b.d2l  # noqa: B018  (import d2l.mxnet now: it switches Gluon to NumPy mode)
    runs = {}
    for k in (1, 2):
        devices = [npx.cpu(i) for i in range(k)]
        net = canonical.build(b, CNN, canonical.init_model(CNN, SHAPE, 0), SHAPE)
        net.collect_params().reset_ctx(devices)
        runs[k] = (net, _parts(b)[1](net), devices)
    result = _best(b, runs, repeats, epochs)
    # The kvstore reduction the Trainer runs inside step(), on its own: a second trainer that
    # leaves the update to itself exposes it as allreduce_grads().
    reducer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR},
                            update_on_kvstore=False)

    def allreduce():
        reducer.allreduce_grads()
        npx.waitall()

    result["comm"] = _timed(allreduce)
    return result


def run_tensorflow(epochs, repeats):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(2)])
    from spec.backends import Backend

    b = Backend("tensorflow")
    params = canonical.init_model(CNN, SHAPE, 0)
    runs = {}
    for k in (1, 2):
        devices = [f"/CPU:{i}" for i in range(k)]
        scope = (b.d2l.mirrored_strategy(devices).scope() if k > 1
                 else contextlib.nullcontext())
        with scope:  # model and optimizer made once: the warm-up compiles the step
            net = canonical.build(b, CNN, params, SHAPE)
            runs[k] = (net, _parts(b)[1](None), devices)
    result = _best(b, runs, repeats, epochs)
    strategy = b.d2l.mirrored_strategy(["/CPU:0", "/CPU:1"])
    shapes = [v.shape for v in net.trainable_variables]

    @tf.function
    def allreduce():
        def replica():
            grads = [tf.ones(s) for s in shapes]
            return tf.distribute.get_replica_context().all_reduce("SUM", grads)
        return strategy.run(replica)

    result["comm"] = _timed(allreduce)
    return result


def _torch_worker(rank, world_size, epochs, repeats, threads=None):
    import torch
    import torch.distributed as dist

    from spec.backends import Backend

    if threads:
        torch.set_num_threads(threads)
    b = Backend("torch")
    net = canonical.build(b, CNN, canonical.init_model(CNN, SHAPE, 0), SHAPE)
    best = _best(b, {1: (net, _parts(b)[1](net), [torch.device("cpu")])}, repeats, epochs)
    flat = torch.zeros(sum(p.numel() for p in net.parameters()))
    comm = _timed(lambda: dist.all_reduce(flat)) if world_size > 1 else 0.0
    return best[1], comm


def run_torch(epochs, repeats):
    from spec.backends import Backend

    run = Backend("torch").d2l.run_data_parallel
    one, _ = run(_torch_worker, 1, epochs, repeats)  # one process, a thread per core
    one_thread, _ = run(_torch_worker, 1, epochs, repeats, 1)
    two, comm = run(_torch_worker, 2, epochs, repeats)  # a thread per process
    return {1: min(one, one_thread), 2: two, "comm": comm,
            "note": f"1 process: {one:.3f} s/epoch with a thread per core, {one_thread:.3f} "
                    f"with one thread"}


def child(name, epochs, repeats):
    result = {"mxnet": run_mxnet, "torch": run_torch, "tensorflow": run_tensorflow}[name](
        epochs, repeats)
    print("RESULT " + json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", default="mxnet,torch,tensorflow")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.epochs, args.repeats)
        return
    steps = -(-N // BATCH)
    print(f"train_ch13, CNN on {N} CIFAR-shaped images, global batch {BATCH} ({steps} "
          f"steps/epoch): fastest of {args.repeats} runs of {args.epochs} epochs after one "
          f"warm-up epoch")
    print(f"{'framework':<11}{'1 dev s/epoch':>14}{'2 dev s/epoch':>14}{'ratio':>8}"
          f"{'comm share':>12}  target ratio <= 1.5")
    for name in args.frameworks.split(","):
        done = subprocess.run([sys.executable, __file__, "--child", name, "--epochs",
                               str(args.epochs), "--repeats", str(args.repeats)],
                              capture_output=True, text=True)
        line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
        if done.returncode or not line:
            print(f"{name:<11} failed: {done.stderr[-800:]}")
            continue
        r = json.loads(line[0][len("RESULT "):])
        ratio, share = r["2"] / r["1"], r["comm"] * steps / r["2"]
        verdict = "ok" if ratio <= 1.5 else "MISSED"
        print(f"{name:<11}{r['1']:>14.3f}{r['2']:>14.3f}{ratio:>8.2f}{share:>11.1%}  {verdict}"
              + (f"  ({r['note']})" if "note" in r else ""))


if __name__ == "__main__":
    main()
