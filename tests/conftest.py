"""Shared fixtures: the backends under test, hypothesis profiles, the GPU marker.

`$D2L_TEST_BACKENDS` (set by each tox env) names the frameworks under test; without it every
installed framework is tested. `$D2L_TEST_SCOPE=agreement` (the tox `cross` env) keeps only
the tests that are not about one framework alone: those comparing frameworks (`all_backends`)
and those taking no backend; the one-framework tests run in that framework's own env.
Hypothesis profiles: `ci` (derandomized, the default when `$CI` is set), `dev` (the default
otherwise), `thorough`; choose with `$HYPOTHESIS_PROFILE`.
"""

import gc
import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

from spec import backends

matplotlib.use("Agg")

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.data_too_large],
               print_blob=True)
settings.register_profile("ci", max_examples=25, derandomize=True, **_common)
settings.register_profile("dev", max_examples=10, **_common)
settings.register_profile("thorough", max_examples=300, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI")
                                     else "dev"))

ACTIVE = backends.active()
# Gluon's DataLoader runs a full gc.collect() whenever one is made; with three frameworks
# loaded, scanning their objects took ~0.25 s each time. They never become garbage: leave them
# out of every collection.
gc.freeze()


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", ACTIVE, ids=[b.name for b in ACTIVE])
    if "gpu_backend" in metafunc.fixturenames:
        metafunc.parametrize("gpu_backend", GPU_BACKENDS, ids=[repr(b) for b in GPU_BACKENDS])


@pytest.fixture
def all_backends():
    """Every backend under test; cross-framework tests need at least two."""
    if len(ACTIVE) < 2:
        pytest.skip("cross-framework test: needs two or more frameworks (tox -e cross)")
    return ACTIVE


GPU_BACKENDS = [backends.Backend(b.name, gpu=True) for b in ACTIVE if b.has_gpu()]


def pytest_collection_modifyitems(config, items):
    if os.environ.get("D2L_TEST_SCOPE") == "agreement":
        one_framework = [i for i in items if "backend" in getattr(i, "fixturenames", ())]
        config.hook.pytest_deselected(items=one_framework)
        items[:] = [i for i in items if "backend" not in getattr(i, "fixturenames", ())]
    if GPU_BACKENDS:
        return
    skip = pytest.mark.skip(reason="no framework here sees a GPU (run on a CUDA machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
