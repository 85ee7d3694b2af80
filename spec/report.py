"""Print the cross-framework agreement table of every spec entry; write it as a web page with
a heatmap.

    python -m spec.report [--examples N] [--only NAME ...] [--out DIR]

For each entry and each installed framework: `ok` when the backend matches the spec
(NumPy reference on N hypothesis-drawn inputs, derandomized, or the probe's expected value),
`FAIL` when it does not, `missing` when the backend lacks the symbol, `error: <type>` when it
raised. The numbers: the largest absolute error against the spec over the frameworks, that
error divided by the entry's tolerance (element by element, `spec.entry.excess`; above 1
fails), and for each pair of frameworks (M-P: MXNet and PyTorch, M-T, P-T) the largest
absolute difference on the same inputs; `-` where nothing was compared (a framework absent
or raising, or random draws, which differ by design).

`DIR` (default `agreement/`) receives `index.html`, a self-contained page (inline CSS and
SVG, no network) with every figure per framework and pair, and `heatmap.svg`: one row per
entry, columns vs spec, M-P, M-T, P-T, coloured by error / tolerance (grey: not applicable).
Exits with status 1 if any cell is not `ok`.
"""

import argparse
import contextlib
import html
import io
import itertools
import math
import os
import sys

from hypothesis import HealthCheck, given, settings

from . import ENTRIES, backends, symbol
from .entry import excess, max_error

RANDOM = {"normal", "rand", "synthetic_data"}  # draws differ by design across frameworks
PAIRS = tuple(itertools.combinations(backends.ORDER, 2))
PAIR_LABELS = ("M-P", "M-T", "P-T")
HEAT_COLUMNS = ("vs spec", *PAIR_LABELS)
UNCHECKED = object()  # what a probe without `expect` is compared with: nothing
GREY = "#cccccc"


class Comparison:
    """The largest absolute error and error / tolerance over the comparisons recorded (None
    before the first)."""

    def __init__(self):
        self.error = self.ratio = None

    def record(self, observed, expected, tol):
        self.error = max(self.error or 0.0, max_error(observed, expected))
        self.ratio = max(self.ratio or 0.0, excess(observed, expected, tol))


class Cell(Comparison):
    """One framework on one entry: its status and its comparison with the spec."""

    def __init__(self):
        super().__init__()
        self.status = "ok"

    def record(self, observed, expected, tol):
        super().record(observed, expected, tol)
        if self.ratio > 1:
            self.status = "FAIL"

    def fail(self, exc):
        self.status = f"error: {type(exc).__name__}"


class Row:
    """An entry's results: `cells` per framework that ran, `pairs` per pair of them."""

    def __init__(self, entry, names):
        self.entry, self.cells = entry, {n: Cell() for n in names}
        self.pairs = {} if entry.name in RANDOM else {
            pair: Comparison() for pair in PAIRS if set(pair) <= set(names)}

    def status(self, name):
        return self.cells[name].status if name in self.cells else "n/a"

    def worst(self, attribute):
        """The largest error or ratio vs the spec over the frameworks (None: none compared)."""
        values = [getattr(c, attribute) for c in self.cells.values()]
        return max((v for v in values if v is not None), default=None)

    def pair(self, pair):
        return self.pairs.get(pair, Comparison())

    def heat(self):
        """Error / tolerance for the heatmap's columns: vs spec (inf when a framework is
        missing or raised), then each pair; None where not applicable."""
        broken = any(c.status not in ("ok", "FAIL") for c in self.cells.values())
        return [math.inf if broken else self.worst("ratio"),
                *(self.pair(p).ratio for p in PAIRS)]


def _check_entry(entry, active, examples):
    row = Row(entry, [b.name for b in active])
    cells = row.cells

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
            if expected is not UNCHECKED:
                cells[b.name].record(observed[b.name], expected, entry.tol)
        for (a, c), comparison in row.pairs.items():
            if a in observed and c in observed:
                comparison.record(observed[a], observed[c], entry.tol)

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
        run_once(UNCHECKED if entry.expect is None else entry.expect(), entry.probe)
    return row


def _has_symbol(backend, name):
    if name.startswith("DATA_HUB["):
        return name[len("DATA_HUB['"):-2] in backend.d2l.DATA_HUB
    return hasattr(backend.d2l, name)


def fmt_error(value):
    return "-" if value is None else f"{value:.2e}"


def fmt_ratio(value):
    return "-" if value is None else f"{value:.3g}"


TABLE_HEADER = ["symbol", "section", *backends.ORDER, "max err vs spec", "err/tol",
                *(f"{label} diff" for label in PAIR_LABELS)]


def table_row(row):
    return [row.entry.name, row.entry.section, *map(row.status, backends.ORDER),
            fmt_error(row.worst("error")), fmt_ratio(row.worst("ratio")),
            *(fmt_error(row.pair(p).error) for p in PAIRS)]


def format_table(rows):
    lines = [TABLE_HEADER, *map(table_row, rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(TABLE_HEADER))]
    lines.insert(1, ["-" * w for w in widths])
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
                     for line in lines)


def _blend(low, high, t):
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(low, high))


def colour(ratio):
    """Heatmap colour of error / tolerance: green (<= 1e-3) to yellow (1) within tolerance,
    orange (just above 1) to dark red (>= 1e3, inf) beyond it, grey for None."""
    if ratio is None:
        return GREY
    if ratio <= 1:
        t = (math.log10(max(ratio, 1e-3)) + 3) / 3
        return _blend((26, 152, 80), (254, 224, 139), t)
    return _blend((244, 109, 67), (165, 0, 38), min(math.log10(ratio) / 3, 1.0))


def heatmap_svg(rows):
    """An SVG heatmap: one `<g class="row" data-entry=...>` per row with a label and one
    `<rect>` (tooltip: the value) per column of `HEAT_COLUMNS`, then a legend."""
    cell_w, cell_h, top = 64, 14, 24
    left = 8 + 7 * max((len(r.entry.name) for r in rows), default=10)
    height = top + cell_h * len(rows) + 48
    width = max(left + cell_w * len(HEAT_COLUMNS), 520) + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="monospace" font-size="11">']
    for j, label in enumerate(HEAT_COLUMNS):
        out.append(f'<text x="{left + cell_w * j + cell_w / 2}" y="{top - 8}" '
                   f'text-anchor="middle">{label}</text>')
    for i, row in enumerate(rows):
        y = top + cell_h * i
        name = html.escape(row.entry.name)
        out.append(f'<g class="row" data-entry="{name}"><text x="{left - 6}" '
                   f'y="{y + cell_h - 3}" text-anchor="end">{name}</text>')
        for j, (label, value) in enumerate(zip(HEAT_COLUMNS, row.heat())):
            out.append(f'<rect x="{left + cell_w * j}" y="{y}" width="{cell_w - 1}" '
                       f'height="{cell_h - 1}" fill="{colour(value)}"><title>{name}, '
                       f'{label}: error/tol {fmt_ratio(value)}</title></rect>')
        out.append("</g>")
    legend_y = top + cell_h * len(rows) + 16
    out.append(f'<text x="8" y="{legend_y + 10}">error / tolerance:</text>')
    for k, (text, value) in enumerate([("<=1e-3", 1e-3), ("0.1", 0.1), ("1", 1.0),
                                       ("10", 10.0), (">=1e3", 1e3), ("n/a", None)]):
        x = 140 + 60 * k
        out.append(f'<rect x="{x}" y="{legend_y}" width="14" height="14" '
                   f'fill="{colour(value)}"/><text x="{x + 18}" y="{legend_y + 11}">'
                   f'{html.escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out)


PAGE_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
td.name, td.section { text-align: left; font-family: monospace; }
td.ok { color: #1a7f37; } td.bad { color: #b00020; font-weight: bold; } td.na { color: #999; }
"""


def _page_cell(column, text, css="", background=None):
    style = f' style="background:{background}"' if background else ""
    return f'<td class="{css}" data-col="{column}"{style}>{html.escape(text)}</td>'


def _page_row(row):
    cells = [_page_cell("symbol", row.entry.name, "name"),
             _page_cell("section", row.entry.section, "section")]
    for name in backends.ORDER:
        status, cell = row.status(name), row.cells.get(name, Comparison())
        css = {"ok": "ok", "n/a": "na"}.get(status, "bad")
        cells += [_page_cell(f"{name} status", status, css),
                  _page_cell(f"{name} error", fmt_error(cell.error)),
                  _page_cell(f"{name} ratio", fmt_ratio(cell.ratio), "",
                             cell.ratio is not None and colour(cell.ratio))]
    for label, pair in zip(PAIR_LABELS, PAIRS):
        comparison = row.pair(pair)
        cells += [_page_cell(f"{label} error", fmt_error(comparison.error)),
                  _page_cell(f"{label} ratio", fmt_ratio(comparison.ratio), "",
                             comparison.ratio is not None and colour(comparison.ratio))]
    return f'<tr data-entry="{html.escape(row.entry.name)}">{"".join(cells)}</tr>'


def page_html(rows, summary, svg):
    """The self-contained report page: summary, per-framework and pairwise table, heatmap."""
    groups = "".join(f'<th colspan="3">{n}</th>' for n in backends.ORDER) + "".join(
        f'<th colspan="2">{label}</th>' for label in PAIR_LABELS)
    columns = ("<th>symbol</th><th>section</th>"
               + "<th>status</th><th>max abs err</th><th>err/tol</th>" * len(backends.ORDER)
               + "<th>max abs diff</th><th>diff/tol</th>" * len(PAIRS))
    body = "\n".join(map(_page_row, rows))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>d2l agreement report</title><style>{PAGE_STYLE}</style></head><body>\n"
            f"<h1>d2l: agreement of MXNet, PyTorch and TensorFlow with the spec</h1>\n"
            f"<p>{html.escape(summary)}</p>\n<p>err/tol is the largest ratio of an element's "
            f"error to the tolerance the entry allows it (above 1 fails); pairwise columns "
            f"compare two frameworks on the same inputs.</p>\n"
            f"<table><thead><tr><th colspan=\"2\"></th>{groups}</tr><tr>{columns}</tr>"
            f"</thead><tbody>\n{body}\n</tbody></table>\n<h2>Heatmap</h2>\n{svg}\n"
            f"</body></html>\n")


def write_report(rows, summary, out):
    """Write `out/index.html` and `out/heatmap.svg`; returns their paths."""
    os.makedirs(out, exist_ok=True)
    svg = heatmap_svg(rows)
    paths = os.path.join(out, "index.html"), os.path.join(out, "heatmap.svg")
    for path, text in zip(paths, (page_html(rows, summary, svg), svg)):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20,
                        help="hypothesis examples per numeric entry (default 20)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="check only this entry or symbol (repeatable)")
    parser.add_argument("--out", default="agreement",
                        help="folder for index.html and heatmap.svg (default: agreement)")
    args = parser.parse_args(argv)
    entries = ENTRIES
    if args.only:
        known = {e.name for e in ENTRIES} | {symbol(e) for e in ENTRIES}
        unknown = [name for name in args.only if name not in known]
        if unknown:
            parser.error(f"--only: no spec entry or symbol named {', '.join(map(repr, unknown))}")
        entries = [e for e in ENTRIES if e.name in args.only or symbol(e) in args.only]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    active = backends.active()
    rows = []
    for entry in entries:
        with contextlib.redirect_stdout(io.StringIO()):  # probes print download lines
            rows.append(_check_entry(entry, active, args.examples))
        plt.close("all")
    print(format_table(rows))
    bad = sum(row.status(n) not in ("ok", "n/a") for row in rows for n in backends.ORDER)
    versions = ", ".join(f"{b.name} {b.fw.__version__}" for b in active)
    summary = (f"{len(rows)} entries covering {len({symbol(r.entry) for r in rows})} saved "
               f"symbols; frameworks: {versions}; {bad} cells not ok")
    print(f"\n{summary}")
    page, svg = write_report(rows, summary, args.out)
    print(f"wrote {page} and {svg}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
