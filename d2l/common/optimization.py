"""Chapter 11 (optimization algorithms) and section 12.1 (`Benchmark`): the framework-neutral
parts, written once for every backend.

* `annotate` (11.1), `train_2d` (11.3): plain Python and matplotlib.
* `show_trace_2d` (11.3) needs the backend's `meshgrid` / `arange`; backends bind it with
  `alias_based.bind`.
* The airfoil data of 11.5 (`airfoil_arrays`) and the loop shared by `train_ch11` and
  `train_concise_ch11` (`train_loop`); each backend supplies the per-batch step and the loss
  evaluation.
"""

import inspect

import numpy as np

from . import checks
from .bookkeeping import Timer
from .data_hub import download
from .plotting import Animator, set_figsize
from .tensors import to_numpy

PLOT_EVERY = 200  # examples between two recorded losses (the book's schedule)


def _plt():
    import matplotlib.pyplot as plt

    return plt


# --- 11.1 Optimization and Deep Learning


def annotate(text, xy, xytext):
    """Write `text` at `xytext` on the current Axes with an arrow ('->') pointing at `xy`
    (both (x, y) in data coordinates)."""
    _plt().gca().annotate(text, xy=xy, xytext=xytext, arrowprops=dict(arrowstyle="->"))


# --- 11.3 Gradient Descent


def train_2d(trainer, steps=20, f_grad=None):
    """Run a 2-D optimizer from (x1, x2) = (-5, -2) with state (s1, s2) = (0, 0).

    Each step calls `trainer(x1, x2, s1, s2, f_grad)` when `f_grad` is given, else
    `trainer(x1, x2, s1, s2)`; it returns the next (x1, x2, s1, s2). Prints
    'epoch {steps}, x1: {x1:f}, x2: {x2:f}' and returns the steps + 1 points (x1, x2),
    the start included.
    """
    checks.non_negative_int("train_2d", "steps", steps)
    if not callable(trainer):
        raise ValueError(f"train_2d: trainer must be callable, got {trainer!r}")
    x1, x2, s1, s2 = -5, -2, 0, 0
    results = [(x1, x2)]
    for _ in range(steps):
        if f_grad:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2, f_grad)
        else:
            x1, x2, s1, s2 = trainer(x1, x2, s1, s2)
        results.append((x1, x2))
    print(f"epoch {steps}, x1: {float(x1):f}, x2: {float(x2):f}")
    return results


def show_trace_2d(ops, f, results):
    """Plot the points `results` ('-o', orange) over contour lines of `f(x1, x2)` (blue) on
    the grid meshgrid(arange(-5.5, 1, 0.1), arange(-3, 1, 0.1)) of framework tensors
    ('xy' indexing), with axis labels 'x1' and 'x2'."""
    if len(results) == 0:
        raise ValueError("show_trace_2d: results must hold at least one point (x1, x2)")
    plt = _plt()
    set_figsize()
    points = np.array([[float(to_numpy(v)) for v in point] for point in results])
    plt.plot(points[:, 0], points[:, 1], "-o", color="#ff7f0e")
    x1, x2 = ops.meshgrid(ops.arange(-5.5, 1.0, 0.1), ops.arange(-3.0, 1.0, 0.1))
    plt.contour(to_numpy(x1), to_numpy(x2), to_numpy(f(x1, x2)), colors="#1f77b4")
    plt.xlabel("x1")
    plt.ylabel("x2")


# --- 11.5 Minibatch Stochastic Gradient Descent


def airfoil_arrays(batch_size, n):
    """The first `n` rows of the airfoil data as (features (n, 5), labels (n,)), float32 NumPy,
    every column standardized over the whole file (mean 0, population std 1)."""
    checks.positive_int("get_data_ch11", "batch_size", batch_size)
    checks.positive_int("get_data_ch11", "n", n)
    data = np.genfromtxt(download("airfoil"), dtype=np.float32, delimiter="\t")
    data = (data - data.mean(axis=0)) / data.std(axis=0)
    return data[:n, :-1], data[:n, -1]


def check_trainer_fn(fn, trainer_fn, args):
    """Raise ValueError unless `trainer_fn` can be called with the positional `args` (names,
    as strings, for the message)."""
    try:
        inspect.signature(trainer_fn).bind(*args)
    except TypeError as error:
        raise ValueError(f"{fn}: trainer_fn must accept ({', '.join(args)}): {error}") from None
    except ValueError:  # no signature (a builtin): leave it to the call
        pass


def make_optimizer(fn, trainer_fn, hyperparams, *params):
    """`trainer_fn(*params, **hyperparams)`; ValueError naming trainer_fn and hyperparams when
    that call does not fit the signature or the optimizer refuses the hyperparameters."""
    if not isinstance(hyperparams, dict):
        raise ValueError(f"{fn}: hyperparams must be a dict of keyword arguments, got "
                         f"{hyperparams!r}")
    lead = "params, " if params else ""
    try:
        inspect.signature(trainer_fn).bind(*params, **hyperparams)
    except TypeError as error:
        raise ValueError(f"{fn}: trainer_fn cannot be called as trainer_fn({lead}**hyperparams) "
                         f"with hyperparams keys {sorted(hyperparams)}: {error}") from None
    except ValueError:  # no signature to check (a builtin): the call decides
        pass
    try:
        return trainer_fn(*params, **hyperparams)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{fn}: trainer_fn({lead}**hyperparams) refused hyperparams "
                         f"{hyperparams!r}: {error}") from None


def check_loop(fn, num_epochs):
    """Raise ValueError unless num_epochs is a positive int."""
    checks.positive_int(fn, "num_epochs", num_epochs)


def input_width(fn, data_iter):
    """The number of features of the first batch X (B, d) of `data_iter`."""
    X, _ = next(iter(data_iter), (None, None))
    if X is None:
        raise ValueError(f"{fn}: data_iter gave no batches")
    return int(X.shape[1])


class WholeData:
    """The examples of a data iterator gathered once, so that the loss over all of them is one
    forward pass (the mean `evaluate_loss` computes batch by batch). `fn` names the caller in
    errors; `to_tensor` converts a NumPy array to the backend's tensor; `direct(data_iter)`
    returns the (X, y) tensors a known loader holds without iterating it (None for other
    iterators, which are iterated once)."""

    def __init__(self, fn, data_iter, to_tensor, direct=None):
        self.fn, self.data_iter, self.to_tensor, self.direct = fn, data_iter, to_tensor, direct
        self.arrays = None

    def get(self):
        if self.arrays is None:
            self.arrays = self.direct(self.data_iter) if self.direct else None
        if self.arrays is None:
            parts = [(to_numpy(X), to_numpy(y)) for X, y in self.data_iter]
            if not parts:
                raise ValueError(f"{self.fn}: data_iter gave no batches")
            self.arrays = tuple(self.to_tensor(np.concatenate(p)) for p in zip(*parts))
        return self.arrays


def train_loop(fn, step, evaluate, data_iter, num_batches, num_epochs):
    """The loop of `train_ch11` and `train_concise_ch11`.

    `step(X, y)` trains on one batch; `evaluate()` is the mean loss over the whole data set.
    Every time the running example count n is a multiple of 200, records evaluate() at
    x = n / batch size / num_batches epochs on an Animator (xlim [0, num_epochs], ylim
    [0.22, 0.35]); the timer excludes these evaluations. When no multiple of 200 is reached
    (the book fails then), the loss is recorded once at the end. Prints
    'loss: {last:.3f}, {avg:.3f} sec/epoch' (avg: the mean timed interval, as in the book) and
    returns (cumulative times, recorded losses).
    """
    if num_batches == 0:
        raise ValueError(f"{fn}: data_iter gave no batches")
    animator = Animator(xlabel="epoch", ylabel="loss", xlim=[0, num_epochs],
                        ylim=[0.22, 0.35])
    n, batch, timer = 0, 1, Timer()
    for _ in range(num_epochs):
        for X, y in data_iter:
            step(X, y)
            batch = int(X.shape[0])
            n += batch
            if n % PLOT_EVERY == 0:
                timer.stop()
                animator.add(n / batch / num_batches, (evaluate(),))
                timer.start()
    if animator.Y is None:
        timer.stop()
        animator.add(n / batch / num_batches, (evaluate(),))
    print(f"loss: {animator.Y[0][-1]:.3f}, {timer.avg():.3f} sec/epoch")
    return timer.cumsum(), animator.Y[0]


def num_batches(data_iter):
    """len(data_iter), or for a tf.data.Dataset its cardinality (book: `cardinality`)."""
    if hasattr(data_iter, "cardinality"):
        count = int(data_iter.cardinality())
        if count >= 0:
            return count
    try:
        return len(data_iter)
    except TypeError:
        return sum(1 for _ in data_iter)


# --- 12.1 Compilers and Interpreters


class Benchmark:
    """Time a `with` block and print '{description}: {seconds:.4f} sec' when it ends (also
    when it raises; the exception is not suppressed). Asynchronous work must be waited for
    inside the block (the book calls npx.waitall() etc.)."""

    def __init__(self, description="Done"):
        self.description = description

    def __enter__(self):
        self.timer = Timer()
        return self

    def __exit__(self, *exc_info):
        print(f"{self.description}: {self.timer.stop():.4f} sec")
