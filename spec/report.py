"""Print the cross-framework agreement table of every spec entry.

    python -m spec.report [--examples N]

For each entry and each installed framework: `ok` when the backend matches the spec
(NumPy reference on N hypothesis-drawn inputs, derandomized, or the probe's expected value),
`FAIL` when it does not, `missing` when the backend lacks the symbol, `error` when it raised.
The last columns give the largest absolute error against the spec and the largest difference
between two frameworks on the same inputs. Exits with status 1 if any cell is not `ok`.
"""

import argparse
import contextlib
import io
import itertools
import sys

from hypothesis import HealthCheck, given, settings

from . import ENTRIES, backends, symbol
from .entry import max_error, within

RANDOM = {"normal", "rand", "synthetic_data"}  # draws differ by design across frameworks


class _Cell:
    def __init__(self):
        self.status, self.error = "ok", 0.0

    def record(self, observed, expected, tol):
        self.error = max(self.error, max_error(observed, expected))
        if not within(observed, expected, tol):
            self.status = "FAIL"

    def fail(self, exc):
        self.status = f"error: {type(exc).__name__}"


def _check_entry(entry, active, examples):
    cells = {b.name: _Cell() for b in active}
    pairwise = [0.0]

    def run_once(expected, observe):
        observed = {}
        for b in active:
            if cells[b.name].status.startswith("error"):
                continue
            try:
                observed[b.name] = observe(b)
            except Exception as exc:  # noqa: BLE001  (reported in the table)
                cells[b.name].fail(exc)
                continue
            cells[b.name].record(observed[b.name], expected, entry.tol)
        if entry.name not in RANDOM:
            for a, c in itertools.combinations(observed.values(), 2):
                pairwise[0] = max(pairwise[0], max_error(a, c))

    missing = [b.name for b in active if not _has_symbol(b, symbol(entry))]
    for name in missing:
        cells[name].status = "missing"
    present = [b for b in active if b.name not in missing]
    if entry.reference is not None and present:
        @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(entry.inputs())
        def drawn(args):
            run_once(entry.reference(*args), lambda b: entry.call(b, *args))

        drawn()
    if entry.probe is not None and present:
        expected = entry.expect() if entry.expect is not None else None
        run_once(expected, entry.probe) if expected is not None else _probe_only(
            entry, present, cells)
    return cells, pairwise[0]


def _probe_only(entry, present, cells):
    for b in present:
        try:
            entry.probe(b)
        except Exception as exc:  # noqa: BLE001
            cells[b.name].fail(exc)


def _has_symbol(backend, name):
    if name.startswith("DATA_HUB["):
        return name[len("DATA_HUB['"):-2] in backend.d2l.DATA_HUB
    return hasattr(backend.d2l, name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20,
                        help="hypothesis examples per numeric entry (default 20)")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    active = backends.active()
    names = [b.name for b in active]
    header = ["symbol", "section", *backends.ORDER, "max abs err vs spec", "max diff between fws"]
    rows, bad = [], 0
    for entry in ENTRIES:
        with contextlib.redirect_stdout(io.StringIO()):  # probes print download lines
            cells, pairwise = _check_entry(entry, active, args.examples)
        statuses = [cells[n].status if n in names else "n/a" for n in backends.ORDER]
        bad += sum(s not in ("ok", "n/a") for s in statuses)
        worst = max((cells[n].error for n in names), default=0.0)
        rows.append([entry.name, entry.section, *statuses, f"{worst:.2e}",
                     "-" if entry.name in RANDOM else f"{pairwise:.2e}"])
        import matplotlib.pyplot as plt

        plt.close("all")
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths]] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    symbols = len({symbol(e) for e in ENTRIES})
    print(f"\n{len(rows)} entries covering {symbols} saved symbols; frameworks: "
          f"{', '.join(names)}; {bad} cells not ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
