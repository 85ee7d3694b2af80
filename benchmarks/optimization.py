"""Section 11.5 as the book runs it: d2l's overhead in `train_ch11` and `train_concise_ch11`
(the loss over all 1500 examples recorded and plotted every 200 examples, the timer) over a
bare loop doing the same steps on the same batches. Target: under 10 % per framework.

    python benchmarks/optimization.py [--frameworks mxnet,torch,tensorflow] [--repeats 5]

Setup: `get_data_ch11(10)` on the real airfoil file (served over loopback), 2 epochs
(`--batch-size 1 --lr 0.005` is the book's SGD cell, 3000 steps);
train_ch11 with the book's from-scratch SGD (lr 0.05), train_concise_ch11 with the
framework's SGD (lr 0.05). The bare loops use the same model functions, loss and optimizer
step and iterate the same data iterator; each time is the best of `--repeats` runs.
A third run replaces the Animator by a list (`NoFigure`): the difference to it is what the
Animator itself costs. Its figure's Axes are built only when somebody looks at the figure
(`d2l/common/deferred_figure.py`): built eagerly they cost about 6 ms of CPU per run, which no
loop length amortizes in these short runs (30-40 % of a PyTorch run at batch size 10).
"""

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from d2l.common import optimization  # noqa: E402
from spec import backends, support  # noqa: E402
from spec import optimization_algorithms as oa  # noqa: E402
from spec.book_optimizers import book_optimizer  # noqa: E402

EPOCHS, LR, BATCH_SIZE = 2, 0.05, 10


class NoFigure:
    """An Animator that only records its points."""

    def __init__(self, **kwargs):
        self.Y = None

    def add(self, x, y):
        self.Y = self.Y or [[]]
        self.Y[0].append(y[0])


def scratch_bare(b, data_iter, feature_dim):
    """The from-scratch loop without recording: step after step on the same batches."""
    d2l, trainer_fn, states, hp = b.d2l, *book_optimizer(b, "sgd", feature_dim)
    hp = {"lr": LR}
    w, bias = b.param(oa.initial_weights()[0]), b.param(oa.initial_weights()[1])
    for _ in range(EPOCHS):
        for X, y in data_iter:
            if b.name == "mxnet":
                with b.fw.autograd.record():
                    loss = d2l.squared_loss(d2l.linreg(X, w, bias), y).mean()
                loss.backward()
                trainer_fn([w, bias], states, hp)
            elif b.name == "torch":
                loss = d2l.squared_loss(d2l.linreg(X, w, bias), y).mean()
                loss.backward()
                trainer_fn([w, bias], states, hp)
            else:
                tf = b.fw
                with tf.GradientTape() as tape:
                    loss = tf.math.reduce_mean(d2l.squared_loss(d2l.linreg(X, w, bias), y))
                trainer_fn([w, bias], tape.gradient(loss, [w, bias]), states, hp)
    return float(b.numpy(loss))


def concise_bare(b, data_iter):
    """The concise loop without recording, with the framework's own net, loss and SGD."""
    net = oa.module(b)._concise_net(5)
    if b.name == "mxnet":
        gluon, autograd = b.fw.gluon, b.fw.autograd
        trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LR})
        loss = gluon.loss.L2Loss()
        for _ in range(EPOCHS):
            for X, y in data_iter:
                with autograd.record():
                    l = loss(net(X), y)
                l.backward()
                trainer.step(X.shape[0])
        return float(l.mean())
    if b.name == "torch":
        torch = b.fw
        optimizer, loss = torch.optim.SGD(net.parameters(), lr=LR), torch.nn.MSELoss()
        for _ in range(EPOCHS):
            for X, y in data_iter:
                optimizer.zero_grad()
                out = net(X)
                l = loss(out, y.reshape(out.shape)) / 2
                l.backward()
                optimizer.step()
        return float(l)
    tf = b.fw
    from tensorflow import keras

    optimizer, loss = keras.optimizers.SGD(learning_rate=LR), keras.losses.MeanSquaredError()
    for _ in range(EPOCHS):
        for X, y in data_iter:
            with tf.GradientTape() as tape:
                l = loss(y, net(X)) / 2
            params = net.trainable_variables
            optimizer.apply_gradients(zip(tape.gradient(l, params), params))
    return float(l)


def concise_optimizer(b):
    if b.name == "mxnet":
        return "sgd", {"learning_rate": LR}
    if b.name == "torch":
        return b.fw.optim.SGD, {"lr": LR}
    from tensorflow import keras

    return keras.optimizers.SGD, {"learning_rate": LR}


def timed(fn):
    """(wall seconds, CPU seconds of this process) of one call, its printing discarded."""
    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def best_of(fns, repeats):
    """Best (wall, CPU) of each function, runs interleaved so load changes on a shared machine
    hit all alike."""
    runs = [[] for _ in fns]
    for _ in range(repeats):
        for times, fn in zip(runs, fns):
            times.append(timed(fn))
    return [tuple(min(t[i] for t in times) for i in range(2)) for times in runs]


def without_figure(fn):
    def run():
        real, optimization.Animator = optimization.Animator, NoFigure
        try:
            fn()
        finally:
            optimization.Animator = real
    return run


def measure(name, repeats):
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    b = backends.Backend(name)
    with support.shared_data_served(oa.AIRFOIL):
        data_iter, feature_dim = b.d2l.get_data_ch11(BATCH_SIZE)

    def d2l_scratch():
        trainer_fn, states, _ = book_optimizer(b, "sgd", feature_dim)
        b.d2l.train_ch11(trainer_fn, states, {"lr": LR}, data_iter, feature_dim, EPOCHS)
        plt.close("all")

    def d2l_concise():
        trainer, hp = concise_optimizer(b)
        b.d2l.train_concise_ch11(trainer, hp, data_iter, EPOCHS)
        plt.close("all")

    rows = []
    for label, ours, bare in (
            ("train_ch11", d2l_scratch, lambda: scratch_bare(b, data_iter, feature_dim)),
            ("train_concise_ch11", d2l_concise, lambda: concise_bare(b, data_iter))):
        fns = (bare, ours, without_figure(ours))
        for fn in fns:  # warm up
            timed(fn)
        rows.append((name, label, *best_of(fns, repeats)))
    return rows


def main():
    parser = argparse.ArgumentParser(description="chapter 11 loop overhead")
    parser.add_argument("--frameworks", default=",".join(backends.installed()))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--lr", type=float, default=LR)
    args = parser.parse_args()
    globals().update(BATCH_SIZE=args.batch_size, LR=args.lr)
    names = [n for n in backends.ORDER if n in args.frameworks.split(",")]
    print("CPU seconds of this process, best of --repeats interleaved runs (wall in brackets); "
          "overhead = d2l / bare - 1")
    print(f"{'framework':<11} {'loop':<19} {'bare':>15} {'d2l':>15} {'overhead':>9} "
          f"{'no figure':>10}")
    for name in names:
        for fw, label, bare, ours, no_fig in measure(name, args.repeats):
            cells = [f"{c:.3f} [{w:.3f}]" for w, c in (bare, ours)]
            print(f"{fw:<11} {label:<19} {cells[0]:>15} {cells[1]:>15} "
                  f"{ours[1] / bare[1] - 1:9.1%} {no_fig[1] / bare[1] - 1:10.1%}")


if __name__ == "__main__":
    main()
