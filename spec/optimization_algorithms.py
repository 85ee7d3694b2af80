"""Chapter 11, Optimization Algorithms (and `Benchmark`, 12.1, which is framework-neutral).

The training loops are checked against a NumPy reference of the same updates (float64) on the
same batches of the real airfoil data, from the same initial weights: the probes replace the
random initialisation (`_init_linreg`, `_concise_net` of each backend module) by canonical
weights and feed unshuffled batches of 200 examples, so a loss is recorded after every step.

Optimizer conventions (`Rule`): the book's from-scratch updates put epsilon inside the square
root for AdaGrad/RMSProp (sqrt(s + eps)) and outside for Adam (v̂ / (sqrt(ŝ) + eps), both
bias-corrected). The frameworks' own optimizers differ (`FRAMEWORK_RULES`, shown by
tests/test_optimization.py): PyTorch's Adagrad and RMSprop add eps outside the root;
Keras' Adagrad starts its accumulator at 0.1; Gluon's and Keras' Adam fold the bias
correction into the learning rate and add eps to the uncorrected sqrt(s) ("epsilon hat");
default epsilons differ (AdaDelta: Gluon 1e-5, PyTorch 1e-6, Keras 1e-7; Gluon's AdaDelta
has no learning rate). Gluon's per-example L2Loss with `trainer.step(batch_size)` gives the
gradient of the batch mean, like PyTorch's and Keras' mean-reduced losses. The concise probes
pass hyperparameters under which the three define the same step (`CONCISE`).
"""

import contextlib
import dataclasses
import importlib
import io
import re
from contextlib import redirect_stdout

import numpy as np

from . import support
from .book_optimizers import EPS, HYPERPARAMS, book_optimizer
from .entry import EXACT, Entry, Reject, Tol

AIRFOIL = "airfoil_self_noise.dat"
KINDS = ("sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam")
TRAIN_TOL = Tol(1e-5, 2e-6)


# ------------------------------------------------------------------ NumPy reference


@dataclasses.dataclass(frozen=True)
class Rule:
    """One optimizer's update, as arithmetic: `kind` one of KINDS; `eps_inside` puts eps
    under the square root (AdaGrad, RMSProp); `hat` is Adam with the bias correction folded
    into the learning rate and eps added to sqrt(s) uncorrected; `init` starts AdaGrad's
    accumulator."""

    kind: str
    lr: float = 1.0
    momentum: float = 0.0
    gamma: float = 0.9
    eps: float = 1e-6
    eps_inside: bool = True
    init: float = 0.0
    hat: bool = False

    def states(self, params):
        count = 2 if self.kind in ("adadelta", "adam") else 1
        return [[np.full_like(p, self.init if self.kind == "adagrad" else 0.0)
                 for _ in range(count)] for p in params]

    def _root(self, s):
        return np.sqrt(s + self.eps) if self.eps_inside else np.sqrt(s) + self.eps

    def step(self, params, grads, states, t):
        """New params; `states` (lists of arrays per parameter) updated in place; t >= 1."""
        out = []
        for p, g, st in zip(params, grads, states):
            if self.kind == "sgd":
                p = p - self.lr * g
            elif self.kind == "momentum":
                st[0] = self.momentum * st[0] + g
                p = p - self.lr * st[0]
            elif self.kind == "adagrad":
                st[0] = st[0] + g * g
                p = p - self.lr * g / self._root(st[0])
            elif self.kind == "rmsprop":
                st[0] = self.gamma * st[0] + (1 - self.gamma) * g * g
                p = p - self.lr * g / self._root(st[0])
            elif self.kind == "adadelta":
                st[0] = self.gamma * st[0] + (1 - self.gamma) * g * g
                delta = np.sqrt(st[1] + self.eps) / np.sqrt(st[0] + self.eps) * g
                p = p - self.lr * delta
                st[1] = self.gamma * st[1] + (1 - self.gamma) * delta * delta
            else:
                st[0] = 0.9 * st[0] + 0.1 * g
                st[1] = 0.999 * st[1] + 0.001 * g * g
                c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
                if self.hat:
                    p = p - self.lr * np.sqrt(c2) / c1 * st[0] / (np.sqrt(st[1]) + self.eps)
                else:
                    p = p - self.lr * (st[0] / c1) / (np.sqrt(st[1] / c2) + self.eps)
            out.append(p)
        return out


def book_rule(kind):
    """The book's from-scratch update `kind` with HYPERPARAMS."""
    hp = HYPERPARAMS[kind]
    return Rule(kind, lr=hp.get("lr", 1.0), momentum=hp.get("momentum", 0.0),
                gamma=hp.get("gamma", hp.get("rho", 0.9)), eps=EPS.get(kind, 1e-6),
                eps_inside=kind != "adam")


def airfoil(n=1000):
    """The first n rows of the standardized airfoil data (float32), as `get_data_ch11`."""
    data = np.genfromtxt(support.SHARED_DATA / AIRFOIL, dtype=np.float32, delimiter="\t")
    data = (data - data.mean(axis=0)) / data.std(axis=0)
    return data[:n, :-1], data[:n, -1]


def initial_weights(feature_dim=5, seed=11):
    """Canonical start: w ~ N(0, 0.01²) (feature_dim, 1), b = 0 (1,), float32."""
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.01, (feature_dim, 1)).astype(np.float32), np.zeros(1, np.float32)


def linreg_trajectory(rule, X, y, batch_size, num_epochs, w, b):
    """NumPy `train_ch11` / `train_concise_ch11`: mean ½ squared loss per batch (batches in
    order), `rule` steps, the whole-data loss recorded whenever the example count is a
    multiple of 200. Returns [x positions, losses, final w (flat), final b]."""
    X, y = X.astype(np.float64), y.astype(np.float64)
    params = [w.astype(np.float64), b.astype(np.float64)]
    states, t, n, xs, losses = rule.states(params), 0, 0, [], []
    num_batches = -(-len(X) // batch_size)
    for _ in range(num_epochs):
        for i in range(0, len(X), batch_size):
            Xb, yb = X[i:i + batch_size], y[i:i + batch_size]
            err = (Xb @ params[0] + params[1])[:, 0] - yb
            grads = [Xb.T @ err[:, None] / len(yb), np.array([err.mean()])]
            t += 1
            params = rule.step(params, grads, states, t)
            n += len(yb)
            if n % 200 == 0:
                xs.append(n / len(yb) / num_batches)
                losses.append(float(np.mean(((X @ params[0] + params[1])[:, 0] - y) ** 2 / 2)))
    return [xs, losses, params[0].ravel(), params[1]]


# ------------------------------------------------------------------ probes


def module(b):
    return importlib.import_module(f"d2l.{b.name}.optimization_algorithms")


@contextlib.contextmanager
def replaced(obj, name, value):
    """Set attribute `name` of `obj` for the duration of the block."""
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def batches(b, X, y, batch_size):
    """An unshuffled `load_array` over (X, y): the same batches in every framework."""
    return b.d2l.load_array((b.tensor(X), b.tensor(y)), batch_size, is_train=False)


def run_train_ch11(b, kind, batch_size=200, num_epochs=2, rows=1000, optimizer=None):
    """`train_ch11` with the book's `kind` optimizer (or `optimizer` = (trainer_fn, states,
    hyperparams)) from the canonical start; returns ([x positions, losses, final w, final b],
    printed text)."""
    X, y = airfoil(rows)
    w0, b0 = initial_weights(X.shape[1])
    trainer_fn, states, hyperparams = optimizer or book_optimizer(b, kind, X.shape[1])
    final = []

    def init(feature_dim):
        final.extend([b.param(w0), b.param(b0)])
        return tuple(final)

    out = io.StringIO()
    with replaced(module(b), "_init_linreg", init), redirect_stdout(out):
        _, losses = b.d2l.train_ch11(trainer_fn, states, hyperparams,
                                     batches(b, X, y, batch_size), X.shape[1], num_epochs)
    animator_x = _last_animator_x()
    return [animator_x, losses, b.numpy(final[0]).ravel(), b.numpy(final[1])], out.getvalue()


def _last_animator_x():
    """The x positions of the curve on the current figure (the Animator just drawn)."""
    import matplotlib.pyplot as plt

    line = plt.gcf().axes[0].lines[0]
    return [float(v) for v in line.get_xdata()]


def concise_optimizer(b, kind, hp_by_framework):
    """(trainer argument, hyperparams) for `train_concise_ch11` in backend `b`."""
    name, hp = hp_by_framework[b.name]
    if b.name == "mxnet":
        return name, dict(hp)
    if b.name == "torch":
        return getattr(b.fw.optim, name), dict(hp)
    from tensorflow import keras

    return getattr(keras.optimizers, name), dict(hp)


def run_concise(b, kind, hp_by_framework=None, batch_size=200, num_epochs=2, rows=1000):
    """`train_concise_ch11` with the framework's own `kind` optimizer from the canonical
    start; returns ([x positions, losses, final w, final b], printed text)."""
    X, y = airfoil(rows)
    w0, b0 = initial_weights(X.shape[1])
    trainer, hyperparams = concise_optimizer(b, kind, hp_by_framework or CONCISE[kind])
    original, nets = module(b)._concise_net, []

    def make(in_features):
        net = original(in_features)
        b.d2l.import_params(net, {"0.weight": w0, "0.bias": b0})
        nets.append(net)
        return net

    out = io.StringIO()
    with replaced(module(b), "_concise_net", make), redirect_stdout(out):
        b.d2l.train_concise_ch11(trainer, hyperparams, batches(b, X, y, batch_size),
                                 num_epochs)
    import matplotlib.pyplot as plt

    losses = [float(v) for v in plt.gcf().axes[0].lines[0].get_ydata()]
    params = b.d2l.export_params(nets[0])
    return [_last_animator_x(), losses, params["0.weight"].ravel(),
            params["0.bias"]], out.getvalue()


# Hyperparameters under which Gluon, torch.optim and Keras define the same step: explicit
# epsilons (tiny where only their placement differs), Keras' AdaGrad accumulator from 0.
CONCISE = {
    "sgd": ({"mxnet": ("sgd", {"learning_rate": 0.05}), "torch": ("SGD", {"lr": 0.05}),
             "tensorflow": ("SGD", {"learning_rate": 0.05})}, Rule("sgd", lr=0.05)),
    "momentum": ({"mxnet": ("sgd", {"learning_rate": 0.02, "momentum": 0.5}),
                  "torch": ("SGD", {"lr": 0.02, "momentum": 0.5}),
                  "tensorflow": ("SGD", {"learning_rate": 0.02, "momentum": 0.5})},
                 Rule("momentum", lr=0.02, momentum=0.5)),
    "adagrad": ({"mxnet": ("adagrad", {"learning_rate": 0.1, "eps": 1e-10}),
                 "torch": ("Adagrad", {"lr": 0.1, "eps": 1e-10}),
                 "tensorflow": ("Adagrad", {"learning_rate": 0.1, "epsilon": 1e-10,
                                            "initial_accumulator_value": 0.0})},
                Rule("adagrad", lr=0.1, eps=1e-10)),
    "rmsprop": ({"mxnet": ("rmsprop", {"learning_rate": 0.01, "gamma1": 0.9, "epsilon": 1e-10}),
                 "torch": ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-10}),
                 "tensorflow": ("RMSprop", {"learning_rate": 0.01, "rho": 0.9,
                                            "epsilon": 1e-10})},
                Rule("rmsprop", lr=0.01, gamma=0.9, eps=1e-10)),
    "adadelta": ({"mxnet": ("adadelta", {"rho": 0.9, "epsilon": 1e-5}),
                  "torch": ("Adadelta", {"rho": 0.9, "eps": 1e-5}),
                  "tensorflow": ("Adadelta", {"learning_rate": 1.0, "rho": 0.9,
                                              "epsilon": 1e-5})},
                 Rule("adadelta", lr=1.0, gamma=0.9, eps=1e-5)),
    "adam": ({"mxnet": ("adam", {"learning_rate": 0.01}), "torch": ("Adam", {"lr": 0.01}),
              "tensorflow": ("Adam", {"learning_rate": 0.01, "epsilon": 1e-8})},
             Rule("adam", lr=0.01, eps=1e-8, eps_inside=False)),
}
CONCISE_RULES = {k: rule for k, (_, rule) in CONCISE.items()}
CONCISE = {k: hp for k, (hp, _) in CONCISE.items()}


def expected_trajectory(rule, batch_size=200, num_epochs=2, rows=1000):
    X, y = airfoil(rows)
    return linreg_trajectory(rule, X, y, batch_size, num_epochs, *initial_weights(X.shape[1]))


LINE = re.compile(r"loss: \d+\.\d{3}, \d+\.\d{3} sec/epoch\n")


def _train_probe(kind):
    def probe(b):
        observed, printed = run_train_ch11(b, kind)
        return observed + [bool(LINE.fullmatch(printed))]
    return probe


def _concise_probe(kind):
    def probe(b):
        observed, printed = run_concise(b, kind)
        return observed + [bool(LINE.fullmatch(printed))]
    return probe


def _train_expect(rule):
    return lambda: expected_trajectory(rule) + [True]


# ------------------------------------------------------------------ 11.1, 11.3, 11.5 data


def _annotate_probe(b):
    import matplotlib.pyplot as plt

    plt.figure()
    plt.plot([0, 1], [0, 1])
    b.d2l.annotate("minimum", (0.5, 0.25), (0.1, 0.8))
    (text,) = [c for c in plt.gca().get_children() if type(c).__name__ == "Annotation"]
    return [text.get_text(), [float(v) for v in text.xy], [float(v) for v in text.get_position()],
            text.arrow_patch.get_arrowstyle().__class__.__name__]


def gd_2d(eta):
    """The book's 11.3 gradient-descent step for f = x1² + 2 x2²."""
    return lambda x1, x2, s1, s2, f_grad: (
        x1 - eta * f_grad(x1, x2)[0], x2 - eta * f_grad(x1, x2)[1], 0, 0)


def f_2d_grad(x1, x2):
    return (2 * x1, 4 * x2)


def _train_2d_probe(b):
    out = io.StringIO()
    with redirect_stdout(out):
        results = b.d2l.train_2d(gd_2d(0.1), f_grad=f_2d_grad)
    return [[list(map(float, p)) for p in results], out.getvalue()]


def _train_2d_expect():
    x1, x2, points = -5.0, -2.0, [[-5.0, -2.0]]
    for _ in range(20):
        x1, x2 = x1 - 0.1 * 2 * x1, x2 - 0.1 * 4 * x2
        points.append([x1, x2])
    return [points, f"epoch 20, x1: {x1:f}, x2: {x2:f}\n"]


def _show_trace_probe(b):
    import matplotlib.pyplot as plt

    plt.figure()
    with redirect_stdout(io.StringIO()):
        results = b.d2l.train_2d(gd_2d(0.1), f_grad=f_2d_grad)
    b.d2l.show_trace_2d(lambda x1, x2: x1 ** 2 + 2 * x2 ** 2, results)
    ax = plt.gca()
    line = ax.lines[0]
    (contour,) = [c for c in ax.collections if hasattr(c, "levels")]
    return [np.column_stack([line.get_xdata(), line.get_ydata()]), line.get_marker(),
            line.get_color(), ax.get_xlabel(), ax.get_ylabel(),
            [float(v) for v in contour.levels], contour.get_edgecolor()[0].tolist()]


def _show_trace_expect():
    points = np.array(_train_2d_expect()[0])
    grid = np.meshgrid(np.arange(-5.5, 1.0, 0.1), np.arange(-3.0, 1.0, 0.1))
    import matplotlib.pyplot as plt

    fig = plt.figure()
    levels = plt.contour(*grid, grid[0] ** 2 + 2 * grid[1] ** 2).levels
    plt.close(fig)
    return [points, "o", "#ff7f0e", "x1", "x2", [float(v) for v in levels],
            [0x1F / 255, 0x77 / 255, 0xB4 / 255, 1.0]]


def _get_data_probe(n):
    def probe(b):
        with support.shared_data_served(AIRFOIL) as (_, _www, _url):
            data_iter, feature_dim = b.d2l.get_data_ch11(10, n)
            parts = [(b.numpy(X), b.numpy(y)) for X, y in data_iter]
        X = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        rows = np.column_stack([X, y])
        rows = rows[np.lexsort(rows.T[::-1])]
        return [feature_dim, len(parts), list(parts[0][0].shape), list(parts[0][1].shape),
                str(parts[0][0].dtype), str(parts[0][1].dtype), rows]
    return probe


def _get_data_expect(n):
    def expect():
        X, y = airfoil(n)
        rows = np.column_stack([X, y]).astype(np.float64)
        rows = rows[np.lexsort(rows.T[::-1])]
        return [5, -(-n // 10), [10, 5], [10], "float32", "float32", rows]
    return expect


def _hub_probe(b):
    with support.shared_data_served(AIRFOIL) as (_, _www, _url):
        path = b.d2l.download("airfoil")
        return [list(b.d2l.DATA_HUB["airfoil"]), support.sha1(path),
                np.genfromtxt(path, delimiter="\t").shape[0]]


def _benchmark_probe(b):
    out = io.StringIO()
    with redirect_stdout(out):
        with b.d2l.Benchmark("toy work") as bench:
            sum(range(1000))
        with b.d2l.Benchmark():
            pass
    raised = False
    try:
        with redirect_stdout(io.StringIO()), b.d2l.Benchmark("fails"):
            raise KeyError("inside")
    except KeyError:
        raised = True
    lines = out.getvalue().splitlines()
    return [bool(re.fullmatch(r"toy work: \d+\.\d{4} sec", lines[0])),
            bool(re.fullmatch(r"Done: \d+\.\d{4} sec", lines[1])), len(lines),
            hasattr(bench, "timer"), raised]


def _bad_trainer_args(b):
    X, y = airfoil(20)
    return ((lambda params, states: None), [], {}, batches(b, X, y, 10), 5)


def _bad_concise_args(b):
    X, y = airfoil(20)
    data = batches(b, X, y, 10)
    if b.name == "mxnet":
        return ("sgd", {"no_such_option": 1}, data)
    if b.name == "torch":
        return (b.fw.optim.SGD, {"no_such_option": 1}, data)
    from tensorflow import keras

    return (keras.optimizers.SGD, {"no_such_option": 1}, data)


_TRAIN_TEXT = ("Linear regression from scratch, w ~ N(0, 0.01²) (feature_dim, 1), b = 0; per "
               "batch the mean ½ squared loss, backward, then the step: M/P "
               "trainer_fn([w, b], states, hyperparams) with gradients in .grad, T "
               "trainer_fn([w, b], [dw, db], states, hyperparams). Whenever the running example "
               "count is a multiple of 200 the loss over the whole data set is plotted at "
               "n / batch size / number of batches epochs (evaluated in one pass over the data "
               "gathered once: the mean evaluate_loss computes batch by batch, without its "
               "7.5 passes per epoch at batch size 10); the timer excludes it. Prints "
               "'loss: {last:.3f}, {avg:.3f} sec/epoch' (avg: mean timed interval — Keep) and "
               "returns (timer.cumsum(), losses). Fixes: a run that never reaches a multiple of "
               "200 records its final loss once (the book fails); a trainer_fn of the wrong "
               "arity, num_epochs or feature_dim < 1 raise ValueError naming the argument.")
_CONCISE_TEXT = ("Same loop with a one-output dense layer (weights N(0, 0.01²), bias 0 in all "
                 "three — the book's PyTorch keeps nn.Linear's uniform bias) and the framework's "
                 "optimizer: M gluon.Trainer(params, tr_name, hyperparams), L2Loss, "
                 "step(batch size); P trainer_fn(net.parameters(), **hyperparams), MSELoss / 2, "
                 "default 4 epochs; T trainer_fn(**hyperparams), MeanSquaredError / 2. The input "
                 "width is read from the first batch (P hard-codes 5). The plotted loss is the "
                 "mean over all examples (P's book averages batch means). Returns None. "
                 "Framework step conventions: see the module docstring; a trainer/hyperparams "
                 "the optimizer does not take raise ValueError naming hyperparams.")


def _train_entries():
    entries = []
    for kind in KINDS:
        entries.append(Entry(
            f"train_ch11 ({kind})", "11.5",
            "train_ch11(trainer_fn, states, hyperparams, data_iter, feature_dim, num_epochs=2)",
            _TRAIN_TEXT + f" Checked with the book's from-scratch {kind} step.",
            probe=_train_probe(kind), expect=_train_expect(book_rule(kind)), tol=TRAIN_TOL,
            rejects=(Reject("trainer_fn of the wrong arity", _bad_trainer_args,
                            match="trainer_fn"),) if kind == "sgd" else ()))
    for kind in KINDS:
        entries.append(Entry(
            f"train_concise_ch11 ({kind})", "11.5",
            "M: (tr_name, hyperparams, data_iter, num_epochs=2) | P: (trainer_fn, hyperparams, "
            "data_iter, num_epochs=4) | T: (trainer_fn, hyperparams, data_iter, num_epochs=2)",
            _CONCISE_TEXT + f" Checked with the framework's own {kind} optimizer.",
            probe=_concise_probe(kind), expect=_train_expect(CONCISE_RULES[kind]),
            tol=TRAIN_TOL,
            rejects=(Reject("hyperparams the optimizer does not take", _bad_concise_args,
                            match="hyperparams"),) if kind == "sgd" else ()))
    return entries


ENTRIES = [
    Entry("annotate", "11.1", "annotate(text, xy, xytext)",
          "Annotates the current Axes: text at xytext with an arrow ('->') to xy.",
          probe=_annotate_probe,
          expect=lambda: ["minimum", [0.5, 0.25], [0.1, 0.8], "CurveB"], tol=EXACT),
    Entry("train_2d", "11.3", "train_2d(trainer, steps=20, f_grad=None)",
          "From (x1, x2, s1, s2) = (-5, -2, 0, 0) calls trainer(x1, x2, s1, s2[, f_grad]) "
          "`steps` times; returns the steps + 1 points and prints 'epoch {steps}, x1: {x1:f}, "
          "x2: {x2:f}'. Fix: steps = 0 prints 'epoch 0' (the book's loop variable is unset); "
          "a negative or non-int steps raises ValueError naming steps.",
          probe=_train_2d_probe, expect=_train_2d_expect, tol=Tol(0, 1e-12),
          rejects=(Reject("negative steps", lambda b: (gd_2d(0.1), -1, f_2d_grad),
                          match="steps"),)),
    Entry("show_trace_2d", "11.3", "show_trace_2d(f, results)",
          "Plots the trajectory ('-o', '#ff7f0e') over contour lines of f on "
          "meshgrid(arange(-5.5, 1, 0.1), arange(-3, 1, 0.1)) of framework tensors ('xy' "
          "indexing in all three), axes labelled 'x1', 'x2'.",
          probe=_show_trace_probe, expect=_show_trace_expect, tol=Tol(1e-6, 1e-9)),
    Entry("DATA_HUB['airfoil']", "11.5", "",
          "airfoil_self_noise.dat, sha1 76e5be15...: the real file (1503 rows, tab-separated).",
          probe=_hub_probe,
          expect=lambda: [["http://d2l-data.s3-accelerate.amazonaws.com/airfoil_self_noise.dat",
                           "76e5be1548fd8222e5074cf0faae75edff8cf93f"],
                          "76e5be1548fd8222e5074cf0faae75edff8cf93f", 1503], tol=EXACT),
    Entry("get_data_ch11", "11.5", "get_data_ch11(batch_size=10, n=1500)",
          "Reads the airfoil file (float32), standardizes every column over the whole file "
          "(mean 0, population std 1) and returns (shuffled load_array over the first n rows, "
          "5): X (B, 5) float32, y (B,) float32 in every framework. batch_size or n < 1 raise "
          "ValueError naming the argument.",
          probe=_get_data_probe(1500), expect=_get_data_expect(1500), tol=Tol(1e-5, 1e-6),
          rejects=(Reject("batch_size 0", lambda b: (0,), match="batch_size"),
                   Reject("negative batch_size", lambda b: (-10,), match="batch_size"),
                   Reject("n 0", lambda b: (10, 0), match="n"))),
    Entry("get_data_ch11 (first n rows)", "11.5", "get_data_ch11(batch_size=10, n=1500)",
          "n = 95: the first 95 rows, standardized with the whole file's statistics.",
          probe=_get_data_probe(95), expect=_get_data_expect(95), tol=Tol(1e-5, 1e-6)),
    *_train_entries(),
    Entry("Benchmark", "12.1", "Benchmark(description='Done')",
          "Context manager: __enter__ starts a Timer (self.timer) and returns self; __exit__ "
          "prints '{description}: {seconds:.4f} sec', also when the block raises (the "
          "exception propagates).",
          probe=_benchmark_probe, expect=lambda: [True, True, 2, True, True], tol=EXACT),
]


# Each framework's own conventions, made visible with epsilon = 1 (where it sits matters) or
# the framework's defaults (AdaDelta's epsilon, Keras' AdaGrad accumulator): kind ->
# framework -> (optimizer, hyperparams, its Rule). tests/test_optimization.py checks that
# each framework follows its Rule and not the other convention.
_ADAGRAD, _RMSPROP = Rule("adagrad", lr=0.1, eps=1.0), Rule("rmsprop", lr=0.01, eps=1.0)
_ADAM = Rule("adam", lr=0.01, eps=1.0, eps_inside=False)
FRAMEWORK_RULES = {
    "adagrad": {"mxnet": ("adagrad", {"learning_rate": 0.1, "eps": 1.0}, _ADAGRAD),
                "torch": ("Adagrad", {"lr": 0.1, "eps": 1.0},
                          dataclasses.replace(_ADAGRAD, eps_inside=False)),
                "tensorflow": ("Adagrad", {"learning_rate": 0.1, "epsilon": 1.0},
                               dataclasses.replace(_ADAGRAD, init=0.1))},
    "rmsprop": {"mxnet": ("rmsprop", {"learning_rate": 0.01, "gamma1": 0.9, "epsilon": 1.0},
                          _RMSPROP),
                "torch": ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1.0},
                          dataclasses.replace(_RMSPROP, eps_inside=False)),
                "tensorflow": ("RMSprop", {"learning_rate": 0.01, "rho": 0.9, "epsilon": 1.0},
                               _RMSPROP)},
    "adam": {"mxnet": ("adam", {"learning_rate": 0.01, "epsilon": 1.0},
                       dataclasses.replace(_ADAM, hat=True)),
             "torch": ("Adam", {"lr": 0.01, "eps": 1.0}, _ADAM),
             "tensorflow": ("Adam", {"learning_rate": 0.01, "epsilon": 1.0},
                            dataclasses.replace(_ADAM, hat=True))},
    "adadelta": {"mxnet": ("adadelta", {"rho": 0.9}, Rule("adadelta", eps=1e-5)),
                 "torch": ("Adadelta", {"rho": 0.9}, Rule("adadelta", eps=1e-6)),
                 "tensorflow": ("Adadelta", {"learning_rate": 1.0, "rho": 0.9},
                                Rule("adadelta", eps=1e-7))},
}


def other_convention(rule):
    """The same update with the convention `rule` does not use: epsilon on the other side of
    the root, Adam's bias correction the other way, AdaGrad's accumulator from 0 instead of
    0.1, AdaDelta with the book's epsilon 1e-5 (1e-6 where the framework uses 1e-5)."""
    if rule.kind == "adam":
        return dataclasses.replace(rule, hat=not rule.hat)
    if rule.init:
        return dataclasses.replace(rule, init=0.0)
    if rule.kind == "adadelta":
        return dataclasses.replace(rule, eps=1e-6 if rule.eps == 1e-5 else 1e-5)
    return dataclasses.replace(rule, eps_inside=not rule.eps_inside)
