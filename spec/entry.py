"""What a spec entry is, and how observations are compared.

An entry describes one saved symbol: where the book saves it, its signature and behaviour,
and what makes it checkable. A symbol is checked in up to three ways:

* `reference` + `inputs` + `call`: a NumPy reference, a hypothesis strategy drawing its
  arguments (as NumPy values), and how to call the backend with them; the backend's result,
  converted to NumPy, must match the reference within `tol`.
* `probe` (+ `expect`): a deterministic run of the backend returning an observation (numbers,
  strings, nested lists); `expect()` gives the value the spec demands. Probes with no `expect`
  assert the behaviour themselves; their observations are still compared across frameworks.
* `book_inputs`: where `inputs` also draws values beyond what the book's exercises use
  (extreme logits, ...), a strategy of the book's range alone. Conformance checks `inputs`;
  `d2l verify` judges a learner's solution on `book_inputs` and reports the rest as advice.
* `book`: False for an entry that asks more than the book's own code of the symbol gives in
  some framework (corr2d's loop is not differentiable in MXNet and TensorFlow): `d2l verify`
  reports it as advice, as it does `rejects` and `edges`.
* `rejects`: bad calls, each with the error type it must raise and a pattern its message
  must match (naming the argument).
* `edges` (with `reference` and `call`): a strategy of edge-case arguments (empty,
  length-1, non-finite values, wrong container types, ids out of range, ...). For each drawn
  case the reference either returns the right answer, which the backend must match, or
  raises `Invalid(argument)`: then the backend must raise that error type, naming the saved
  function and the argument. The same case thus means the same thing in every framework.
"""

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Tol:
    """Tolerance of a float comparison, element by element: |a - b| <= atol + rtol * |b|."""

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


class Invalid(Exception):
    """Raised by a NumPy reference for an input the spec rejects: every backend must raise
    `error` (ValueError unless stated) with a message naming `argument`."""

    def __init__(self, argument, error=ValueError):
        super().__init__(f"invalid {argument}")
        self.argument, self.error = argument, error


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
    edges: Callable | None = None
    # The edge cases the book's own code for this symbol survives, where `edges` also holds
    # inputs on which a framework's native kernel, called the book's way, kills the process
    # (npx.sequence_mask with negative, infinite or NaN lengths): `d2l verify` runs these on
    # learners' code. None: `edges`.
    safe_edges: Callable | None = None
    book_inputs: Callable | None = None
    book: bool = True

    @property
    def checkable(self):
        return self.reference is not None or self.probe is not None


def _leaves(observed, expected):
    """Pairs of float arrays (observed, expected) at matching places of two observations, or
    None where they differ in kind (structure, keys, lengths, shapes, strings, NaN places).

    Observations are numbers, NumPy arrays, strings, None, or lists/tuples/dicts of these.
    """
    if isinstance(expected, dict):
        if not isinstance(observed, dict) or observed.keys() != expected.keys():
            return None
        parts = [_leaves(observed[k], expected[k]) for k in expected]
    elif isinstance(expected, (str, bytes, type(None), bool)):
        return [] if observed == expected else None
    elif _is_nested(expected):
        if not isinstance(observed, (list, tuple)) or len(observed) != len(expected):
            return None
        parts = [_leaves(o, e) for o, e in zip(observed, expected)]
    else:
        a = np.asarray(observed, dtype=np.float64)
        b = np.asarray(expected, dtype=np.float64)
        if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
            return None
        both = ~np.isnan(b)
        return [(a[both], b[both])]
    if any(p is None for p in parts):
        return None
    return [pair for p in parts for pair in p]


def max_error(observed, expected):
    """Largest absolute difference between two observations (inf where they differ in kind;
    equal infinities differ by 0)."""
    pairs = _leaves(observed, expected)
    if pairs is None:
        return float("inf")
    with np.errstate(invalid="ignore"):
        return max((float(np.max(np.where(a == b, 0.0, np.abs(a - b)), initial=0.0))
                    for a, b in pairs), default=0.0)


def excess(observed, expected, tol):
    """The largest ratio |observed - expected| / (atol + rtol * |expected|) over all floats,
    element by element (NumPy `allclose` semantics): <= 1 means within `tol`; inf where the
    observations differ in kind or a nonzero error meets a zero tolerance."""
    pairs = _leaves(observed, expected)
    if pairs is None:
        return float("inf")
    worst = 0.0
    for a, b in pairs:
        with np.errstate(divide="ignore", invalid="ignore"):
            # Equal infinities agree (their difference would be NaN).
            err = np.where(a == b, 0.0, np.abs(a - b))
            ratio = np.where(err == 0, 0.0, err / (tol.atol + tol.rtol * np.abs(b)))
            # An infinity missed (or the other one of the two) is never within tolerance.
            ratio = np.where(np.isinf(err), np.inf, ratio)
        worst = max(worst, float(np.max(ratio, initial=0.0)))
    return worst


def within(observed, expected, tol):
    """True when every float of `observed` is within atol + rtol * |expected| of its own
    expected element (others equal)."""
    return excess(observed, expected, tol) <= 1.0


def _is_nested(value):
    """A list/tuple to compare element by element (anything but a flat list of numbers)."""
    return isinstance(value, (list, tuple)) and not all(
        isinstance(v, (int, float, np.number)) for v in value)


def check_reference(entry, backend):
    """Assert that `backend` matches the entry's NumPy reference on hypothesis-drawn inputs
    (the active hypothesis profile sets how many)."""
    from hypothesis import given

    @given(entry.inputs())
    def check(args):
        observed = call_on_copies(entry, backend, args)
        expected = entry.reference(*copy.deepcopy(args))
        assert within(observed, expected, entry.tol), describe_failure(
            entry, repr(backend), observed, expected)

    check()


def names(message, name):
    """Whether `message` contains `name` as a whole word (so 'n' is not found in 'in')."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message) is not None


def rejected_token_ids(symbol, argument, call, vocab_size):
    """For a (2, 3) batch of ids holding one -1, then one `vocab_size`: the name of the error
    `call(ids)` raised ('no error' if none) and whether its message names `argument` and
    `symbol`."""
    seen = []
    for bad in (-1, vocab_size):
        ids = np.zeros((2, 3), np.int64)
        ids[1, 2] = bad
        try:
            call(ids)
            seen.append(["no error", False])
        except Exception as error:  # noqa: BLE001  (the type is what is observed)
            seen.append([type(error).__name__,
                         names(str(error), argument) and names(str(error), symbol)])
    return seen


REJECTED_TOKEN_IDS = [["ValueError", True], ["ValueError", True]]


def outcome(entry, backend, args):
    """What the backend does with `args`: ('value', observation) or ('error', the exception)
    — an error of the types the spec's rejections use (ValueError, TypeError, and the
    ZeroDivisionError the book keeps for Timer.avg)."""
    try:
        return "value", call_on_copies(entry, backend, args)
    except (ValueError, TypeError, ZeroDivisionError) as error:
        return "error", error


def expected_outcome(entry, args):
    """('value', the reference's result) or ('error', the `Invalid` it raised)."""
    try:
        with np.errstate(all="ignore"):  # edge cases: log(-1) is NaN on purpose
            return "value", entry.reference(*copy.deepcopy(args))
    except Invalid as invalid:
        return "error", invalid


def check_rejection(entry, error, invalid):
    """Assert that `error` (raised by a backend) is what `invalid` demands."""
    symbol = entry.name.split(" (")[0]
    message = str(error)
    assert isinstance(error, invalid.error), (
        f"{entry.name}: expected {invalid.error.__name__} naming {invalid.argument!r}, got "
        f"{type(error).__name__}: {message}")
    assert names(message, invalid.argument) and names(message, symbol), (
        f"{entry.name}: the error should name {symbol!r} and {invalid.argument!r}, got: "
        f"{message}")


def check_edges(entry, backend):
    """Assert that `backend` treats the entry's edge cases as the spec does: the reference's
    result where it has one, the named error where the reference declares the case invalid."""
    from hypothesis import given

    @given(entry.edges())
    def check(args):
        kind, expected = expected_outcome(entry, args)
        if kind == "error":
            try:
                observed = call_on_copies(entry, backend, args)
            except Exception as error:  # noqa: BLE001  (its type is checked)
                check_rejection(entry, error, expected)
                return
            raise AssertionError(f"{entry.name} [{backend!r}]: expected "
                                 f"{expected.error.__name__} naming {expected.argument!r} "
                                 f"on {args!r}, got {observed!r}")
        else:
            observed = call_on_copies(entry, backend, args)
            assert within(observed, expected, entry.tol), describe_failure(
                entry, repr(backend), observed, expected)

    check()


def call_on_copies(entry, backend, args):
    """`entry.call(backend, *copies of args)`; raises AssertionError when the call modified
    its (NumPy or Python) arguments: saved functions never write into their inputs."""
    passed = copy.deepcopy(args)
    observed = entry.call(backend, *passed)
    assert unchanged(passed, args), (
        f"{entry.name} [{backend!r}] modified its arguments in place:\n"
        f"before: {args!r}\nafter: {passed!r}")
    return observed


def unchanged(passed, args):
    """Whether the arguments a call got (`passed`) still equal the drawn ones (`args`)."""
    try:
        pairs = _leaves(list(passed), list(args))
    except (TypeError, ValueError):  # something else where a number was
        return False
    return pairs is not None and all(np.array_equal(a, b) for a, b in pairs)


def check_probe(entry, backend):
    """Assert that the entry's probe, run on `backend`, gives the expected observation."""
    observed = entry.probe(backend)
    expected = entry.expect()
    assert within(observed, expected, entry.tol), describe_failure(
        entry, repr(backend), observed, expected)


def describe_failure(entry, backend_name, observed, expected):
    """A message that shows what differed and how to reproduce it."""
    return (f"{entry.name} [{backend_name}] disagrees with the spec (section {entry.section}): "
            f"max abs error {max_error(observed, expected):.3g}, "
            f"{excess(observed, expected, entry.tol):.3g} times the tolerance "
            f"rtol={entry.tol.rtol}, atol={entry.tol.atol} allows (element by element)\n"
            f"observed: {observed!r}\nexpected: {expected!r}")
