"""`d2l.verify`: check a learner's function or class against the spec of a saved symbol.

    from d2l import torch as d2l
    result = d2l.verify(my_corr2d, "corr2d")   # prints the verdict
    assert result

Every spec entry of the symbol runs with the learner's object in place of the package's:
the backend namespace the entries call through (`Backend.d2l`) is the real backend module
with that one attribute replaced. The verdict comes from what the book's exercises use: the
NumPy reference on hypothesis-drawn inputs of the book's range (`Entry.book_inputs`, else
`Entry.inputs`) and the probes. The spec's robustness extras — inputs beyond the book's range,
`edges`, the errors of `rejects`, probes marked `book=False` — are advice, counted only
with `strict=True`. A failure shows the smallest failing input hypothesis finds (derandomized,
shrunk), expected and observed values, the error against the tolerance, and a snippet that
reruns that one example.
"""

import copy
import dataclasses
import difflib
import functools
import importlib
import inspect
import math
import re
import sys
import types

import numpy as np

from d2l.common.tensors import to_numpy

FRAMEWORKS = ("mxnet", "torch", "tensorflow")


def spec_package():
    """The spec: `d2l._spec` in an installed wheel (packaged from the repository's `spec/`),
    the top-level `spec` package in a checkout."""
    try:
        return importlib.import_module("d2l._spec")
    except ModuleNotFoundError as error:
        if error.name != "d2l._spec":
            raise
        return importlib.import_module("spec")


def spec_module(name):
    """A module of the spec package: 'entry', 'backends', ..."""
    return importlib.import_module(f"{spec_package().__name__}.{name}")


def entries_for(name):
    """The spec entries `name` selects: every entry of a saved symbol, or one entry by its
    full name (such as 'corr2d (autograd)')."""
    spec = spec_package()
    chosen = [e for e in spec.ENTRIES if spec.symbol(e) == name] or [
        e for e in spec.ENTRIES if e.name == name]
    if not chosen:
        close = difflib.get_close_matches(name, spec.symbols(), n=3)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"verify: name must be a saved symbol of the spec, got {name!r}{hint}")
    return chosen


class ModifiedInPlace(AssertionError):
    """The learner's function wrote into one of its tensor arguments."""


def _snapshot(value):
    """A NumPy copy of a tensor or array argument (None for anything else)."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return np.array(to_numpy(value), copy=True)
    return None


def guard_arguments(fn, name):
    """`fn`, raising ModifiedInPlace when a call changes one of its tensor arguments (the
    saved functions return new tensors; the caller's inputs must stay as they were)."""
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        bound = inspect.signature(fn).bind(*args, **kwargs)
        before = {k: _snapshot(v) for k, v in bound.arguments.items()}
        result = fn(*args, **kwargs)
        for k, copy_before in before.items():
            if copy_before is not None and not np.array_equal(
                    to_numpy(bound.arguments[k]), copy_before, equal_nan=True):
                raise ModifiedInPlace(f"{name} modified its argument {k} in place")
        return result

    return guarded


class LearnerNamespace(types.ModuleType):
    """The backend module `d2l.<framework>` with one saved symbol replaced."""

    def __init__(self, module, symbol, obj):
        super().__init__(module.__name__, module.__doc__)
        self.__backend_module = module
        setattr(self, symbol, obj)

    def __getattr__(self, name):
        return getattr(self.__backend_module, name)


def learner_backend(framework, symbol, obj):
    """A spec Backend whose `d2l` namespace holds `obj` as `symbol` (functions guarded
    against writing into their arguments)."""
    base = spec_module("backends").Backend
    if inspect.isfunction(obj):
        obj = guard_arguments(obj, symbol)

    class LearnerBackend(base):
        @functools.cached_property
        def d2l(self):
            return LearnerNamespace(importlib.import_module(f"d2l.{framework}"), symbol, obj)

    return LearnerBackend(framework)


# --- one finding: what differed, on which example, and how to rerun it ------------------

@dataclasses.dataclass
class Finding:
    """One check that did not pass."""

    entry: str
    check: str
    message: str
    example: str | None = None
    expected: str | None = None
    observed: str | None = None
    excess: float | None = None
    snippet: str | None = None

    def lines(self):
        out = [f"{self.entry} ({self.check}): {self.message}"]
        if self.example is not None:
            out += ["  smallest failing input:"] + _indent(self.example, 4)
        for label in ("expected", "observed"):
            if getattr(self, label) is not None:
                out.append(f"  {label}: " + getattr(self, label).replace("\n", "\n" + " " * 12))
        if self.snippet is not None:
            out += ["  reproduce (where your code is defined):"] + _indent(self.snippet, 4)
        return out


def _indent(text, n):
    return [" " * n + line for line in text.splitlines()]


@dataclasses.dataclass
class VerifyResult:
    """The verdict on one learner object: truthy when it passes. `checks` maps each check
    ('<entry> (<kind>)') to whether it counts for the verdict; `failures` are the counted
    checks that failed, `advice` the others."""

    name: str
    symbol: str
    framework: str
    strict: bool
    checks: dict
    failures: list
    advice: list

    @property
    def passed(self):
        return not self.failures

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return (f"<VerifyResult {self.name} as {self.symbol} [{self.framework}]: "
                f"{'pass' if self.passed else 'FAIL'}>")

    def report(self):
        """The verdict as text: PASS/FAIL, what failed, then the advice."""
        counted = sum(self.checks.values())
        lines = [f"{'PASS' if self.passed else 'FAIL'}: {self.name} as {self.symbol} "
                 f"[{self.framework}]{' (strict)' if self.strict else ''}: "
                 f"{counted - len(self.failures)} of {counted} checks passed"]
        for finding in self.failures:
            lines += ["FAILED " + line if i == 0 else line
                      for i, line in enumerate(finding.lines())]
        if self.advice:
            extra = len(self.checks) - counted
            lines.append(f"advice: {len(self.advice)} of {extra} checks beyond the book's "
                         f"exercises failed (they count with strict=True / --strict):")
            for finding in self.advice:
                lines += _indent("\n".join(finding.lines()), 2)
        return "\n".join(lines)

    def to_dict(self):
        failed = {f"{f.entry} ({f.check})" for f in self.failures + self.advice}
        checks = [{"check": label, "counted": counted, "passed": label not in failed}
                  for label, counted in self.checks.items()]
        return {"name": self.name, "symbol": self.symbol, "framework": self.framework,
                "strict": self.strict, "passed": self.passed, "checks": checks,
                "failures": [dataclasses.asdict(f) for f in self.failures],
                "advice": [dataclasses.asdict(f) for f in self.advice]}


# --- rendering values as Python source -----------------------------------------------------

def source(value):
    """Python source that rebuilds `value` (NumPy arrays and scalars, numbers, strings, None,
    and lists/tuples/dicts of these) given `import numpy as np`, on one line."""
    if isinstance(value, np.ndarray):
        dtype = f"np.{value.dtype.name}" if value.dtype.kind != "U" else "str"
        if value.size == 0:
            return f"np.zeros({value.shape}, dtype={dtype})"
        with np.printoptions(threshold=sys.maxsize, floatmode="unique",
                             nanstr="np.nan", infstr="np.inf"):
            body = np.array2string(value, separator=", ")
        body = re.sub(r"\[ +", "[", " ".join(body.split()))
        body = body.replace(" ,", ",").replace(" ]", "]")
        return f"np.array({body}, dtype={dtype})"
    if isinstance(value, np.generic):
        return f"np.{value.dtype.name}({source(value.item())})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{source(k)}: {source(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(source(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(source(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _show(value):
    """An observation as text (arrays in full, floats as NumPy prints them)."""
    with np.printoptions(threshold=sys.maxsize, floatmode="unique", linewidth=88):
        return repr(value)


def _raised(error):
    """'Type: message' of an exception on one line (framework tracebacks left out)."""
    lines = [line.strip() for line in str(error).splitlines()]
    lines = [line for line in lines if line and not line.startswith(("Traceback", "File "))]
    message = lines[0] if lines else ""
    name = type(error).__name__
    return name + (": " + message.removeprefix(name + ": ") if message else "")


def _arg_names(entry, args):
    """Names of the drawn arguments: the parameters of the entry's `call` after the backend."""
    params = list(inspect.signature(entry.call).parameters)[1:]
    return params if len(params) == len(args) else [f"arg{i}" for i in range(len(args))]


def _assignments(entry, args):
    return "\n".join(f"{n} = {source(a)}" for n, a in zip(_arg_names(entry, args), args))


def _snippet(fn_name, entry, args):
    """Code that reruns one example: assignments of the arguments, then d2l.verify."""
    names = _arg_names(entry, args)
    body = _assignments(entry, args)
    call = (f'd2l.verify({fn_name}, "{entry.name}", '
            f'example=({", ".join(names)}{"," if len(names) == 1 else ""}))')
    return "\n".join((["import numpy as np"] if "np." in body else []) + [body, call])


# --- the checks ----------------------------------------------------------------------------

def _difference(observed, expected, tol):
    """(message, excess): how far `observed` is from `expected` under `tol`; excess None
    when they differ in kind (shape, structure, strings, NaN places)."""
    entry_module = spec_module("entry")
    if entry_module.max_error(observed, expected) == math.inf:
        shapes = [np.shape(v) if isinstance(v, np.ndarray) else None
                  for v in (observed, expected)]
        detail = (f": shape {shapes[0]} where {shapes[1]} is expected"
                  if None not in shapes and shapes[0] != shapes[1] else "")
        return f"differs from the expected value in kind{detail}", None
    ratio = entry_module.excess(observed, expected, tol)
    error = entry_module.max_error(observed, expected)
    return (f"largest error {error:.3g} is {ratio:.3g} times what the tolerance allows "
            f"(|observed - expected| <= {tol.atol:g} + {tol.rtol:g} * |expected|)", ratio)


def _compare(observed, expected, tol):
    """None when `observed` is within `tol` of `expected`, else what a Finding shows."""
    message, ratio = _difference(observed, expected, tol)
    if ratio is not None and ratio <= 1.0:
        return None
    return {"message": message, "expected": _show(expected), "observed": _show(observed),
            "excess": ratio}


def mismatch(entry, backend, args):
    """None when the backend does with `args` what the spec says (the reference's value, or
    the error it declares); else what a Finding shows."""
    entry_module = spec_module("entry")
    kind, expected = entry_module.expected_outcome(entry, args)
    passed = copy.deepcopy(args)
    try:
        observed = entry.call(backend, *passed)
    except Exception as error:  # noqa: BLE001  (whatever the learner's code raises)
        observed, raised = None, error
    else:
        raised = None
    if not entry_module.unchanged(passed, args):
        changed = [n for n, a, p in zip(_arg_names(entry, args), args, passed)
                   if not entry_module.unchanged([p], [a])]
        return {"message": f"modified its argument {', '.join(changed)} in place"}
    if raised is not None:
        if kind == "error":
            try:
                entry_module.check_rejection(entry, raised, expected)
            except AssertionError as wrong:
                return {"message": str(wrong), "observed": _raised(raised)}
            return None
        if isinstance(raised, ModifiedInPlace):
            return {"message": str(raised)}
        return {"message": f"raised {type(raised).__name__}", "observed": _raised(raised),
                "expected": _show(expected)}
    if kind == "error":
        return {"message": f"returned a value where the spec expects "
                           f"{expected.error.__name__} naming {expected.argument!r}",
                "observed": _show(observed)}
    return _compare(observed, expected, entry.tol)


def _settings(max_examples):
    from hypothesis import HealthCheck, Phase, settings

    return settings(max_examples=max_examples, derandomize=True, database=None,
                    deadline=None, suppress_health_check=list(HealthCheck),
                    phases=(Phase.explicit, Phase.generate, Phase.shrink),
                    report_multiple_bugs=False, print_blob=False)


def smallest_failure(entry, backend, strategy, max_examples):
    """The smallest drawn arguments on which the backend fails the entry (hypothesis
    `find`: derandomized, shrunk), or None when all `max_examples` pass."""
    from hypothesis import find
    from hypothesis.errors import NoSuchExample

    try:
        return find(strategy, lambda args: mismatch(entry, backend, args) is not None,
                    settings=_settings(max_examples))
    except NoSuchExample:
        return None


class _Run:
    """Runs the checks of one learner object and collects what failed."""

    def __init__(self, obj, name, framework, max_examples, strict):
        self.symbol = spec_package().symbol(entries_for(name)[0])
        self.fn_name = getattr(obj, "__name__", "")
        if not self.fn_name.isidentifier():
            self.fn_name = "your_function"
        self.backend = learner_backend(framework, self.symbol, obj)
        self.max_examples, self.strict = max_examples, strict
        self.checks, self.failures, self.advice = {}, [], []

    def add(self, entry, check, counted, found):
        """Record a check (counted for the verdict or advice) and what it found (None:
        passed); returns whether it passed."""
        label = f"{entry.name} ({check})"
        self.checks[label] = counted or self.strict
        if found is not None:
            finding = Finding(entry.name, check, **found)
            (self.failures if self.checks[label] else self.advice).append(finding)
        return found is None

    def on_draws(self, entry, check, strategy, counted):
        args = smallest_failure(entry, self.backend, strategy, self.max_examples)
        found = None
        if args is not None:
            found = mismatch(entry, self.backend, args) or {
                "message": "failed once, passed when rerun (the result is not deterministic)"}
            found["message"] = f"on {self.max_examples} drawn inputs, {found['message']}"
            found["example"] = _assignments(entry, args)
            found["snippet"] = _snippet(self.fn_name, entry, args)
        return self.add(entry, check, counted, found)

    def on_example(self, entry, args):
        self.add(entry, "example", True, mismatch(entry, self.backend, args))

    def probe(self, entry):
        try:
            observed = entry.probe(self.backend)
        except Exception as error:  # noqa: BLE001  (whatever the learner's code raises)
            found = {"message": f"raised {type(error).__name__}", "observed": _raised(error)}
        else:
            found = _compare(observed, entry.expect(), entry.tol)
        if found is not None:
            found["snippet"] = f'd2l.verify({self.fn_name}, "{entry.name}")'
        self.add(entry, "probe", entry.book, found)

    def reject(self, entry, reject):
        fn = getattr(self.backend.d2l, self.symbol)
        expected = f"{reject.error.__name__} naming {reject.match!r}"
        try:
            _snapshot(fn(*reject.args(self.backend), **reject.kwargs(self.backend)))
            found = {"message": f"returned a value where the spec expects {expected}"}
        except Exception as error:  # noqa: BLE001  (whatever the learner's code raises)
            names = spec_module("entry").names
            found = None if isinstance(error, reject.error) and names(
                str(error), reject.match) else {"message": f"the spec expects {expected}",
                                                "observed": _raised(error)}
        self.add(entry, f"rejects {reject.why}", False, found)


def check(obj, name, framework, *, max_examples=100, strict=False, example=None):
    """The VerifyResult of `obj` (a learner's function or class) checked as the saved
    symbol or spec entry `name` in `framework`, without printing. With `example` (the
    arguments a failure's snippet shows), only that example is checked."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"verify: framework must be one of {FRAMEWORKS}, got {framework!r}")
    run = _Run(obj, name, framework, max_examples, strict)
    for entry in entries_for(name):
        if example is not None:
            if entry.reference is not None:
                run.on_example(entry, tuple(example))
            continue
        if entry.reference is not None and entry.inputs is not None:
            passed = run.on_draws(entry, "reference", (entry.book_inputs or entry.inputs)(),
                                  True)
            if entry.book_inputs is not None and passed:
                run.on_draws(entry, "beyond the book's range", entry.inputs(), False)
        edges = entry.safe_edges or entry.edges
        if edges is not None:
            run.on_draws(entry, "edge cases", edges(), False)
        if entry.probe is not None and entry.expect is not None:
            run.probe(entry)
        for reject in entry.rejects:
            run.reject(entry, reject)
    if example is not None and not run.checks:
        raise ValueError(f"verify: {name!r} has no NumPy reference to run an example on")
    return VerifyResult(run.fn_name, name, framework, strict, run.checks, run.failures,
                        run.advice)


def verify(obj, name, framework, *, max_examples=100, strict=False, example=None):
    """Check `obj` against the spec of `name` (see `check`), print the verdict and return
    the VerifyResult (truthy on pass, so `assert d2l.verify(...)` works in a cell)."""
    result = check(obj, name, framework, max_examples=max_examples, strict=strict,
                   example=example)
    print(result.report())
    return result


def for_framework(framework):
    """`verify` bound to one framework: `d2l.<framework>.verify(obj, name, ...)`."""
    bound = functools.partial(verify, framework=framework)
    functools.update_wrapper(bound, verify)
    return bound
