"""The agreement report (`python -m spec.report`) on a few entries, in this env's frameworks:
the page and the heatmap it writes hold the rows and figures of the printed table."""

import contextlib
import html.parser
import io
import math
import re
import types
import xml.etree.ElementTree as ET

import pytest

from spec import backends, report

CHOSEN = ["squared_loss", "DATA_URL", "sin", "normal"]  # reference, probe, alias, random
SVG = "{http://www.w3.org/2000/svg}"


class _PageRows(html.parser.HTMLParser):
    """`rows[entry][column]`: the text of each `<td data-col=...>` of each `<tr data-entry>`;
    also every `src`/`href` attribute seen."""

    def __init__(self):
        super().__init__()
        self.rows, self.links, self._row, self._col = {}, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [attrs[k] for k in ("src", "href") if k in attrs]
        if tag == "tr" and "data-entry" in attrs:
            self._row = self.rows.setdefault(attrs["data-entry"], {})
        elif tag == "td" and self._row is not None:
            self._col = attrs["data-col"]
            self._row[self._col] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._col = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._col is not None:
            self._row[self._col] += data


def _printed_table(printed):
    """{entry: {column: text}} from the printed table (columns split on 2+ spaces)."""
    lines = printed.split("\n\n")[0].splitlines()
    header = re.split(r"\s{2,}", lines[0])
    assert header == report.TABLE_HEADER
    return {cells[0]: dict(zip(header, cells))
            for cells in (re.split(r"\s{2,}", line) for line in lines[2:])}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("agreement")
    argv = ["--examples", "3", "--out", str(out)]
    for name in CHOSEN:
        argv += ["--only", name]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = report.main(argv)
    return status, printed.getvalue(), out


def _near(fill, ratio):
    """Whether `fill` is the colour of `ratio` (a 3-digit figure), up to its rounding."""
    expected = report.colour(ratio)
    return all(abs(int(fill[i:i + 2], 16) - int(expected[i:i + 2], 16)) <= 2 for i in (1, 3, 5))


def test_printed_summary_and_the_files_it_names(run):
    status, printed, out = run
    names = [b.name for b in backends.active()]
    assert status == 0
    assert f"4 entries covering 4 saved symbols; frameworks: {names[0]} " in printed
    assert printed.endswith(f"; 0 cells not ok\nwrote {out / 'index.html'} and "
                            f"{out / 'heatmap.svg'}\n")


def test_page_has_every_entry_with_the_figures_of_the_printed_table(run):
    _, printed, out = run
    table = _printed_table(printed)
    page = _PageRows()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    assert list(page.rows) == list(table) == CHOSEN
    assert page.links == []  # nothing to fetch: CSS and the heatmap are inline
    active = [b.name for b in backends.active()]
    for name, printed_row in table.items():
        cells = page.rows[name]
        assert cells["symbol"] == name and cells["section"] == printed_row["section"]
        for fw in backends.ORDER:
            assert cells[f"{fw} status"] == printed_row[fw] == ("ok" if fw in active else "n/a")
        errors = [cells[f"{fw} error"] for fw in active]
        ratios = [cells[f"{fw} ratio"] for fw in active]
        assert report.fmt_error(max(map(float, errors))) == printed_row["max err vs spec"]
        assert report.fmt_ratio(max(map(float, ratios))) == printed_row["err/tol"]
        assert all(float(r) <= 1 for r in ratios)
        for label, (a, b) in zip(report.PAIR_LABELS, report.PAIRS):
            compared = name != "normal" and {a, b} <= set(active)
            assert cells[f"{label} error"] == printed_row[f"{label} diff"]
            assert (cells[f"{label} error"] != "-") == compared
            assert (cells[f"{label} ratio"] != "-") == compared


def test_heatmap_svg_has_one_row_per_entry_coloured_by_ratio(run):
    _, _, out = run
    svg = ET.parse(out / "heatmap.svg").getroot()
    assert svg.tag == f"{SVG}svg"
    rows = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "row"]
    assert [g.get("data-entry") for g in rows] == CHOSEN
    page = _PageRows()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    active = [b.name for b in backends.active()]
    for g in rows:
        rects = list(g.iter(f"{SVG}rect"))
        assert len(rects) == len(report.HEAT_COLUMNS)
        cells = page.rows[g.get("data-entry")]
        worst = max((cells[f"{fw} ratio"] for fw in active), key=float)
        figures = [worst] + [cells[f"{label} ratio"] for label in report.PAIR_LABELS]
        for rect, column, figure in zip(rects, report.HEAT_COLUMNS, figures):
            title = rect.find(f"{SVG}title").text
            assert title == f"{g.get('data-entry')}, {column}: error/tol {figure}"
            if figure == "-":
                assert rect.get("fill") == report.GREY
            else:
                assert _near(rect.get("fill"), float(figure)), (title, rect.get("fill"))
    assert "<svg" in (out / "index.html").read_text(encoding="utf-8")


def test_colour_scale():
    assert report.colour(None) == report.GREY
    assert report.colour(0.0) == report.colour(1e-3) == "#1a9850"
    assert report.colour(1.0) == "#fee08b"
    assert report.colour(1.0001).startswith("#f4")  # just beyond the tolerance: orange
    assert report.colour(math.inf) == report.colour(1e3) == "#a50026"


def _broken(*args):
    raise RuntimeError("broken")


def test_a_framework_that_raises_is_an_error_cell_and_red_in_the_heatmap():
    name = backends.active()[0].name

    class Broken(backends.Backend):
        d2l = types.SimpleNamespace(squared_loss=_broken)

    entry = next(e for e in report.ENTRIES if e.name == "squared_loss")
    row = report._check_entry(entry, [Broken(name)], 2)
    assert row.status(name) == "error: RuntimeError"
    assert report.table_row(row)[2:5] == [
        "error: RuntimeError" if fw == name else "n/a" for fw in backends.ORDER]
    assert row.heat() == [math.inf, None, None, None]


def test_unknown_only_name_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        report.main(["--only", "no_such_entry"])
    assert exit_info.value.code == 2
    assert "--only: no spec entry or symbol named 'no_such_entry'" in capsys.readouterr().err
