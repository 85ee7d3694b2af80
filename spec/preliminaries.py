"""Chapter 2, Preliminaries: the plotting helpers of section 2.4 (framework-neutral).

Plots are drawn with matplotlib's Agg backend; probes read lines, labels, limits and legends
back from the figure.
"""

import numpy as np

from .entry import EXACT, Entry, Reject

SECTION = "2.4"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axes_state(ax):
    legend = ax.get_legend()
    return {
        "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
        "xscale": ax.get_xscale(), "yscale": ax.get_yscale(),
        "xlim": list(ax.get_xlim()), "ylim": list(ax.get_ylim()),
        "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
        "grid": bool(ax.xaxis.get_gridlines()[0].get_visible()),
    }


def _lines(ax):
    from matplotlib.colors import to_hex

    return [[np.asarray(line.get_xdata(), float).tolist(),
             np.asarray(line.get_ydata(), float).tolist(),
             line.get_linestyle(), to_hex(line.get_color())] for line in ax.get_lines()]


def _svg_probe(b):
    # Outside IPython the call changes nothing and returns None.
    plt = _plt()
    before = dict(plt.rcParams)
    result = b.d2l.use_svg_display()
    return [result, dict(plt.rcParams) == before]


def _figsize_probe(b):
    plt = _plt()
    old = plt.rcParams["figure.figsize"]
    try:
        b.d2l.set_figsize((4.5, 2.0))
        return list(plt.rcParams["figure.figsize"])
    finally:
        plt.rcParams["figure.figsize"] = old


def _axes_args(axes=(), xscale="linear", ylim=None, legend=None):
    """set_axes arguments on a new Axes (or `axes`), with one argument replaced."""
    axes = _plt().subplots()[1] if axes == () else axes
    return axes, "x", "y", None, ylim, xscale, "linear", legend


def _set_axes_probe(b):
    plt = _plt()
    fig, ax = plt.subplots()
    try:
        ax.plot([1, 2, 3], [1, 10, 100])
        b.d2l.set_axes(ax, "x", "y", [1, 3], [1, 100], "linear", "log", ["curve"])
        return _axes_state(ax)
    finally:
        plt.close(fig)


SET_AXES_EXPECT = {"xlabel": "x", "ylabel": "y", "xscale": "linear", "yscale": "log",
                   "xlim": [1.0, 3.0], "ylim": [1.0, 100.0], "legend": ["curve"], "grid": True}

_X = np.arange(0, 3, 0.5, dtype=np.float32)


def _plot_probe(b):
    """plot() with framework tensors: two curves against one x, then Y=None."""
    plt = _plt()
    fig, ax = plt.subplots()
    try:
        x = b.tensor(_X)
        b.d2l.plot(x, [b.tensor(_X ** 2), b.tensor(2 * _X)], "x", "f(x)",
                   legend=["x^2", "2x"], axes=ax)
        first = [_lines(ax), _axes_state(ax)["legend"], ax.get_xlabel()]
        b.d2l.plot(b.tensor(_X ** 2), axes=ax)
        return first + [_lines(ax)]
    finally:
        plt.close(fig)


def _plot_expect():
    x = _X.astype(float).tolist()
    return [[[x, (_X ** 2).astype(float).tolist(), "-", "#1f77b4"],
             [x, (2 * _X).astype(float).tolist(), "--", "#bf00bf"]],
            ["x^2", "2x"], "x",
            [[list(map(float, range(len(x)))), (_X ** 2).astype(float).tolist(), "-",
              "#1f77b4"]]]


ENTRIES = [
    Entry("use_svg_display", SECTION, "use_svg_display()",
          "Show matplotlib figures as SVG in Jupyter (via matplotlib-inline); a no-op outside "
          "IPython. Returns None.",
          probe=_svg_probe, expect=lambda: [None, True], tol=EXACT),
    Entry("set_figsize", SECTION, "set_figsize(figsize=(3.5, 2.5))",
          "use_svg_display(), then rcParams['figure.figsize'] = figsize; figsize must be "
          "two positive finite numbers (ValueError naming figsize).",
          probe=_figsize_probe, expect=lambda: [4.5, 2.0], tol=EXACT,
          rejects=(Reject("negative width", lambda b: ((-1, 2),), match="figsize"),
                   Reject("one number", lambda b: (3.5,), match="figsize"),
                   Reject("infinite height", lambda b: ((3, float("inf")),),
                          match="figsize"))),
    Entry("set_axes", SECTION,
          "set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)",
          "Labels, scales and limits of one Axes; a legend when `legend` is non-empty; grid on. "
          "ValueError naming the argument for something that is not an Axes, a scale "
          "matplotlib does not know, a limit that is not None or a (low, high) pair, and a "
          "legend given as one string (matplotlib would label one curve per character).",
          probe=_set_axes_probe, expect=lambda: SET_AXES_EXPECT, tol=EXACT,
          rejects=(Reject("no Axes", lambda b: _axes_args(None), match="axes"),
                   Reject("unknown scale", lambda b: _axes_args(xscale="lin"), match="xscale"),
                   Reject("one limit", lambda b: _axes_args(ylim=5), match="ylim"),
                   Reject("legend as one string", lambda b: _axes_args(legend="curve"),
                          match="legend"))),
    Entry("plot", SECTION,
          "plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None, "
          "xscale='linear', yscale='linear', fmts=('-', 'm--', 'g-.', 'r:'), "
          "figsize=(3.5, 2.5), axes=None)",
          "Plots one or several series (tensors of any framework, arrays, lists) with cycling "
          "formats, x repeated to match y, Y=None plotting X against its index; at most "
          "len(fmts) curves; then set_axes. [] is one empty series; a 0-d or 3-D X or Y, "
          "a series that is not 1-D, a Y series of another length than its x series, and "
          "a bad figsize raise ValueError naming X, Y or figsize.",
          probe=_plot_probe, expect=_plot_expect, tol=EXACT,
          rejects=(Reject("Y has a different length than X",
                          lambda b: (b.tensor(_X), b.tensor(_X[:2])), match="Y"),
                   Reject("0-d X", lambda b: (b.tensor(np.float32(1)),), match="X"),
                   Reject("3-D Y", lambda b: (b.tensor(_X), b.tensor(np.ones((1, 1, 6), "f"))),
                          match="Y"),
                   Reject("zero figsize", lambda b: (b.tensor(_X),),
                          kwargs=lambda b: {"figsize": (0, 0)}, match="figsize"))),
]
