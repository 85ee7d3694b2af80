"""What several benchmarks share: upstream d2l 0.16.6 loaded as a black box, and the
fastest of interleaved timed repeats.

Upstream is read by file path from $D2L_UPSTREAM (default /tmp/upstream/d2l: `pip download
d2l==0.16.6 --no-deps` unpacked there); where it is missing the benchmarks print their own
figures only.
"""

import contextlib
import importlib.util
import io
import os
import sys
import time
from pathlib import Path

UPSTREAM = Path(os.environ.get("D2L_UPSTREAM", "/tmp/upstream/d2l"))


def upstream_module(path):
    """The module in file `path` (an upstream d2l/<framework>.py), loaded once and without its
    printing, or None when the file is missing. Upstream binds `d2l = sys.modules[__name__]`,
    so the module is registered before it runs."""
    path = Path(path)
    if not path.exists():
        return None
    name = f"upstream_{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    return sys.modules[name]


def upstream(framework):
    """Upstream's d2l/<framework>.py as a module, or None."""
    return upstream_module(UPSTREAM / f"{framework}.py")


def fastest(fns, repeats, sync=lambda: None):
    """The fastest of `repeats` timed calls of each function (seconds), after one warm-up
    call each; the functions take turns so that all of them see the same load on the
    machine. `sync()` waits for asynchronous work (MXNet's engine, CUDA)."""
    for fn in fns:
        fn()
    sync()
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            sync()
            best[i] = min(best[i], time.perf_counter() - start)
    return best
