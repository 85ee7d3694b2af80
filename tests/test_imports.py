"""Importing is light: `import d2l` loads no framework, `d2l.<fw>` only its own framework and
none of matplotlib, pandas or IPython until used; re-exported names resolve lazily."""

import json
import subprocess
import sys

import pytest

HEAVY = ["mxnet", "torch", "tensorflow", "matplotlib", "pandas", "IPython", "PIL", "pooch",
         "requests", "torchvision", "tqdm"]


def _loaded_after(statement):
    code = (f"import sys, json\n{statement}\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_d2l_loads_no_framework():
    assert _loaded_after("import d2l; assert d2l.__version__ == '0.16.6'") == []


def test_backend_import_adds_nothing_heavy_beyond_its_framework(backend):
    """`d2l.<fw>` loads no other framework, and no heavy module its framework does not load
    itself (TensorFlow 2.21 imports matplotlib and pandas on its own, MXNet requests)."""
    by_framework = set(_loaded_after(f"import {backend.name}"))
    by_d2l = set(_loaded_after(f"from d2l import {backend.name} as d2l"))
    assert backend.name in by_d2l
    assert by_d2l - by_framework == set()


def test_reexports_resolve_on_first_use(backend):
    import matplotlib.pyplot
    import numpy
    import pandas

    d2l = backend.d2l
    assert d2l.plt is matplotlib.pyplot
    assert d2l.pd is pandas
    assert d2l.d2l is d2l
    assert d2l.np is (backend.fw.np if backend.name == "mxnet" else numpy)
    assert d2l.defaultdict is __import__("collections").defaultdict
    assert callable(d2l.display.display)
    if backend.name == "torch":
        import PIL.Image

        assert d2l.Image is PIL.Image
    with pytest.raises(AttributeError, match="no_such_name"):
        d2l.no_such_name  # noqa: B018


def test_mxnet_is_imported_before_tensorflow():
    """Importing TensorFlow before MXNet crashes the process; the harness imports in order."""
    code = ("import sys\nfrom spec import backends\nbackends.active()\n"
            "mods = list(sys.modules)\n"
            "print(mods.index('mxnet') < mods.index('tensorflow') "
            "if {'mxnet', 'tensorflow'} <= set(mods) else 'n/a')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()[-1]
    from spec import backends

    names = [b.name for b in backends.active()]
    assert out == ("True" if {"mxnet", "tensorflow"} <= set(names) else "n/a")
