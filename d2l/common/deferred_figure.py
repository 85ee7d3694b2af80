"""A pyplot figure whose Axes are built the first time anybody looks at it.

Building an Axes costs matplotlib about 4 ms of Python (ticks, spines, labels); a training
loop in a script records its curve and may never draw it. `DeferredFigure` is registered with
pyplot as usual (`plt.gcf()`, `plt.savefig`, `plt.show()` and notebook display find it), and
runs its `build` callback once, before the first draw or the first question about its Axes.
Imported by `plotting.Animator` only, so that `import d2l.<framework>` stays free of
matplotlib.
"""

from matplotlib.figure import Figure


class DeferredFigure(Figure):
    """A Figure that calls `build()` (which adds its Axes) once, on first use."""

    def __init__(self, *args, build, **kwargs):
        self._build = None  # Figure.__init__ already asks for the (no) Axes
        super().__init__(*args, **kwargs)
        self._build = build

    @property
    def is_built(self):
        return self._build is None

    def ensure_built(self):
        """Run the build callback unless it has run (it may itself add Axes)."""
        build, self._build = self._build, None
        if build is not None:
            build()

    @property
    def axes(self):
        self.ensure_built()
        return super().axes

    def get_axes(self):
        return self.axes

    def gca(self):
        self.ensure_built()
        return super().gca()

    def add_axes(self, *args, **kwargs):
        self.ensure_built()
        return super().add_axes(*args, **kwargs)

    def add_subplot(self, *args, **kwargs):
        self.ensure_built()
        return super().add_subplot(*args, **kwargs)

    def draw(self, renderer):
        self.ensure_built()
        super().draw(renderer)
