"""What a spec entry is, and how observations are compared.

An entry describes one saved symbol: where the book saves it, its signature and behaviour,
and what makes it checkable. A symbol is checked in up to three ways:

* `reference` + `inputs` + `call`: a NumPy reference, a hypothesis strategy drawing its
  arguments (as NumPy values), and how to call the backend with them; the backend's result,
  converted to NumPy, must match the reference within `tol`.
* `probe` (+ `expect`): a deterministic run of the backend returning an observation (numbers,
  strings, nested lists); `expect()` gives the value the spec demands. Probes with no `expect`
  assert the behaviour themselves; their observations are still compared across frameworks.
* `rejects`: bad calls, each with the error type it must raise and a pattern its message
  must match (naming the argument).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Tol:
    """Tolerance of a float comparison: |a - b| <= atol + rtol * |b|."""

    rtol: float = 1e-5
    atol: float = 1e-6


EXACT = Tol(0.0, 0.0)


@dataclass(frozen=True)
class Reject:
    """A bad call: `args(backend)` gives the arguments; it must raise `error` matching `match`."""

    why: str
    args: Callable[[Any], tuple]
    error: type = ValueError
    match: str = ""
    kwargs: Callable[[Any], dict] = lambda backend: {}


@dataclass(frozen=True)
class Entry:
    name: str
    section: str
    signature: str
    behaviour: str
    reference: Callable | None = None
    inputs: Callable | None = None
    call: Callable | None = None
    probe: Callable | None = None
    expect: Callable | None = None
    tol: Tol = Tol()
    rejects: tuple[Reject, ...] = field(default_factory=tuple)

    @property
    def checkable(self):
        return self.reference is not None or self.probe is not None


def max_error(observed, expected):
    """Largest absolute difference between two observations (inf where they differ in kind).

    Observations are numbers, NumPy arrays, strings, None, or lists/tuples/dicts of these.
    """
    if isinstance(expected, dict):
        if not isinstance(observed, dict) or observed.keys() != expected.keys():
            return float("inf")
        return max((max_error(observed[k], expected[k]) for k in expected), default=0.0)
    if isinstance(expected, (str, bytes, type(None), bool)):
        return 0.0 if observed == expected else float("inf")
    if _is_nested(expected):
        if not isinstance(observed, (list, tuple)) or len(observed) != len(expected):
            return float("inf")
        return max((max_error(o, e) for o, e in zip(observed, expected)), default=0.0)
    a = np.asarray(observed, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("inf")
    both = ~np.isnan(b)
    return float(np.max(np.abs(a[both] - b[both]), initial=0.0))


def within(observed, expected, tol):
    """True when every float of `observed` is within `tol` of `expected` (others equal)."""
    err = max_error(observed, expected)
    if err == float("inf"):
        return False
    scale = _max_abs(expected)
    return err <= tol.atol + tol.rtol * scale


def _is_nested(value):
    """A list/tuple to compare element by element (anything but a flat list of numbers)."""
    return isinstance(value, (list, tuple)) and not all(
        isinstance(v, (int, float, np.number)) for v in value)


def _max_abs(value):
    if isinstance(value, dict):
        return max((_max_abs(v) for v in value.values()), default=0.0)
    if isinstance(value, (str, bytes, type(None))):
        return 0.0
    if _is_nested(value):
        return max((_max_abs(v) for v in value), default=0.0)
    b = np.asarray(value, dtype=np.float64)
    return float(np.nanmax(np.abs(b), initial=0.0)) if b.size else 0.0


def check_reference(entry, backend):
    """Assert that `backend` matches the entry's NumPy reference on hypothesis-drawn inputs
    (the active hypothesis profile sets how many)."""
    from hypothesis import given

    @given(entry.inputs())
    def check(args):
        observed = entry.call(backend, *args)
        expected = entry.reference(*args)
        assert within(observed, expected, entry.tol), describe_failure(
            entry, repr(backend), observed, expected)

    check()


def check_probe(entry, backend):
    """Assert that the entry's probe, run on `backend`, gives the expected observation."""
    observed = entry.probe(backend)
    expected = entry.expect()
    assert within(observed, expected, entry.tol), describe_failure(
        entry, repr(backend), observed, expected)


def describe_failure(entry, backend_name, observed, expected):
    """A message that shows what differed and how to reproduce it."""
    return (f"{entry.name} [{backend_name}] disagrees with the spec (section {entry.section}): "
            f"max abs error {max_error(observed, expected):.3g} > tolerance "
            f"rtol={entry.tol.rtol}, atol={entry.tol.atol}\n"
            f"observed: {observed!r}\nexpected: {expected!r}")
