"""Plots in a notebook and with every kind of tensor: SVG display through matplotlib-inline,
Animator's in-place redraw, tensors that require grad, PIL images, CUDA tensors."""

import numpy as np
import pytest

import d2l.common.plotting as plotting


@pytest.fixture
def ipython_shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        yield shell
    finally:
        InteractiveShell.clear_instance()


def test_use_svg_display_selects_svg_in_ipython(ipython_shell):
    from matplotlib.figure import Figure

    plotting.use_svg_display()
    svg = ipython_shell.display_formatter.formatters["image/svg+xml"]
    png = ipython_shell.display_formatter.formatters["image/png"]
    assert Figure in svg.type_printers
    assert Figure not in png.type_printers


def test_animator_redraws_in_place_in_a_notebook(ipython_shell, monkeypatch):
    from IPython import display

    calls = []
    monkeypatch.setattr(display, "display", lambda obj: calls.append(("display", obj)))
    monkeypatch.setattr(display, "clear_output",
                        lambda wait=False: calls.append(("clear", wait)))
    animator = plotting.Animator(legend=["a"])
    animator.add(1, 0.5)
    animator.add(2, 0.25)
    assert calls == [("display", animator.fig), ("clear", True)] * 2


def test_outside_ipython_nothing_is_displayed(capsys):
    animator = plotting.Animator()
    animator.add(1, [0.1, 0.2])
    assert capsys.readouterr().out == ""


def _curves(ax):
    return [(list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()]


def test_outside_a_notebook_the_curves_are_built_when_the_figure_is_saved():
    import io

    import matplotlib.pyplot as plt

    animator = plotting.Animator(xlabel="epoch", legend=["train", "test"], xlim=[0, 3])
    for epoch in range(1, 4):
        animator.add(epoch, [1 / epoch, 2 / epoch])
    assert plt.gcf() is animator.fig and not animator.fig.is_built
    plt.savefig(io.BytesIO(), format="svg")
    (ax,) = animator.fig.axes
    assert _curves(ax) == [([1, 2, 3], [1, 1 / 2, 1 / 3]), ([1, 2, 3], [2, 1, 2 / 3])]
    assert ax.get_xlabel() == "epoch" and ax.get_xlim() == (0, 3)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["train", "test"]
    animator.add(4, [0.25, 0.5])  # built: the lines follow
    assert _curves(ax)[1] == ([1, 2, 3, 4], [2, 1, 2 / 3, 0.5])
    plt.close(animator.fig)


@pytest.mark.parametrize("look", [lambda a: a.axes[0], lambda a: a.fig.gca(),
                                  lambda a: a.fig.get_axes()[0], lambda a: a.fig.axes[0]])
def test_any_look_at_the_axes_builds_them_once_with_the_recorded_points(look):
    import matplotlib.pyplot as plt

    animator = plotting.Animator(nrows=1, ncols=2)
    animator.add(1, 0.5)
    assert any(look(animator) is ax for ax in animator.axes)
    assert len(animator.fig.axes) == 2
    assert _curves(animator.axes[0]) == [([1], [0.5])]
    plt.close(animator.fig)


def test_plot_accepts_tensors_that_require_grad(backend):
    import matplotlib.pyplot as plt

    x = backend.param(np.linspace(0, 1, 5))
    fig, ax = plt.subplots()
    backend.d2l.plot(x, [x * 2], axes=ax)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), np.linspace(0, 2, 5), rtol=1e-6)


def test_show_images_accepts_pil_images():
    from PIL import Image

    pixels = (np.arange(12, dtype=np.uint8).reshape(3, 4) * 20)
    axes = plotting.show_images([Image.fromarray(pixels)] * 2, 1, 2, titles=["a", "b"])
    np.testing.assert_array_equal(axes[1].images[0].get_array(), pixels)
    assert [ax.get_title() for ax in axes] == ["a", "b"]


def test_show_images_with_one_cell_returns_one_axes():
    axes = plotting.show_images([np.zeros((2, 2))], 1, 1)
    assert len(axes) == 1


def test_plot_draws_at_most_one_curve_per_format():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    series = [np.arange(3) * k for k in range(6)]
    plotting.plot(np.arange(3), series, fmts=("-", "--"), axes=ax)
    assert len(ax.get_lines()) == 2


@pytest.mark.gpu
def test_plotting_cuda_tensors():
    import torch

    x = torch.linspace(0, 1, 5, device="cuda", requires_grad=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plotting.plot(x, [x ** 2], axes=ax)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), np.linspace(0, 1, 5) ** 2,
                               rtol=1e-6)
    animator = plotting.Animator()
    animator.add(torch.tensor(1.0, device="cuda"), torch.tensor(0.5, device="cuda"))
    assert animator.Y == [[0.5]]
