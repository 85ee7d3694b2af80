"""Plotting helpers of sections 2.4, 3.5 and 3.6: drawn with matplotlib, imported lazily.

Every function accepts tensors of any framework (MXNet arrays, PyTorch tensors on any device
or with grad, TensorFlow tensors) as well as NumPy arrays and lists; they are converted to
NumPy before matplotlib sees them.
"""

import math
import numbers
import sys

from . import checks
from .tensors import to_numpy

DEFAULT_FMTS = ("-", "m--", "g-.", "r:")


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _ipython_shell():
    """The running IPython shell, or None outside IPython (without importing IPython)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def use_svg_display():
    """Show matplotlib figures as SVG in a Jupyter notebook; a no-op outside IPython."""
    if _ipython_shell() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("svg")


def check_figsize(fn, figsize):
    """Raise ValueError unless `figsize` is a pair (width, height) of positive finite
    numbers (inches)."""
    if not (isinstance(figsize, (tuple, list)) and len(figsize) == 2 and all(
            isinstance(side, numbers.Real) and not isinstance(side, bool)
            and 0 < side < math.inf for side in figsize)):
        raise ValueError(f"{fn}: figsize must be (width, height) in inches, two positive "
                         f"finite numbers, got {figsize!r}")


def set_figsize(figsize=(3.5, 2.5)):
    """Use SVG display and set matplotlib's default figure size to `figsize` (inches)."""
    check_figsize("set_figsize", figsize)
    use_svg_display()
    _plt().rcParams["figure.figsize"] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend):
    """Set labels, scales and limits of a matplotlib Axes, add a legend if given, show a grid.
    xlim and ylim are None or a (low, high) pair; legend is None or a list of labels."""
    _check_axes_args(axes, xlim, ylim, xscale, yscale, legend)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def _check_axes_args(axes, xlim, ylim, xscale, yscale, legend):
    """ValueError naming the first bad argument of `set_axes`."""
    if not hasattr(axes, "set_xscale"):
        raise ValueError(f"set_axes: axes must be a matplotlib Axes, got {type(axes).__name__}")
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if lim is not None and (isinstance(lim, str) or not hasattr(lim, "__len__")
                                or len(lim) != 2):
            raise ValueError(f"set_axes: {name} must be None or a (low, high) pair, got {lim!r}")
    from matplotlib.scale import get_scale_names

    scales = get_scale_names()
    for name, scale in (("xscale", xscale), ("yscale", yscale)):
        if scale not in scales:
            raise ValueError(f"set_axes: {name} must be one of {scales}, got {scale!r}")
    _check_labels("set_axes", "legend", legend)


def _check_labels(fn, name, labels, empty=True):
    """ValueError naming `name` (legend or fmts of `fn`) unless it is None or a list or tuple
    (non-empty unless `empty`): one string would give one curve per character."""
    if labels is None:
        return
    if isinstance(labels, str):
        raise ValueError(f"{fn}: {name} must be a list of strings, got the string {labels!r} "
                         f"(write [{labels!r}])")
    if not isinstance(labels, (list, tuple)) or not (empty or labels):
        raise ValueError(f"{fn}: {name} must be a{'' if empty else ' non-empty'} list of "
                         f"strings, got {labels!r}")


def _has_one_axis(X):
    return (hasattr(X, "shape") and len(X.shape) == 1) or (
        isinstance(X, list) and (not X or not hasattr(X[0], "__len__"))
    )


def _series(name, X):
    """A list of 1-D NumPy series from one series (a 1-D tensor or array, a list of numbers,
    [] for an empty one) or several (a 2-D tensor or array, whose rows are the series, or a
    list of series); anything else raises ValueError naming `name` (X or Y of `plot`)."""
    if hasattr(X, "shape") and len(X.shape) not in (1, 2):
        raise ValueError(f"plot: {name} must be one series (1-D) or several (2-D, or a list), "
                         f"got shape {tuple(X.shape)}")
    series = [to_numpy(x) for x in ([X] if _has_one_axis(X) else X)]
    if any(s.ndim != 1 for s in series):
        raise ValueError(f"plot: every series of {name} must be 1-D, got shapes "
                         f"{[s.shape for s in series]}")
    return series


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=DEFAULT_FMTS, figsize=(3.5, 2.5), axes=None):
    """Plot one or several curves on `axes` (default: the current Axes).

    `X` and `Y` are each one series (1-D) or a list of series. With `Y=None` the series in `X`
    are drawn against their index. When there are fewer x series than y series, the x series
    are repeated. At most `len(fmts)` curves are drawn, one format each.
    """
    check_figsize("plot", figsize)
    _check_labels("plot", "fmts", fmts, empty=False)
    _check_labels("plot", "legend", legend)
    if legend is None:
        legend = []
    X = _series("X", X)
    if Y is None:
        X, Y = [[]] * len(X), X
    else:
        Y = _series("Y", Y)
    set_figsize(figsize)
    axes = axes if axes is not None else _plt().gca()
    if len(X) != len(Y):
        X = X * len(Y)
    for k, (x, y) in enumerate(zip(X, Y)):
        if len(x) and len(x) != len(y):
            raise ValueError(f"plot: series {k} of Y has {len(y)} points but its X series has "
                             f"{len(x)}")
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """Show images in a `num_rows` x `num_cols` grid, with optional titles.

    Each image is H x W (grayscale) or H x W x C, as a tensor, NumPy array or PIL image.
    Returns the flattened NumPy array of the grid's Axes. `titles`, when given, needs one
    title per image shown (ValueError otherwise; extra titles are ignored).
    """
    checks.positive_int("show_images", "num_rows", num_rows)
    checks.positive_int("show_images", "num_cols", num_cols)
    checks.positive_number("show_images", "scale", scale)
    figsize = (num_cols * scale, num_rows * scale)
    fig, axes = _plt().subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        if titles and i >= len(titles):
            _plt().close(fig)
            raise ValueError(f"show_images: titles has {len(titles)} titles, fewer than the "
                             f"images shown")
        if hasattr(img, "getbands"):  # PIL image: matplotlib reads it as it is
            ax.imshow(img)
        else:
            ax.imshow(to_numpy(img))
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    return axes


def show_heatmaps(matrices, xlabel, ylabel, titles=None, figsize=(2.5, 2.5), cmap="Reds"):
    """Draw a grid of heatmaps (section 10.1) and one colorbar (shrink 0.6) for all of them.

    `matrices` is 4-D (num_rows, num_cols, n_queries, n_keys), a tensor of any framework or a
    NumPy array; cell (i, j) shows matrices[i, j] with `imshow` in a grid of Axes sharing x and
    y. `xlabel` goes on the bottom row, `ylabel` on the first column, `titles[j]` (when given)
    on column j. Returns None.
    """
    matrices = to_numpy(matrices)
    if matrices.ndim != 4:
        raise ValueError(f"show_heatmaps: matrices must be 4-D (num_rows, num_cols, n_queries, "
                         f"n_keys), got shape {matrices.shape}")
    num_rows, num_cols = matrices.shape[:2]
    if titles is not None and len(titles) < num_cols:
        raise ValueError(f"show_heatmaps: titles must give one title per column ({num_cols}), "
                         f"got {len(titles)}")
    use_svg_display()
    fig, axes = _plt().subplots(num_rows, num_cols, figsize=figsize, sharex=True, sharey=True,
                                squeeze=False)
    for i, (row_axes, row_matrices) in enumerate(zip(axes, matrices)):
        for j, (ax, matrix) in enumerate(zip(row_axes, row_matrices)):
            image = ax.imshow(matrix, cmap=cmap)
            if i == num_rows - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                ax.set_ylabel(ylabel)
            if titles:
                ax.set_title(titles[j])
    fig.colorbar(image, ax=axes, shrink=0.6)


def _is_scalar(value):
    """True for numbers and 0-d arrays/tensors (which have a shape but no length)."""
    shape = getattr(value, "shape", None)
    return len(shape) == 0 if shape is not None else not hasattr(value, "__len__")


class Animator:
    """Plot curves that grow one point at a time, redrawn in place in a notebook.

    Attributes: `fig`, `axes` (a one-element list when there is one subplot), `X` and `Y`
    (lists of the x and y values of each curve, None before the first `add`), `fmts` and
    `config_axes` (re-applies the constructor's labels, limits, scales and legend).

    The figure is a pyplot figure from the start, but its Axes and curves are built the first
    time it is shown, saved, drawn or its Axes are read (`DeferredFigure`): outside a notebook
    `add` only records the point, so a script that never looks pays no plotting.
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale="linear", yscale="linear", fmts=DEFAULT_FMTS, nrows=1, ncols=1,
                 figsize=(3.5, 2.5)):
        checks.positive_int("Animator", "nrows", nrows)
        checks.positive_int("Animator", "ncols", ncols)
        check_figsize("Animator", figsize)
        _check_labels("Animator", "fmts", fmts, empty=False)
        _check_labels("Animator", "legend", legend)
        if legend is None:
            legend = []
        use_svg_display()
        from .deferred_figure import DeferredFigure

        self.X, self.Y, self.fmts = None, None, fmts
        self._axes, self._lines = None, None
        self.fig = _plt().figure(figsize=figsize, FigureClass=DeferredFigure,
                                 build=lambda: self._build(nrows, ncols))
        self.config_axes = lambda: set_axes(
            self.axes[0], xlabel, ylabel, xlim, ylim, xscale, yscale, legend)

    @property
    def axes(self):
        self.fig.ensure_built()
        return self._axes

    def _build(self, nrows, ncols):
        """Add the subplots to the figure and draw what has been recorded so far."""
        axes = self.fig.subplots(nrows, ncols)
        self._axes = [axes] if nrows * ncols == 1 else axes
        if self.X is not None:
            self._draw()

    def add(self, x, y):
        """Append one point to each curve; `x` is shared when scalar, None values are skipped.

        Values may be Python numbers or 0-d tensors of any framework.
        """
        if _is_scalar(y):
            y = [y]
        n = len(y)
        if _is_scalar(x):
            x = [x] * n
        if self.X is None:
            self.X = [[] for _ in range(n)]
        if self.Y is None:
            self.Y = [[] for _ in range(n)]
        if n > len(self.Y):
            raise ValueError(f"Animator.add: y has {n} values but the animator draws "
                             f"{len(self.Y)} curves (fixed by the first add)")
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(float(to_numpy(a)))
                self.Y[i].append(float(to_numpy(b)))
        if self.fig.is_built:
            self._draw()
        self._redisplay()

    def _draw(self):
        """Draw the curves on axes[0]: the first time (or after the axes were cleared) from
        scratch with the axes configuration, afterwards by updating the lines' data."""
        ax = self.axes[0]
        if self._lines and self._lines[0] in ax.lines:
            for line, x_values, y_values in zip(self._lines, self.X, self.Y):
                line.set_data(x_values, y_values)
            ax.relim()
            ax.autoscale_view()
            return
        if ax.has_data():  # a fresh Axes (the first draw) has nothing to clear
            ax.cla()
        self._lines = [ax.plot(x_values, y_values, fmt)[0]
                       for x_values, y_values, fmt in zip(self.X, self.Y, self.fmts)]
        self.config_axes()

    def _redisplay(self):
        """Show the figure in place of the previous one when running in a notebook."""
        if _ipython_shell() is None:
            return
        from IPython import display

        display.display(self.fig)
        display.clear_output(wait=True)
